import { describe, expect, it } from 'vitest';
import { createRuleSet, THRESHOLD_IDLE, type ThresholdSpec, thresholdStep } from '../../src/index.js';
import { feed, T0 } from './helpers.js';

/** Runs values at times (s after T0) through one threshold; returns [t, change] for each change. */
function run(spec: ThresholdSpec, points: [number, number][], restartAt: number[] = []): [number, string][] {
  let state = THRESHOLD_IDLE;
  const out: [number, string][] = [];
  for (const [t, v] of points) {
    const r = thresholdStep(state, v, T0 + t * 1000, spec, restartAt.includes(t));
    state = r.state;
    if (r.change) out.push([t, r.change]);
  }
  return out;
}

describe('thresholdStep', () => {
  const high: ThresholdSpec = { setPoint: 25, op: '>=', band: 2.5, onDelayMs: 0 };

  it('raises at the set point and clears only below set point − band', () => {
    const changes = run(high, [
      [0, 24.9], // below
      [1, 25], // ≥ 25: raised
      [2, 23], // inside the band: still active
      [3, 22.5], // not below 22.5: still active
      [4, 22.4], // below 22.5: cleared
      [5, 24], // inside the band but not active: no new alarm
      [6, 26], // raised again
    ]);
    expect(changes).toEqual([
      [1, 'raised'],
      [4, 'cleared'],
      [6, 'raised'],
    ]);
  });

  it('O2-style low set point: raise below, clear above set point + band; strict comparison', () => {
    const low: ThresholdSpec = { setPoint: 19.5, op: '<', band: 0.14, onDelayMs: 0 };
    const changes = run(low, [
      [0, 20.9],
      [1, 19.5], // not < 19.5
      [2, 19.4], // raised
      [3, 19.6], // below 19.64: still active
      [4, 19.64], // clears at ≥ 19.64
    ]);
    expect(changes).toEqual([
      [2, 'raised'],
      [4, 'cleared'],
    ]);
  });

  it('on-delay: the level must hold through every sample for the delay, irregular samples', () => {
    const spec = { ...high, onDelayMs: 30_000 };
    const changes = run(spec, [
      [0, 30], // pending since 0
      [10, 30],
      [20, 20], // dropped below the set point: pending reset
      [25, 30], // pending since 25
      [50, 31], // 25 s held
      [54, 26], // 29 s held
      [55, 27], // 30 s held: raised
      [70, 10], // cleared (no off-delay)
    ]);
    expect(changes).toEqual([
      [55, 'raised'],
      [70, 'cleared'],
    ]);
  });

  it('a running on-delay survives samples inside the band and restarts only across the clear level', () => {
    const spec = { ...high, onDelayMs: 30_000 }; // set point 25, clear level 22.5
    expect(
      run(spec, [
        [0, 26], // pending since 0
        [10, 24], // inside the band: still pending since 0
        [20, 22.5], // at the clear level (not below): still pending
        [25, 24.9],
        [30, 23], // 30 s held on the alarm side of the clear level: raised
      ]),
    ).toEqual([[30, 'raised']]);
    expect(
      run(spec, [
        [0, 26],
        [10, 22.4], // below the clear level: the on-delay is cancelled
        [15, 24], // inside the band starts nothing
        [20, 26], // pending since 20
        [45, 26],
        [50, 25], // 30 s: raised
      ]),
    ).toEqual([[50, 'raised']]);
  });

  it('a gap cancels a running on-delay even when the value after it is inside the band', () => {
    const spec = { ...high, onDelayMs: 30_000 };
    expect(
      run(
        spec,
        [
          [0, 30],
          [20, 30],
          [40, 24], // after a gap, inside the band: cancelled
          [50, 30], // pending since 50
          [70, 30],
          [80, 30],
        ],
        [40],
      ),
    ).toEqual([[80, 'raised']]);
  });

  it('on-delay restarts after a data gap (nobody saw the level hold)', () => {
    const spec = { ...high, onDelayMs: 30_000 };
    expect(
      run(
        spec,
        [
          [0, 30],
          [20, 30],
          [40, 30], // after a gap: pending since 40, not 0
          [60, 30],
          [70, 30],
        ],
        [40],
      ),
    ).toEqual([[70, 'raised']]);
  });

  it('returns the same state object when nothing changes (cheap for callers to compare)', () => {
    const r1 = thresholdStep(THRESHOLD_IDLE, 1, T0, high);
    expect(r1.state).toBe(THRESHOLD_IDLE);
    expect(r1.change).toBeNull();
  });
});

describe('hysteresis and on-delay through a rule set', () => {
  it('honours a hysteresis fraction, an absolute band by key, and on-delay by key', () => {
    const rs = createRuleSet('combustible', {
      hysteresis: 0.2, // LEL:low 25 → clears below 20
      bands: { 'LEL:high': 1 }, // LEL:high 50 → clears below 49
      onDelays: { 'LEL:high': 10 },
    });
    const lel = [
      [0, 26], // LEL:low raised
      [5, 21], // LEL:low stays (≥ 20)
      [6, 55], // LEL:high pending
      [15, 55], // 9 s held
      [16, 55], // 10 s held: LEL:high raised
      [20, 49.5], // stays (≥ 49)
      [21, 48.9], // LEL:high cleared
      [22, 19.9], // LEL:low cleared
    ] as const;
    const { events } = feed(
      rs,
      lel.map(([t, v]) => ({ ts: T0 + t * 1000, values: { LEL: v }, status: 'ok' as const })),
    );
    expect(events.map((e) => [(e.ts - T0) / 1000, e.type, e.condition.key])).toEqual([
      [0, 'raised', 'LEL:low'],
      [16, 'raised', 'LEL:high'],
      [21, 'cleared', 'LEL:high'],
      [22, 'cleared', 'LEL:low'],
    ]);
  });

  it('a global onDelayS applies to level alarms but not to the dose', () => {
    const rs = createRuleSet('en50291', { onDelayS: 60 });
    const fast = rs.conditions.find((c) => c.key === 'CO:fast');
    const dose = rs.conditions.find((c) => c.key === 'CO:dose');
    // The fast tier keeps its own 120-s hold (it is a property of the standard, not a delay).
    expect(fast?.onDelayMs).toBe(120_000);
    expect(dose?.onDelayMs).toBe(0);
    const cs = createRuleSet('confined-space', { onDelayS: 60 });
    expect(cs.conditions.find((c) => c.key === 'H2S:low')?.onDelayMs).toBe(60_000);
    expect(cs.conditions.find((c) => c.key === 'CO:stel')?.onDelayMs).toBe(0);
  });
});
