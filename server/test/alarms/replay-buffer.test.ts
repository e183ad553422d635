import { type AlarmSample, createRuleSet, type RuleSet } from '@gaswatch/shared';
import { describe, expect, it } from 'vitest';
import { createReplayBuffer, REPLAY_MAX_SAMPLES, REPLAY_WINDOW_MS } from '../../src/alarms/replay-buffer.js';

/** Feeds `n` samples `everyMs` apart through the rules and the buffer, as the engine does. */
function run(n: number, everyMs: number) {
  const rules = createRuleSet('en50291') as RuleSet<unknown>;
  const device = {
    state: rules.initial(),
    lastTs: Number.NEGATIVE_INFINITY,
    raisedAt: new Map<string, number>(),
  };
  const buffer = createReplayBuffer(device);
  buffer.reset();
  const t0 = Date.parse('2026-12-01T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const sample: AlarmSample = { ts: t0 + i * everyMs, values: { CO: 5 }, status: 'ok' };
    const step = rules.step(device.state, sample);
    device.state = step.state;
    device.lastTs = sample.ts;
    buffer.remember(rules, sample, step);
  }
  return { rules, buffer, device, t0 };
}

describe('replay buffer memory (issue 18)', () => {
  it('a device reporting once a minute holds its 15-minute window, not the samples behind it', () => {
    const { buffer } = run(500, 60_000);
    expect(buffer.held()).toBeLessThanOrEqual(REPLAY_WINDOW_MS / 60_000 + 1);
  });

  it('a device reporting every second stays within the sample cap plus two checkpoint spacings', () => {
    const { buffer } = run(2_000, 1_000);
    expect(buffer.held()).toBeLessThanOrEqual(REPLAY_MAX_SAMPLES + 64);
  });

  it('still replays a late reading of a once-a-minute device in place', () => {
    const { rules, buffer, device, t0 } = run(500, 60_000);
    const late: AlarmSample = { ts: t0 + 495 * 60_000 + 30_000, values: { CO: 5 }, status: 'ok' };
    const out = buffer.replay(rules, late, (state) => {
      device.state = state;
    });
    expect(out.kind).toBe('replayed');
  });
});

describe('replay buffer keeps what each sample said (issue 18: samples kept as times and shared bodies)', () => {
  it('a late reading replayed before a kept fault report leaves the fault alarm raised', () => {
    const { rules, buffer, device, t0 } = run(10, 60_000);
    // The detector reports its sensor at end of life with the next reading: the fault is raised.
    const eol: AlarmSample = {
      ts: t0 + 10 * 60_000,
      values: { CO: 5 },
      status: 'ok',
      faults: ['sensor_eol'],
    };
    const step = rules.step(device.state, eol);
    device.state = step.state;
    device.lastTs = eol.ts;
    buffer.remember(rules, eol, step);
    expect(step.active.map((c) => c.key)).toContain('fault');

    // A resend of the reading before it arrives late: replayed in place, the kept fault report
    // after it must still say "fault", or the replay would clear the alarm.
    const late: AlarmSample = { ts: t0 + 9 * 60_000 + 30_000, values: { CO: 5 }, status: 'ok' };
    const out = buffer.replay(rules, late, (state) => {
      device.state = state;
    });
    expect(out.kind).toBe('replayed');
    if (out.kind !== 'replayed') return;
    expect(out.steps.map((s) => s.ts)).toEqual([late.ts, eol.ts]);
    expect(out.steps.at(-1)?.step.active.map((c) => c.key)).toContain('fault');
  });

  it('samples that read the same in many devices replay with their own times and values', () => {
    const a = run(20, 60_000);
    const b = run(20, 60_000);
    const late: AlarmSample = { ts: a.t0 + 19 * 60_000 - 1, values: { CO: 5 }, status: 'fault' };
    const outA = a.buffer.replay(a.rules, late, () => {});
    const outB = b.buffer.replay(b.rules, { ...late, status: 'ok' }, () => {});
    expect(outA.kind).toBe('replayed');
    expect(outB.kind).toBe('replayed');
    if (outA.kind !== 'replayed' || outB.kind !== 'replayed') return;
    // The late fault report raises the fault in A only; the kept sample after it (ok) clears it.
    expect(outA.steps.map((s) => s.step.events.map((e) => e.type))).toEqual([['raised'], ['cleared']]);
    expect(outB.steps.map((s) => s.step.events)).toEqual([[], []]);
    expect(outA.steps.map((s) => s.ts)).toEqual([late.ts, a.t0 + 19 * 60_000]);
  });
});

describe('replay from a buffer with and without checkpoints (issue 18: none kept for a sparse device)', () => {
  for (const [what, n, everyMs] of [
    ['once a minute (no checkpoints)', 200, 60_000],
    ['every second (checkpoints every 32 samples)', 500, 1_000],
  ] as const) {
    it(`${what}: a late reading leaves the same rule state and alarms as the readings in order`, () => {
      const rules = createRuleSet('en50291') as RuleSet<unknown>;
      const t0 = Date.parse('2026-12-01T00:00:00Z');
      // Rising CO, so the dose alarm is raised inside the replayed span.
      const at = (i: number): AlarmSample => ({
        ts: t0 + i * everyMs,
        values: { CO: 20 + i * (everyMs / 1_000) * 0.05 },
        status: 'ok',
      });
      const lateIndex = n - 5;
      const late: AlarmSample = { ts: at(lateIndex).ts - everyMs / 2, values: { CO: 300 }, status: 'ok' };

      const device = {
        state: rules.initial(),
        lastTs: Number.NEGATIVE_INFINITY,
        raisedAt: new Map<string, number>(),
      };
      const buffer = createReplayBuffer(device);
      buffer.reset();
      for (let i = 0; i < n; i++) {
        const step = rules.step(device.state, at(i));
        device.state = step.state;
        device.lastTs = at(i).ts;
        buffer.remember(rules, at(i), step);
      }
      let replayedActive: string[] = [];
      const out = buffer.replay(rules, late, (state) => {
        device.state = state;
      });
      expect(out.kind).toBe('replayed');
      if (out.kind === 'replayed') replayedActive = (out.steps.at(-1)?.step.active ?? []).map((c) => c.key);

      let inOrder = rules.initial();
      let inOrderActive: string[] = [];
      const all = [...Array.from({ length: n }, (_, i) => at(i)), late].sort((a, b) => a.ts - b.ts);
      for (const x of all) {
        const step = rules.step(inOrder, x);
        inOrder = step.state;
        inOrderActive = step.active.map((c) => c.key);
      }
      expect(device.state).toEqual(inOrder);
      expect(replayedActive).toEqual(inOrderActive);
    });
  }
});

describe('replay buffer of a detector that reads the same most of the time (issue 18: one body kept for a run)', () => {
  it('late readings among runs of the same reading and odd ones leave the state of the readings in order', () => {
    const rules = createRuleSet('en50291') as RuleSet<unknown>;
    const t0 = Date.parse('2026-12-01T00:00:00Z');
    // Clean air, with an episode of 150 ppm now and then and a fault report once: the buffer
    // switches between one shared body and one per sample as they enter and leave the window.
    const at = (i: number): AlarmSample => ({
      ts: t0 + i * 60_000,
      values: { CO: i % 40 >= 30 && i % 40 < 34 ? 150 : 0 },
      status: 'ok',
      ...(i === 75 ? { faults: ['sensor_eol'] } : {}),
    });
    const device = {
      state: rules.initial(),
      lastTs: Number.NEGATIVE_INFINITY,
      raisedAt: new Map<string, number>(),
    };
    const buffer = createReplayBuffer(device);
    buffer.reset();
    const all: AlarmSample[] = [];
    let raisedInReplay = 0;
    for (let i = 0; i < 200; i++) {
      const s = at(i);
      const step = rules.step(device.state, s);
      device.state = step.state;
      device.lastTs = s.ts;
      buffer.remember(rules, s, step);
      all.push(s);
      if (i % 9 === 8) {
        // A resend from a few minutes back, reading 300 ppm, every other one a fault report.
        const late: AlarmSample = {
          ts: s.ts - (1 + (i % 5)) * 60_000 - 30_000,
          values: { CO: 300 },
          status: i % 18 === 8 ? 'fault' : 'ok',
        };
        const out = buffer.replay(rules, late, (state) => {
          device.state = state;
        });
        expect(out.kind).toBe('replayed');
        if (out.kind === 'replayed')
          raisedInReplay += out.steps.flatMap((x) => x.step.events).filter((e) => e.type === 'raised').length;
        all.push(late);
      }
    }
    let inOrder = rules.initial();
    for (const x of [...all].sort((a, b) => a.ts - b.ts)) inOrder = rules.step(inOrder, x).state;
    expect(device.state).toEqual(inOrder);
    expect(raisedInReplay).toBeGreaterThan(0);
  });
});
