import { prng } from '@gaswatch/shared/testing';
import { describe, expect, it } from 'vitest';
import { createRuleSet, doseStep, doseTimeToReach, timeToAlarmAtConstant } from '../../src/index.js';
import { feed, firstRaise, HOUR, MIN, SAMPLING_MS, T0 } from './helpers.js';

// SPEC §6 windows: [ppm, earliest alarm (min), latest alarm (min)]; no-alarm points as
// [ppm, minutes during which the alarm must stay silent].
type Window = readonly [ppm: number, lo: number, hi: number];
const UL2034_MUST_ALARM: readonly Window[] = [
  [70, 60, 240],
  [150, 10, 50],
  [400, 4, 15],
];
const EN50291_MUST_ALARM: readonly Window[] = [
  [50, 60, 90],
  [100, 10, 40],
  [300, 0, 3],
];

describe('doseStep (exact exponential integration)', () => {
  it('gives the same dose for one long step as for many short ones', () => {
    // 60 min of 100 ppm: one step vs 3600 one-second steps vs irregular steps.
    const one = doseStep(0, 100, 60 * MIN, 90);
    let many = 0;
    for (let i = 0; i < 3600; i++) many = doseStep(many, 100, 1000, 90);
    let irregular = 0;
    const steps = [7_000, 13_000, 1_000, 59_000, 600_000];
    let t = 0;
    for (let i = 0; t < 60 * MIN; i++) {
      const dt = Math.min(steps[i % steps.length]!, 60 * MIN - t);
      irregular = doseStep(irregular, 100, dt, 90);
      t += dt;
    }
    // 100·(1 − e^(−60/90)) = 100·(1 − 0.513417) = 48.6583 ppm
    expect(one).toBeCloseTo(48.6583, 4);
    expect(many).toBeCloseTo(one, 9);
    expect(irregular).toBeCloseTo(one, 9);
  });

  it('decays towards a lower concentration and ignores non-positive intervals', () => {
    // From 60 ppm in clean air for τ = 45 min: 60·e^(−1) = 22.0728
    expect(doseStep(60, 0, 45 * MIN, 45)).toBeCloseTo(22.0728, 4);
    expect(doseStep(12, 400, 0, 90)).toBe(12);
    expect(doseStep(12, 400, -5, 90)).toBe(12);
  });

  it('closed form: τ·ln(C/(C − S))', () => {
    // 70 ppm, UL 2034: 90·ln(70/25) = 90·1.029619 = 92.666 min
    expect(doseTimeToReach(45, 70, 90) / MIN).toBeCloseTo(92.666, 2);
    expect(doseTimeToReach(45, 45, 90)).toBe(Number.POSITIVE_INFINITY);
    expect(doseTimeToReach(45, 30, 90)).toBe(Number.POSITIVE_INFINITY);
    expect(doseTimeToReach(45, 30, 90, 50)).toBe(0);
  });
});

describe.each([
  ['ul2034', UL2034_MUST_ALARM],
  ['en50291', EN50291_MUST_ALARM],
] as const)('%s: the standard alarm windows', (profile, windows) => {
  describe.each(windows)('constant %i ppm', (ppm, lo, hi) => {
    const closed = timeToAlarmAtConstant(profile, ppm);

    it(`the closed-form alarm time is inside ${lo}–${hi} min`, () => {
      expect(closed).toBeGreaterThanOrEqual(lo * MIN);
      expect(closed).toBeLessThanOrEqual(hi * MIN);
    });

    it.each(SAMPLING_MS)(
      'sampled every %i ms, alarms at the first sample at or after the closed form',
      (every) => {
        const r = firstRaise(profile, ppm, every, hi * MIN + 2 * every);
        expect(r).not.toBeNull();
        expect(r!.t).toBeGreaterThanOrEqual(lo * MIN);
        expect(r!.t).toBeLessThanOrEqual(hi * MIN);
        // Independent of the sampling rate: the raise is the first sample at or after the exact time
        // (allowing 1 µs of floating-point rounding at an exact grid hit).
        expect(r!.t).toBeGreaterThanOrEqual(closed - 0.001);
        expect(r!.t).toBeLessThan(closed + every);
        expect(r!.message).toMatch(/^CO /);
      },
    );
  });
});

describe('closed-form alarm times at the standard points (hand-computed)', () => {
  // t = τ·ln(C/(C − S)):
  //   UL 2034 (τ 90, S 45):  70 → 90·ln(70/25) = 92.666;  150 → 90·ln(150/105) = 32.101;
  //                          400 → 90·ln(400/355) = 10.741 min
  //   EN 50291 (τ 45, S 40): 50 → 45·ln(50/10) = 72.425;  100 → 45·ln(100/60) = 22.987 min;
  //                          300 → fast tier, 2 min held (the slow tier would take 45·ln(300/260) = 6.44)
  it.each([
    ['ul2034', 70, 92.666],
    ['ul2034', 150, 32.101],
    ['ul2034', 400, 10.741],
    ['en50291', 50, 72.425],
    ['en50291', 100, 22.987],
    ['en50291', 300, 2],
  ] as const)('%s at %i ppm: %f min', (profile, ppm, minutes) => {
    expect(timeToAlarmAtConstant(profile, ppm) / MIN).toBeCloseTo(minutes, 3);
  });
});

describe('no-alarm points', () => {
  it.each(SAMPLING_MS)('ul2034 never alarms at 30 ppm (8 h, sampled every %i ms)', (every) => {
    expect(timeToAlarmAtConstant('ul2034', 30)).toBe(Number.POSITIVE_INFINITY);
    expect(firstRaise('ul2034', 30, every, 8 * HOUR)).toBeNull();
  });

  it.each(SAMPLING_MS)('en50291 does not alarm at 30 ppm within 120 min (sampled every %i ms)', (every) => {
    expect(timeToAlarmAtConstant('en50291', 30)).toBe(Number.POSITIVE_INFINITY);
    expect(firstRaise('en50291', 30, every, 120 * MIN)).toBeNull();
  });

  it('ul2034 alarms just above the asymptote, en50291 just below its fast tier uses the slow tier', () => {
    // 46 ppm: 90·ln(46/1) = 344.6 min — late but it does alarm (D → C > 45).
    expect(timeToAlarmAtConstant('ul2034', 46) / MIN).toBeCloseTo(90 * Math.log(46), 6);
    const r = firstRaise('ul2034', 46, 60_000, 6 * HOUR);
    expect(r?.key).toBe('CO:dose');
    // 299 ppm: the fast tier never trips; slow tier 45·ln(299/259) = 6.46 min.
    const slow = firstRaise('en50291', 299, 10_000, 10 * MIN);
    expect(slow?.key).toBe('CO:dose');
    expect(slow!.t / MIN).toBeCloseTo(45 * Math.log(299 / 259), 0);
  });
});

describe('en50291 tiers', () => {
  it('300 ppm raises the fast tier after exactly 2 min at 1-s sampling', () => {
    const r = firstRaise('en50291', 300, 1_000, 5 * MIN);
    expect(r).toEqual({ t: 2 * MIN, key: 'CO:fast', message: expect.stringContaining('EN 50291 fast tier') });
  });

  it('a 300 ppm spike shorter than 2 min does not raise the fast tier', () => {
    const rs = createRuleSet('en50291');
    const samples = [];
    for (let s = 0; s <= 600; s += 10) {
      const ppm = s >= 100 && s < 210 ? 350 : 0; // 350 ppm from 100 s to 200 s: 110 s held
      samples.push({ ts: T0 + s * 1000, values: { CO: ppm }, status: 'ok' as const });
    }
    const { events } = feed(rs, samples);
    expect(events.filter((e) => e.condition.key === 'CO:fast')).toEqual([]);
  });

  /** First CO:fast raise (ms after T0) for a CO series sampled every `everyMs`, or null. */
  const firstFast = (everyMs: number, f: (i: number) => number, durationMs = 10 * MIN): number | null => {
    const rs = createRuleSet('en50291');
    let s = rs.initial();
    for (let i = 0; i * everyMs <= durationMs; i++) {
      const r = rs.step(s, { ts: T0 + i * everyMs, values: { CO: f(i) }, status: 'ok' });
      s = r.state;
      if (r.events.some((e) => e.type === 'raised' && e.condition.key === 'CO:fast')) return i * everyMs;
    }
    return null;
  };

  it('300 ppm with noise around the set point raises the fast tier within 3 min, like steady 300 ppm', () => {
    for (const every of [1_000, 10_000]) {
      // Alternating 298/302: every other sample is below the set point but above the clear level (270).
      const alt = firstFast(every, (i) => (i % 2 ? 302 : 298));
      expect(alt, `alternating 298/302 at ${every / 1000} s`).not.toBeNull();
      expect(alt!).toBeGreaterThanOrEqual(2 * MIN);
      expect(alt!).toBeLessThan(3 * MIN);
      for (const seed of [1, 2, 3, 4, 5]) {
        const rand = prng(seed);
        const t = firstFast(every, () => 300 * (1 + (rand() - 0.5) * 0.02)); // ±1 %
        expect(t, `±1 % noise, seed ${seed}, ${every / 1000} s`).not.toBeNull();
        expect(t!).toBeGreaterThanOrEqual(2 * MIN);
        expect(t!).toBeLessThan(3 * MIN);
      }
    }
  });

  it('the fast-tier on-delay restarts only when the level crosses the clear level (270 ppm)', () => {
    // 300 ppm, one sample at 260 ppm (below 270) at 90 s: the hold starts again at 100 s → 220 s.
    expect(firstFast(10_000, (i) => (i === 9 ? 260 : 300))).toBe(220_000);
    // The same dip to 271 ppm (inside the band) does not restart it: raised at 120 s.
    expect(firstFast(10_000, (i) => (i === 9 ? 271 : 300))).toBe(120_000);
    // Spikes to 310 every 100 s with 265 ppm (below the clear level) in between never hold 2 min.
    expect(firstFast(10_000, (i) => (i % 10 === 0 ? 310 : 265), 30 * MIN)).toBeNull();
    // 280 ppm alone (inside the band, never at the set point) starts nothing.
    expect(firstFast(10_000, () => 280, 30 * MIN)).toBeNull();
  });

  it('both tiers are critical and clear after the CO is gone, once each', () => {
    const rs = createRuleSet('en50291');
    const samples = [];
    for (let m = 0; m <= 120; m++) {
      samples.push({ ts: T0 + m * MIN, values: { CO: m < 30 ? 400 : 0 }, status: 'ok' as const });
    }
    const { events, state } = feed(rs, samples);
    const seq = events.map((e) => `${e.type} ${e.condition.key} ${e.condition.severity}`);
    expect(seq).toEqual([
      'raised CO:fast critical', // at 2 min
      'raised CO:dose critical', // 45·ln(400/360) = 4.74 → at 5 min
      'cleared CO:fast critical', // at 30 min (0 < 270)
      'cleared CO:dose critical', // D(30) = 400(1−e^(−30/45)) = 194.6; falls below 36 at 30 + 45·ln(194.6/36) = 105.9 min
    ]);
    expect(events[0]!.ts).toBe(T0 + 2 * MIN);
    expect(events[1]!.ts).toBe(T0 + 5 * MIN);
    expect(events[2]!.ts).toBe(T0 + 30 * MIN);
    expect(events[3]!.ts).toBe(T0 + 106 * MIN);
    expect(Object.keys(state.active)).toEqual([]);
  });
});

describe('gaps and missing values', () => {
  it('does not integrate dose across a gap longer than maxGapS (the dose is carried unchanged)', () => {
    const rs = createRuleSet('ul2034');
    // 150 ppm for 20 min (every minute), then silence for 2 h, then one 150-ppm sample.
    const samples = [];
    for (let m = 0; m <= 20; m++)
      samples.push({ ts: T0 + m * MIN, values: { CO: 150 }, status: 'ok' as const });
    const before = feed(rs, samples);
    const dose20 = 150 * (1 - Math.exp(-20 / 90)); // 29.95 ppm
    expect((before.state.measures['CO:dose'] as { dose: number }).dose).toBeCloseTo(dose20, 9);
    const after = feed(rs, [{ ts: T0 + 140 * MIN, values: { CO: 150 }, status: 'ok' }], before.state);
    // Had it held 150 ppm through the gap, the dose would be ~149 and the alarm would be raised.
    expect((after.state.measures['CO:dose'] as { dose: number }).dose).toBeCloseTo(dose20, 9);
    expect(after.events).toEqual([]);
  });

  it('a sample without CO, or with CO marked bad, neither integrates nor reads as 0', () => {
    const rs = createRuleSet('ul2034');
    const samples = [];
    for (let m = 0; m <= 60; m++) {
      // At odd minutes the CO channel is missing or bad; the held 150 ppm still counts.
      const s =
        m % 4 === 1
          ? { ts: T0 + m * MIN, values: {}, status: 'ok' as const }
          : m % 4 === 3
            ? { ts: T0 + m * MIN, values: { CO: 0 }, quality: { CO: 'bad' as const }, status: 'ok' as const }
            : { ts: T0 + m * MIN, values: { CO: 150 }, status: 'ok' as const };
      samples.push(s);
    }
    const { events } = feed(rs, samples);
    // Closed form 32.1 min; only even minutes carry a usable value, so the raise is at 34 min —
    // the same time as with no missing samples at all at 2-min sampling.
    expect(events.map((e) => [e.type, e.ts - T0])).toEqual([['raised', 34 * MIN]]);
  });
});
