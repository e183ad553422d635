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
