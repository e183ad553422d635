// Packed rule states (issue 18: a server keeps two per device): stepping through pack/unpack must
// give exactly what stepping the plain state gives, for any sequence of samples, in every profile.

import { prng } from '@gaswatch/shared/testing';
import { describe, expect, it } from 'vitest';
import {
  ALARM_PROFILE_IDS,
  type AlarmProfileId,
  type AlarmSample,
  type AlarmState,
  createRuleSet,
  createStatePacker,
  type GasId,
  packedLastTs,
  packedRuleSet,
  type ReadingStatus,
  type RuleOptions,
} from '../../src/index.js';
import { deepFreeze, MIN, T0 } from './helpers.js';

/** Ranges that cross every set point of the profiles (ppm, %LEL, %vol). */
const RANGE: Partial<Record<GasId, [number, number]>> = {
  CO: [0, 600],
  LEL: [0, 80],
  CH4: [0, 60],
  C3H8: [0, 60],
  O2: [15, 26],
  H2S: [0, 40],
  CO2: [0, 5000],
};
const GASES = Object.keys(RANGE) as GasId[];
const STATUSES: ReadingStatus[] = [
  'ok',
  'ok',
  'ok',
  'ok',
  'ok',
  'ok',
  'warmup',
  'fault',
  'calibrating',
  'bump_test',
];

/**
 * Random samples in time order: runs of high and low values (so alarms raise, hold and clear),
 * gaps past maxGapS, warm-ups, faults, over-range 'bad' values, unreadable channels, the
 * detector's own alarm, a gas no profile watches, and now and then a sample older than the last.
 */
function* samples(seed: number, count: number): Generator<AlarmSample> {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  let ts = T0;
  let high = false;
  for (let i = 0; i < count; i++) {
    const gapRoll = r();
    ts += gapRoll < 0.05 ? 11 * MIN + r() * 30 * MIN : gapRoll < 0.1 ? 0 : 1_000 + Math.floor(r() * 90_000);
    if (r() < 0.08) high = !high;
    const values: Partial<Record<GasId, number>> = {};
    const quality: Partial<Record<GasId, 'good' | 'bad' | 'uncertain'>> = {};
    for (const g of GASES) {
      if (r() < 0.35) continue;
      const [lo, hi] = RANGE[g] as [number, number];
      const v = high ? lo + (hi - lo) * (0.4 + 0.6 * r()) : lo + (hi - lo) * 0.15 * r();
      const roll = r();
      if (roll < 0.04) quality[g] = 'bad';
      else if (roll < 0.06) {
        quality[g] = 'bad';
        continue; // unreadable: 'bad' with no value
      }
      values[g] = Math.round(v * 10) / 10;
    }
    const sample: AlarmSample = { ts, values, status: pick(STATUSES) };
    if (Object.keys(quality).length > 0) sample.quality = quality;
    if (r() < 0.05) sample.faults = [pick(['sensor_eol', 'low_battery'])];
    if (r() < 0.1) sample.alarm = r() < 0.5;
    if (r() < 0.02) sample.ts = ts - 5 * MIN; // out of order: both must refuse it alike
    yield sample;
  }
}

const VARIANTS: [AlarmProfileId, RuleOptions][] = [
  ...ALARM_PROFILE_IDS.map((p): [AlarmProfileId, RuleOptions] => [p, {}]),
  ['combustible', { siteType: 'household', combustibleCo: 'ul2034', onDelayS: 30 }],
  ['en50291', { stelTwa: [{ gas: 'CO', stelMgM3: 30, twaMgM3: 20 }], maxGapS: 300 }],
  ['confined-space', { onDelays: { 'O2:low': 20 }, bands: { 'CO:high': 5 }, maxWarmupS: 120 }],
];

describe('packed rule state', () => {
  for (const [profile, options] of VARIANTS) {
    it(`${profile} ${JSON.stringify(options)}: same events, active conditions and states through pack/unpack`, () => {
      const plain = createRuleSet(profile, options);
      const packed = packedRuleSet(plain);
      let raised = 0;
      for (let seed = 1; seed <= 12; seed++) {
        let s: AlarmState = plain.initial();
        let p = packed.initial();
        expect(packed.unpack(p)).toEqual(s);
        for (const sample of samples(seed * 7919 + profile.length, 400)) {
          let want: ReturnType<typeof plain.step> | Error;
          let got: ReturnType<typeof packed.step> | Error;
          try {
            want = plain.step(s, sample);
          } catch (err) {
            want = err as Error;
          }
          try {
            got = packed.step(deepFreeze(p), sample);
          } catch (err) {
            got = err as Error;
          }
          if (want instanceof Error) {
            expect(got).toBeInstanceOf(Error);
            expect((got as Error).message).toBe(want.message);
            continue;
          }
          expect(got).not.toBeInstanceOf(Error);
          const g = got as ReturnType<typeof packed.step>;
          expect(g.events).toEqual(want.events);
          expect(g.active).toEqual(want.active);
          expect(packed.unpack(g.state)).toEqual(want.state);
          expect(packedLastTs(g.state)).toBe(want.state.lastTs);
          raised += want.events.filter((e) => e.type === 'raised').length;
          s = want.state;
          p = g.state;
        }
      }
      // The sequences did raise and clear alarms, or the comparison proved little.
      expect(raised).toBeGreaterThan(5);
    });
  }

  it('a quiet household CO detector keeps one array of numbers: nothing beside it', () => {
    const rules = packedRuleSet(createRuleSet('en50291'));
    let p = rules.initial();
    for (let k = 0; k < 16; k++)
      p = rules.step(p, { ts: T0 + k * MIN, values: { CO: 3 }, status: 'ok' }).state;
    expect(Array.isArray(p)).toBe(true);
    // lastTs, CO's last time, the dose and its c; the dose's t is CO's last time, and what would
    // follow is absent (no warm-up, no threshold running): left off.
    expect(p).toEqual([T0 + 15 * MIN, T0 + 15 * MIN, expect.any(Number), 3]);
    for (const x of p as number[]) expect(typeof x).toBe('number');
    expect(rules.unpack(p).measures['CO:dose']).toMatchObject({ c: 3, t: T0 + 15 * MIN });
  });

  it('a raised alarm is kept beside the numbers, and the state is bare again once it clears', () => {
    const rules = packedRuleSet(createRuleSet('en50291'));
    let p = rules.initial();
    let ts = T0;
    for (let k = 0; k < 5; k++) {
      ts += MIN;
      p = rules.step(p, { ts, values: { CO: 400 }, status: 'ok' }).state;
    }
    expect(Array.isArray(p)).toBe(false);
    expect(Object.keys(rules.unpack(p).active)).toContain('CO:fast');
    for (let k = 0; k < 600 && !Array.isArray(p); k++) {
      ts += MIN;
      p = rules.step(p, { ts, values: { CO: 0 }, status: 'ok' }).state;
    }
    expect(Array.isArray(p)).toBe(true);
    expect(rules.unpack(p).active).toEqual({});
  });

  it('a state the layout cannot hold (fields of another shape) comes back as it went in', () => {
    const packer = createStatePacker(createRuleSet('ul2034').conditions);
    const odd = {
      lastTs: T0,
      lastGasTs: { CO: T0, CO2: T0 - 1 },
      warmupSince: null,
      measures: { 'CO:dose': { dose: 1, c: 2, t: T0, extra: 1 } as never, other: { dose: 1, c: 1, t: 1 } },
      thresholds: {
        'CO:dose': { active: true, pendingSince: T0 },
        fault: { active: false, pendingSince: null },
      },
      active: {},
    } as AlarmState;
    expect(packer.unpack(packer.pack(odd))).toEqual(odd);
    const doseBehind = { ...odd, measures: { 'CO:dose': { dose: 1, c: 2, t: T0 - 5 } } } as AlarmState;
    expect(packer.unpack(packer.pack(doseBehind))).toEqual(doseBehind);
    const notMadeByRules = { ...odd, lastTs: 'yesterday' } as unknown as AlarmState;
    expect(packer.unpack(packer.pack(notMadeByRules))).toEqual(notMadeByRules);
  });
});
