// Every number of SPEC §7, per rule set, pinned (issue 14). A change to a number here is a change
// to what a safety reviewer signed off: it must come with its clause.
import { describe, expect, it } from 'vitest';
import {
  GB30871,
  GBZ21_MOLAR_VOLUME,
  MEM13,
  OSHA1910,
  PERMIT_CLASSES,
  PERMIT_RULE_SETS,
  type PermitClass,
  type PermitRuleSet,
  PermitRuleSetSchema,
  toxicLimitFor,
  toxicLimitPpm,
} from '../../src/permits/index.js';

const perClass = <T, U>(table: Record<PermitClass, T>, f: (x: T) => U) =>
  Object.fromEntries(PERMIT_CLASSES.map((c) => [c, f(table[c])]));

/** The numbers of a rule set, without their sources. */
function numbers(r: PermitRuleSet) {
  const toxicPpm = (gas: 'CO' | 'H2S' | 'CO2' | 'CH4' | 'C3H8' | 'LEL') => {
    const l = toxicLimitFor(r, gas);
    return l === null ? null : { kind: l.kind, value: l.value, unit: l.unit };
  };
  return {
    o2: [r.oxygen.minPctVol.value, r.oxygen.maxPctVol.value, r.oxygen.maxEnrichedPctVol.value],
    combustibleByClass:
      r.combustible.byLelClass === null
        ? null
        : [
            r.combustible.byLelClass.boundaryPctVol.value,
            r.combustible.byLelClass.atOrAboveMaxPctVol.value,
            r.combustible.byLelClass.belowMaxPctVol.value,
          ],
    combustibleLel:
      r.combustible.maxPctLel === null
        ? null
        : { value: r.combustible.maxPctLel.value, inclusive: r.combustible.maxPctLel.inclusive },
    vm: r.toxic.molarVolumeL.value,
    toxic: {
      CO: toxicPpm('CO'),
      H2S: toxicPpm('H2S'),
      CO2: toxicPpm('CO2'),
      CH4: toxicPpm('CH4'),
      C3H8: toxicPpm('C3H8'),
      LEL: toxicPpm('LEL'),
    },
    testWindowMin: perClass(r.testWindowMin, (x) => x.value),
    interruptionMin: perClass(r.interruptionMin, (x) => x.value),
    dailyAnalysis: perClass(r.dailyAnalysis, (x) => x.value),
    monitoring: perClass(r.monitoring, (x) => [x.continuous, x.recordEveryMin]),
    validityH: perClass(r.validityH, (x) => x.value),
    retentionYears: r.recordRetentionYears.value,
  };
}

const classes = (confined: unknown, special: unknown, level1: unknown, level2: unknown) => ({
  confined_space: confined,
  hot_work_special: special,
  hot_work_level1: level1,
  hot_work_level2: level2,
});

const GBZ21 = {
  CO: { kind: 'pc_stel', value: 30, unit: 'mg/m³' },
  H2S: { kind: 'mac', value: 10, unit: 'mg/m³' },
  CO2: { kind: 'pc_stel', value: 18000, unit: 'mg/m³' },
  CH4: null,
  C3H8: null,
  LEL: null,
};

describe('GB 30871-2022 (gb30871)', () => {
  it('pins every number of SPEC §7', () => {
    expect(numbers(GB30871)).toEqual({
      o2: [19.5, 21, 23.5],
      combustibleByClass: [4, 0.5, 0.2],
      combustibleLel: null,
      vm: 24.06,
      toxic: GBZ21,
      testWindowMin: classes(30, 30, 30, 30),
      interruptionMin: classes(60, 30, 30, 60),
      dailyAnalysis: classes(false, true, true, true),
      monitoring: classes([true, 120], [true, null], [false, null], [false, null]),
      validityH: classes(24, 8, 8, 72),
      retentionYears: 1,
    });
  });

  it('cites the clause of each number', () => {
    expect(GB30871.oxygen.minPctVol.source).toBe('GB 30871-2022 6.4a');
    expect(GB30871.oxygen.maxEnrichedPctVol.source).toContain('6.4a');
    expect(GB30871.combustible.byLelClass?.belowMaxPctVol.source).toContain('5.3.2, 6.4c');
    expect(GB30871.testWindowMin.confined_space.source).toBe('GB 30871-2022 6.3a');
    expect(GB30871.testWindowMin.hot_work_level2.source).toBe('GB 30871-2022 5.3.1c');
    expect(GB30871.interruptionMin.confined_space.source).toBe('GB 30871-2022 6.3f');
    expect(GB30871.interruptionMin.hot_work_special.source).toBe('GB 30871-2022 5.3.1d');
    expect(GB30871.monitoring.confined_space.source).toBe('GB 30871-2022 6.5');
    expect(GB30871.validityH.confined_space.source).toBe('GB 30871-2022 6.10');
    expect(GB30871.validityH.hot_work_level2.source).toBe('GB 30871-2022 5.1.5');
    expect(GB30871.recordRetentionYears.source).toBe('GB 30871-2022 annex B');
    expect(toxicLimitFor(GB30871, 'H2S')?.source).toBe('GBZ 2.1-2019 table 1, 硫化氢');
  });
});

describe('MEM Order 13 of 2023 (mem13)', () => {
  it('pins every number: GB 30871’s where the order is silent, any interruption re-tests', () => {
    expect(numbers(MEM13)).toEqual({
      o2: [19.5, 21, 23.5],
      combustibleByClass: [4, 0.5, 0.2],
      combustibleLel: null,
      vm: 24.06,
      toxic: GBZ21,
      testWindowMin: classes(30, 30, 30, 30),
      interruptionMin: classes(0, 0, 0, 0),
      dailyAnalysis: classes(false, true, true, true),
      monitoring: classes([true, null], [true, null], [false, null], [false, null]),
      validityH: classes(24, 8, 8, 72),
      retentionYears: 1,
    });
  });

  it('marks what the order sets and what it borrows', () => {
    expect(MEM13.interruptionMin.confined_space.setBy).toBe('standard');
    expect(MEM13.oxygen.maxPctVol).toMatchObject({
      setBy: 'default',
      source: expect.stringContaining('6.4a'),
    });
    expect(MEM13.monitoring.confined_space.source).toContain('art. 15');
    expect(MEM13.testOrder.source).toContain('art. 14');
    expect(MEM13.recordRetentionYears.source).toContain('art. 6');
  });
});

describe('OSHA 29 CFR 1910.146 (osha1910)', () => {
  it('pins every number', () => {
    expect(numbers(OSHA1910)).toEqual({
      o2: [19.5, 23.5, 23.5],
      combustibleByClass: null,
      combustibleLel: { value: 10, inclusive: false },
      vm: 24.45,
      toxic: {
        CO: { kind: 'pel_twa', value: 50, unit: 'ppm' },
        H2S: { kind: 'pel_ceiling', value: 20, unit: 'ppm' },
        CO2: { kind: 'pel_twa', value: 5000, unit: 'ppm' },
        CH4: null,
        C3H8: { kind: 'pel_twa', value: 1000, unit: 'ppm' },
        LEL: null,
      },
      testWindowMin: classes(30, 30, 30, 30),
      interruptionMin: classes(0, 0, 0, 0),
      dailyAnalysis: classes(false, true, true, true),
      monitoring: classes([true, null], [true, null], [false, null], [false, null]),
      validityH: classes(null, null, null, null),
      retentionYears: 1,
    });
  });

  it('cites the paragraphs', () => {
    expect(OSHA1910.testOrder.source).toBe('OSHA 29 CFR 1910.146(d)(5)(iii)');
    expect(OSHA1910.oxygen.minPctVol.source).toContain('(b) oxygen deficient');
    expect(OSHA1910.validityH.confined_space.source).toContain('(e)(5)');
    expect(OSHA1910.recordRetentionYears.source).toContain('(e)(6)');
    // Where 1910.146 leaves it to the permit, gaswatch's choice says so.
    expect(OSHA1910.testWindowMin.confined_space.setBy).toBe('default');
    expect(OSHA1910.interruptionMin.confined_space.setBy).toBe('default');
  });
});

describe('GBZ 2.1 limits in ppm at 20 °C, 101.3 kPa', () => {
  it('Vm = R·T/P = 24.06 L/mol, and ppm = mg/m³ × 24.06 / M', () => {
    expect((8.314 * 293.15) / 101.3).toBeCloseTo(GBZ21_MOLAR_VOLUME.value, 2);
    const ppm = (gas: 'CO' | 'H2S' | 'CO2') => toxicLimitPpm(toxicLimitFor(GB30871, gas)!, 24.06);
    expect(ppm('CO')).toBeCloseTo((30 * 24.06) / 28.01, 10);
    expect(ppm('CO')).toBeCloseTo(25.77, 2);
    expect(ppm('H2S')).toBeCloseTo(7.06, 2);
    expect(ppm('CO2')).toBeCloseTo(9840.5, 1);
  });
});

describe('every built-in rule set', () => {
  it('is what the schema says a rule set is, with a source for every number', () => {
    for (const r of Object.values(PERMIT_RULE_SETS)) {
      expect(PermitRuleSetSchema.parse(r)).toEqual(r);
      expect(r.testOrder.value).toEqual(['oxygen', 'combustible', 'toxic']);
      // Every number (and flag) of the set is an object with a `value` (or a monitoring
      // interval) beside its `source`.
      const cited: Record<string, unknown>[] = [];
      const walk = (x: unknown): void => {
        if (Array.isArray(x)) x.forEach(walk);
        else if (x !== null && typeof x === 'object') {
          const o = x as Record<string, unknown>;
          if ('value' in o || 'recordEveryMin' in o) cited.push(o);
          Object.values(o).forEach(walk);
        }
      };
      walk(r);
      expect(cited.length).toBeGreaterThan(30);
      const sources = cited.map((n) => n.source);
      expect(sources.every((s) => typeof s === 'string' && s.trim().length > 5)).toBe(true);
    }
  });
});
