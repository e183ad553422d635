import { describe, expect, it } from 'vitest';
import {
  createRuleSet,
  createWindow,
  ppmToMgM3,
  STEL_WINDOW_MS,
  timeToAlarmAtConstant,
  timeWeightedMean,
  type WindowState,
  windowStep,
} from '../../src/index.js';
import { deepFreeze, feed, HOUR, MIN, SAMPLING_MS, T0 } from './helpers.js';

// CO at 25 °C: 1 ppm = 28.01 / 24.45 = 1.145603 mg/m³.
const CO_MG = 28.01 / 24.45;

describe('windowStep: time-weighted mean on event time', () => {
  it('matches a hand computation with irregular samples', () => {
    // Window 120 s. Samples (s, ppm): (0,10) (30,20) (40,0) (100,50) (160,50).
    // Held segments: [0,30)·10, [30,40)·20, [40,100)·0, [100,160)·50.
    let w = createWindow(120_000);
    const means: number[] = [];
    for (const [t, c] of [
      [0, 10],
      [30, 20],
      [40, 0],
      [100, 50],
      [160, 50],
    ] as const) {
      const r = windowStep(deepFreeze(w), T0 + t * 1000, c);
      w = r.state;
      means.push(r.mean);
    }
    // t=100: window [-20, 100]: 10·30 + 20·10 + 0·60 = 500 ppm·s / 120 s = 4.1667
    expect(means[3]).toBeCloseTo(500 / 120, 12);
    // t=160: window [40, 160]: 0·60 + 50·60 = 3000 / 120 = 25
    expect(means[4]).toBeCloseTo(25, 12);
    // t=30: only [0,30)·10 = 300 / 120 = 2.5 (time before the first sample counts as nothing)
    expect(means[1]).toBeCloseTo(2.5, 12);
  });

  it('agrees with the O(n) reference on 10 000 pseudo-random irregular samples with gaps', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const maxGap = 600_000;
    const points: { ts: number; c: number }[] = [];
    let t = T0;
    let w = createWindow(STEL_WINDOW_MS);
    let worst = 0;
    for (let i = 0; i < 10_000; i++) {
      // Mostly 1–20 s apart, sometimes 5 min, rarely a 20-min gap (longer than maxGap).
      const r = rnd();
      t += r < 0.01 ? 20 * MIN : r < 0.05 ? 5 * MIN : Math.floor(1000 + rnd() * 19_000);
      const c = rnd() < 0.3 ? 0 : Math.round(rnd() * 500) / 10;
      points.push({ ts: t, c });
      const step = windowStep(w, t, c, maxGap);
      w = step.state;
      if (i % 97 === 0 || i > 9_900) {
        const ref = timeWeightedMean(points, t, STEL_WINDOW_MS, maxGap);
        worst = Math.max(worst, Math.abs(step.mean - ref));
      }
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it('never changes an earlier state: stepping the same state twice gives the same answer', () => {
    let w: WindowState = createWindow(60_000);
    for (let s = 0; s < 1000; s++) w = windowStep(w, T0 + s * 1000, s % 7).state;
    const snapshot = JSON.stringify(w);
    const a = windowStep(w, T0 + 1_000_000, 100);
    const b = windowStep(w, T0 + 1_000_000, 0);
    expect(JSON.stringify(w)).toBe(snapshot);
    // 1000 s → window [940 s, 1000 s]: last sample 999 s held 1 s at 999 % 7 = 5; the rest of the
    // window sums c = s % 7 over s = 940..998 (59 s): 8 full weeks of 0..6 (= 21 each) from 942 to
    // 997 = 168, plus 940 % 7 = 2, 941 % 7 = 3, 998 % 7 = 4 → 177; total 182 ppm·s / 60 s.
    expect(a.mean).toBeCloseTo(182 / 60, 12);
    expect(b.mean).toBeCloseTo(a.mean, 12);
  });
});

describe('confined-space STEL (GBZ 2.1 CO PC-STEL 30 mg/m³)', () => {
  // 0 ppm for 10 min, 100 ppm for 5 min, then 0.
  // While rising (10 ≤ t ≤ 15 min): mean = 100·(t − 10)/15 ppm = 7.63735·(t − 10) mg/m³ ≥ 30
  //   ⇔ t − 10 ≥ 3.9281 ⇔ t ≥ 13.928 min → raised at the first sample at or after it.
  // At t = 14 min: 100·4/15 = 26.667 ppm = 30.549 mg/m³.
  // Falling (25 ≤ t ≤ 30): mean = 100·(30 − t)/15 ppm; clears below 30 − 10 % = 27 mg/m³ = 23.568 ppm
  //   ⇔ 30 − t < 3.5352 ⇔ t > 26.465 min.
  it.each(SAMPLING_MS)('raises near 13.93 min and clears near 26.46 min (sampled every %i ms)', (every) => {
    const rs = createRuleSet('confined-space');
    const samples = [];
    for (let t = 0; t <= 40 * MIN; t += every) {
      const ppm = t >= 10 * MIN && t < 15 * MIN ? 100 : 0;
      samples.push({ ts: T0 + t, values: { CO: ppm, O2: 20.9 }, status: 'ok' as const });
    }
    const { events } = feed(rs, samples);
    const stel = events.filter((e) => e.condition.key === 'CO:stel');
    expect(stel.map((e) => e.type)).toEqual(['raised', 'cleared']);
    const up = (stel[0]!.ts - T0) / MIN;
    const down = (stel[1]!.ts - T0) / MIN;
    expect(up).toBeGreaterThanOrEqual(13.928);
    expect(up).toBeLessThan(13.929 + every / MIN);
    expect(down).toBeGreaterThan(26.465);
    expect(down).toBeLessThan(26.466 + every / MIN);
    expect(stel[0]!.condition).toMatchObject({
      rule: 'stel',
      severity: 'critical',
      threshold: 30,
      unit: 'mg/m³',
    });
    if (every === 60_000) expect(stel[0]!.condition.value).toBeCloseTo((100 * 4 * CO_MG) / 15, 9);
  });

  it('closed form: constant 30 ppm reaches the STEL at 15·30/(30·1.145603) = 13.094 min', () => {
    expect(timeToAlarmAtConstant('confined-space', 30) / MIN).toBeCloseTo(15 / CO_MG, 6);
  });
});

describe('confined-space TWA (GBZ 2.1 CO PC-TWA 20 mg/m³)', () => {
  // 30 ppm for 4 h, then 5 ppm, irregular sampling (7 s, 53 s, 131 s, repeating).
  // 8-h mean while in the second phase (t in hours, 4 ≤ t ≤ 8): (30·4 + 5·(t − 4))/8 ppm.
  // At t = 8 h: (120 + 20)/8 = 17.5 ppm = 20.048 mg/m³ ≥ 20 → the TWA alarm is raised.
  // Threshold 20 mg/m³ = 17.4581 ppm: 100 + 5t ≥ 139.665 ⇔ t ≥ 7.93300 h (475.98 min).
  // 30 ppm alone is 34.4 mg/m³: the STEL alarm (30 mg/m³) also fires in the first phase, and clears.
  it('raises the TWA once the 8-h mean reaches 20 mg/m³, as a warning', () => {
    const rs = createRuleSet('confined-space');
    const steps = [7_000, 53_000, 131_000];
    const samples = [];
    for (let t = 0, i = 0; t <= 8 * HOUR + 5 * MIN; t += steps[i++ % 3]!) {
      samples.push({ ts: T0 + t, values: { CO: t < 4 * HOUR ? 30 : 5 }, status: 'ok' as const });
    }
    // The phase change must fall on a sample for the hand computation to be exact.
    expect(samples.some((s) => s.ts === T0 + 4 * HOUR)).toBe(false);
    samples.push({ ts: T0 + 4 * HOUR, values: { CO: 5 }, status: 'ok' as const });
    samples.sort((a, b) => a.ts - b.ts);
    const { events } = feed(rs, samples);
    const twa = events.filter((e) => e.condition.key === 'CO:twa');
    expect(twa).toHaveLength(1);
    expect(twa[0]!.type).toBe('raised');
    expect(twa[0]!.condition.severity).toBe('warning');
    const at = (twa[0]!.ts - T0) / HOUR;
    expect(at).toBeGreaterThanOrEqual(7.933);
    expect(at).toBeLessThan(7.933 + 131 / 3600);
    const stel = events.filter((e) => e.condition.key === 'CO:stel').map((e) => e.type);
    expect(stel).toEqual(['raised', 'cleared']);
  });
});

describe('MAC (ceiling) and the molar-volume basis', () => {
  // H2S MAC 10 mg/m³ = 10·24.45/34.08 = 7.174 ppm at 25 °C, 10·22.4/34.08 = 6.573 ppm at 0 °C.
  it('7 ppm H2S is under the MAC at 25 °C and over it at 0 °C', () => {
    const sample = { ts: T0, values: { H2S: 7 }, status: 'ok' as const };
    const at25 = feed(createRuleSet('confined-space'), [sample]);
    const at0 = feed(createRuleSet('confined-space', { molarVolume: '0C' }), [sample]);
    expect(at25.events).toEqual([]);
    expect(at0.events.map((e) => e.condition.key)).toEqual(['H2S:mac']);
    expect(at0.events[0]!.condition.value).toBeCloseTo(ppmToMgM3('H2S', 7, '0C'), 12);
    expect(at0.events[0]!.condition.value).toBeCloseTo((7 * 34.08) / 22.4, 12);
  });

  it('configured limits replace the defaults and also work outside confined-space', () => {
    const rs = createRuleSet('ul2034', { stelTwa: [{ gas: 'CO', twaMgM3: 10 }] });
    expect(rs.conditions.map((c) => c.key)).toEqual([
      'CO:dose',
      'CO:twa',
      'detector',
      'fault',
      'fault:warmup',
    ]);
    const cs = createRuleSet('confined-space', { stelTwa: [{ gas: 'H2S', stelMgM3: 15 }] });
    expect(cs.conditions.filter((c) => ['stel', 'twa', 'mac'].includes(c.rule)).map((c) => c.key)).toEqual([
      'H2S:stel',
    ]);
    // Constant 10 ppm CO = 11.456 mg/m³ ≥ 10: the 8-h mean reaches 10 mg/m³ at 8 h · 10 / 11.456 = 6.983 h
    // (the dose never alarms at 10 ppm).
    const closed = timeToAlarmAtConstant('ul2034', 10, { stelTwa: [{ gas: 'CO', twaMgM3: 10 }] });
    expect(closed / HOUR).toBeCloseTo((8 * 10) / (10 * CO_MG), 9);
    expect(closed / HOUR).toBeCloseTo(6.983, 3);
    const { events } = feed(
      rs,
      Array.from({ length: 8 * 60 + 1 }, (_, m) => ({
        ts: T0 + m * MIN,
        values: { CO: 10 },
        status: 'ok' as const,
      })),
    );
    expect(events.map((e) => [e.condition.key, e.ts - T0])).toEqual([
      ['CO:twa', Math.ceil(closed / MIN) * MIN],
    ]);
  });
});
