// How a gas-test reading is judged under each rule set (SPEC §7, issue 14), at the edges a tester
// meets: the limit itself passes (≤), a hair above fails; OSHA's flammable limit must be stayed
// below (<).
import { describe, expect, it } from 'vitest';
import { percentVolToLel } from '../../src/gases.js';
import {
  type CombustibleCheck,
  failedChecks,
  type GasIdentity,
  GB30871,
  judgeReading,
  MEM13,
  mgM3ToPpmAt,
  OSHA1910,
  type OxygenCheck,
  type PermitReading,
  PermitRuleError,
  type PermitRuleSet,
  type ToxicCheck,
} from '../../src/permits/index.js';

const vol = (value: number): PermitReading => ({ value, unit: '%vol' });
const lel = (value: number): PermitReading => ({ value, unit: '%LEL' });
const ppm = (value: number): PermitReading => ({ value, unit: 'ppm' });
const mg = (value: number): PermitReading => ({ value, unit: 'mg/m³' });

/** The one check of a judgement (every gas here gets one, except OSHA's propane). */
function only<T>(rule: PermitRuleSet, gas: GasIdentity, reading: PermitReading, enriched = false): T {
  const j = judgeReading(rule, gas, reading, { oxygenEnriched: enriched });
  expect(j.checks).toHaveLength(1);
  expect(j.pass).toBe(j.checks[0]!.pass);
  return j.checks[0] as T;
}
const pass = (rule: PermitRuleSet, gas: GasIdentity, reading: PermitReading, enriched = false) =>
  judgeReading(rule, gas, reading, { oxygenEnriched: enriched }).pass;

describe('oxygen', () => {
  for (const rule of [GB30871, MEM13]) {
    it(`${rule.id}: 19.5–21 %vol pass; 19.4 and 21.1 fail, each with its reason and numbers`, () => {
      expect(pass(rule, 'O2', vol(19.5))).toBe(true);
      expect(pass(rule, 'O2', vol(20.9))).toBe(true);
      expect(pass(rule, 'O2', vol(21.0))).toBe(true);
      expect(only<OxygenCheck>(rule, 'O2', vol(19.4))).toMatchObject({
        pass: false,
        reason: 'o2_low',
        valuePctVol: 19.4,
        minPctVol: 19.5,
        maxPctVol: 21,
        source: expect.stringContaining('6.4a'),
      });
      expect(only<OxygenCheck>(rule, 'O2', vol(21.1))).toMatchObject({
        pass: false,
        reason: 'o2_high',
        maxPctVol: 21,
        enriched: false,
      });
    });

    it(`${rule.id}: an oxygen-enriched space passes up to 23.5 %vol and fails at 23.6`, () => {
      expect(pass(rule, 'O2', vol(21.1), true)).toBe(true);
      expect(pass(rule, 'O2', vol(23.5), true)).toBe(true);
      expect(only<OxygenCheck>(rule, 'O2', vol(23.6), true)).toMatchObject({
        pass: false,
        reason: 'o2_high_enriched',
        maxPctVol: 23.5,
        enriched: true,
      });
      // Enrichment raises the ceiling, never the floor.
      expect(only<OxygenCheck>(rule, 'O2', vol(19.4), true).reason).toBe('o2_low');
    });
  }

  it('osha1910: 19.5–23.5 %vol pass in any space; 19.4 and 23.6 fail', () => {
    expect(pass(OSHA1910, 'O2', vol(19.5))).toBe(true);
    expect(pass(OSHA1910, 'O2', vol(21.1))).toBe(true);
    expect(pass(OSHA1910, 'O2', vol(23.5))).toBe(true);
    expect(only<OxygenCheck>(OSHA1910, 'O2', vol(19.4)).reason).toBe('o2_low');
    expect(only<OxygenCheck>(OSHA1910, 'O2', vol(23.6))).toMatchObject({
      reason: 'o2_high',
      maxPctVol: 23.5,
    });
  });

  it('is read in %vol only', () => {
    expect(() => judgeReading(GB30871, 'O2', ppm(209000))).toThrowError(PermitRuleError);
    expect(() => judgeReading(GB30871, 'O2', lel(20))).toThrowError(/oxygen is read in %vol/);
  });
});

describe('combustibles under GB 30871-2022 (and Order 13, which takes its numbers)', () => {
  for (const rule of [GB30871, MEM13]) {
    it(`${rule.id}: methane (LEL 5 %vol ≥ 4): 0.5 %vol = 10 %LEL passes, just above fails`, () => {
      for (const reading of [lel(10), vol(0.5), ppm(5000)])
        expect(only<CombustibleCheck>(rule, 'CH4', reading)).toMatchObject({
          pass: true,
          reason: null,
          valuePctVol: 0.5,
          valuePctLel: 10,
          limitPctVol: 0.5,
          limitPctLel: 10,
          limitUnit: '%vol',
          lelPercentVol: 5,
          inclusive: true,
        });
      expect(only<CombustibleCheck>(rule, 'CH4', lel(10.1))).toMatchObject({
        pass: false,
        reason: 'combustible_high',
        limitPctVol: 0.5,
        limitPctLel: 10,
      });
      expect(pass(rule, 'CH4', vol(0.51))).toBe(false);
      expect(pass(rule, 'CH4', ppm(5001))).toBe(false);
      // The methane-calibrated combustible channel is judged as methane.
      expect(pass(rule, 'LEL', lel(10))).toBe(true);
      expect(pass(rule, 'LEL', lel(10.1))).toBe(false);
    });

    it(`${rule.id}: propane (LEL 2.1 %vol < 4) is judged at 0.2 %vol ≈ 9.52 %LEL`, () => {
      const atLimit = only<CombustibleCheck>(rule, 'C3H8', vol(0.2));
      expect(atLimit).toMatchObject({ pass: true, limitPctVol: 0.2, lelPercentVol: 2.1 });
      expect(atLimit.limitPctLel).toBeCloseTo(9.524, 3);
      expect(pass(rule, 'C3H8', lel(percentVolToLel('C3H8', 0.2)))).toBe(true);
      expect(pass(rule, 'C3H8', lel(9.5))).toBe(true);
      expect(only<CombustibleCheck>(rule, 'C3H8', lel(9.6))).toMatchObject({
        pass: false,
        reason: 'combustible_high',
        limitPctVol: 0.2,
      });
      expect(pass(rule, 'C3H8', vol(0.21))).toBe(false);
      // What passes for methane fails for propane: 10 %LEL of propane is 0.21 %vol.
      expect(pass(rule, 'CH4', lel(10))).toBe(true);
      expect(pass(rule, 'C3H8', lel(10))).toBe(false);
    });

    it(`${rule.id}: a gas the catalogue lacks is judged by its LEL; exactly 4 %vol takes the 0.5 limit`, () => {
      const hydrogen = { name: '氢气', lelPercentVol: 4.0 };
      expect(only<CombustibleCheck>(rule, hydrogen, vol(0.5))).toMatchObject({
        pass: true,
        limitPctVol: 0.5,
      });
      expect(pass(rule, hydrogen, vol(0.51))).toBe(false);
      const below = { name: '某溶剂蒸气', lelPercentVol: 3.9 };
      expect(only<CombustibleCheck>(rule, below, vol(0.21))).toMatchObject({ pass: false, limitPctVol: 0.2 });
      expect(judgeReading(rule, below, vol(0.2)).pass).toBe(true);
    });
  }

  it('a combustible is not read in mg/m³', () => {
    expect(() => judgeReading(GB30871, 'CH4', mg(100))).toThrowError(/%LEL, %vol or ppm/);
  });
});

describe('flammables under OSHA 1910.146: below 10 %LFL', () => {
  it('methane 9.9 %LEL passes; 10 %LEL (0.5 %vol) does not, with combustible_not_below', () => {
    expect(pass(OSHA1910, 'CH4', lel(9.9))).toBe(true);
    for (const reading of [lel(10), vol(0.5)])
      expect(only<CombustibleCheck>(OSHA1910, 'CH4', reading)).toMatchObject({
        pass: false,
        reason: 'combustible_not_below',
        limitPctLel: 10,
        limitPctVol: 0.5,
        limitUnit: '%LEL',
        inclusive: false,
      });
  });

  it('propane is judged as a flammable and against its PEL (1000 ppm = 4.76 %LEL)', () => {
    const ok = judgeReading(OSHA1910, 'C3H8', lel(4.7));
    expect(ok.pass).toBe(true);
    expect(ok.checks.map((c) => c.check)).toEqual(['combustible', 'toxic']);
    // 5 %LEL: well below 10 %LFL, but 1050 ppm is above the PEL.
    const over = judgeReading(OSHA1910, 'C3H8', lel(5));
    expect(over.pass).toBe(false);
    expect(failedChecks(over)).toMatchObject([
      { check: 'toxic', reason: 'toxic_high', limit: { kind: 'pel_twa', ppm: 1000 } },
    ]);
    expect((over.checks[1] as ToxicCheck).valuePpm).toBeCloseTo(1050, 9);
    expect((over.checks[0] as CombustibleCheck).pass).toBe(true);
  });
});

describe('toxics', () => {
  const h2sMacPpm = mgM3ToPpmAt('H2S', 10, 24.06);

  for (const rule of [GB30871, MEM13]) {
    it(`${rule.id}: H2S is held to its GBZ 2.1 MAC, 10 mg/m³ = 7.06 ppm at 20 °C: at it passes, above fails`, () => {
      expect(h2sMacPpm).toBeCloseTo(7.0599, 4);
      expect(only<ToxicCheck>(rule, 'H2S', ppm(h2sMacPpm))).toMatchObject({
        pass: true,
        limit: { kind: 'mac', value: 10, unit: 'mg/m³' },
      });
      expect(pass(rule, 'H2S', mg(10))).toBe(true);
      expect(pass(rule, 'H2S', ppm(7.05))).toBe(true);
      const over = only<ToxicCheck>(rule, 'H2S', ppm(7.1));
      expect(over).toMatchObject({ pass: false, reason: 'toxic_high', valuePpm: 7.1 });
      expect(over.valueMgM3).toBeCloseTo((7.1 * 34.08) / 24.06, 10);
      expect(over.limit?.ppm).toBeCloseTo(7.06, 2);
      expect(over.limit?.mgM3).toBe(10);
      expect(pass(rule, 'H2S', mg(10.01))).toBe(false);
    });

    it(`${rule.id}: CO is held to its PC-STEL, 30 mg/m³ = 25.77 ppm; CO2 to 18 000 mg/m³ = 9840 ppm`, () => {
      expect(pass(rule, 'CO', ppm(25.7))).toBe(true);
      expect(pass(rule, 'CO', mg(30))).toBe(true);
      expect(only<ToxicCheck>(rule, 'CO', ppm(25.8))).toMatchObject({
        pass: false,
        limit: { kind: 'pc_stel', value: 30, unit: 'mg/m³' },
      });
      expect(pass(rule, 'CO2', ppm(9840))).toBe(true);
      expect(pass(rule, 'CO2', vol(0.98))).toBe(true);
      expect(pass(rule, 'CO2', vol(0.99))).toBe(false);
    });
  }

  it('osha1910: CO ≤ 50 ppm, H2S ≤ 20 ppm ceiling, CO2 ≤ 5000 ppm', () => {
    expect(pass(OSHA1910, 'CO', ppm(50))).toBe(true);
    expect(only<ToxicCheck>(OSHA1910, 'CO', ppm(51))).toMatchObject({
      reason: 'toxic_high',
      limit: { kind: 'pel_twa', value: 50, unit: 'ppm', ppm: 50 },
    });
    expect(pass(OSHA1910, 'H2S', ppm(20))).toBe(true);
    expect(only<ToxicCheck>(OSHA1910, 'H2S', ppm(20.1)).limit?.kind).toBe('pel_ceiling');
    expect(pass(OSHA1910, 'CO2', ppm(5000))).toBe(true);
    expect(pass(OSHA1910, 'CO2', ppm(5001))).toBe(false);
  });

  it('a toxic gas without a limit fails (no_limit): nothing to judge by is not a pass', () => {
    const bare: PermitRuleSet = { ...GB30871, toxic: { ...GB30871.toxic, limits: [] } };
    expect(only<ToxicCheck>(bare, 'CO', ppm(0))).toMatchObject({
      pass: false,
      reason: 'no_limit',
      limit: null,
    });
  });

  it('is read in ppm, mg/m³ or %vol, and a number', () => {
    expect(() => judgeReading(GB30871, 'CO', lel(1))).toThrowError(/ppm, mg\/m³ or %vol/);
    expect(() => judgeReading(GB30871, 'CO', ppm(Number.NaN))).toThrowError(/not a number/);
    try {
      judgeReading(GB30871, 'H2S', ppm(Number.POSITIVE_INFINITY));
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_reading' });
    }
  });
});
