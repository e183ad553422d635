// A site's own permit numbers (SPEC §7 "chosen per site"): tighter always; looser only where the
// standard leaves the number open, and never past 19.5–23.5 %vol oxygen.
import { describe, expect, it } from 'vitest';
import {
  type CombustibleCheck,
  GB30871,
  interruptionNeedsRetest,
  judgeReading,
  PERMIT_RULE_SETS,
  permitValidUntil,
  resolveSitePermitRules,
  SitePermitRulesSchema,
  sitePermitRuleSet,
  type ToxicCheck,
  testStillValid,
} from '../../src/permits/index.js';

const MIN = 60_000;
const T0 = Date.parse('2026-03-02T09:00:00+08:00');
const CS = { kind: 'confined_space' } as const;

describe('site permit rules', () => {
  it('with nothing set, are the jurisdiction’s own (gb30871 by default)', () => {
    expect(sitePermitRuleSet({})).toEqual(GB30871);
    expect(sitePermitRuleSet({ ruleSet: 'osha1910' })).toEqual(PERMIT_RULE_SETS.osha1910);
  });

  it('tighten oxygen, and the judgement follows, citing the site', () => {
    const rules = sitePermitRuleSet({ oxygen: { minPctVol: 19.8 } });
    expect(judgeReading(rules, 'O2', { value: 19.8, unit: '%vol' }).pass).toBe(true);
    expect(judgeReading(rules, 'O2', { value: 19.7, unit: '%vol' }).checks[0]).toMatchObject({
      reason: 'o2_low',
      minPctVol: 19.8,
      source: 'site setting (GB 30871-2022: 19.5, GB 30871-2022 6.4a)',
    });
    // The built-in set is untouched.
    expect(GB30871.oxygen.minPctVol.value).toBe(19.5);
  });

  it('may not loosen what the standard fixes; may set what it leaves open, within 19.5–23.5', () => {
    expect(resolveSitePermitRules({ oxygen: { maxPctVol: 23.5 } }).problems).toEqual([
      {
        path: ['oxygen', 'maxPctVol'],
        message: "23.5 is looser than GB 30871-2022's 21 (GB 30871-2022 6.4a): a site may only tighten it",
      },
    ]);
    // Order 13 does not set oxygen: a site may take 19.5–23.5 %vol.
    const mem = sitePermitRuleSet({ ruleSet: 'mem13', oxygen: { maxPctVol: 23.5 } });
    expect(judgeReading(mem, 'O2', { value: 22, unit: '%vol' }).pass).toBe(true);
    expect(resolveSitePermitRules({ ruleSet: 'mem13', oxygen: { minPctVol: 19 } }).problems).toEqual([
      { path: ['oxygen', 'minPctVol'], message: '19 is below 19.5, past every standard' },
    ]);
    expect(resolveSitePermitRules({ oxygen: { minPctVol: 20.5, maxPctVol: 20 } }).problems).toEqual([
      { path: ['oxygen', 'maxPctVol'], message: 'the range is empty: maxPctVol is below minPctVol' },
    ]);
  });

  it('a toxic limit: tighter than GBZ 2.1, or for a gas without one (LPG on the propane channel)', () => {
    const rules = sitePermitRuleSet({
      toxic: [
        { gas: 'H2S', value: 5, unit: 'ppm' },
        { gas: 'C3H8', value: 1500, unit: 'mg/m³' },
      ],
    });
    expect(judgeReading(rules, 'H2S', { value: 5, unit: 'ppm' }).pass).toBe(true);
    expect(judgeReading(rules, 'H2S', { value: 5.1, unit: 'ppm' }).checks[0]).toMatchObject({
      reason: 'toxic_high',
      limit: { kind: 'site', value: 5, unit: 'ppm' },
      source: 'site setting (GBZ 2.1-2019 table 1, 硫化氢: 10 mg/m³)',
    });
    // 1500 mg/m³ × 24.06 / 44.1 = 818 ppm = 3.9 %LEL: tighter than the 0.2 %vol combustible limit.
    const lpg = judgeReading(rules, 'C3H8', { value: 4, unit: '%LEL' });
    expect(lpg.pass).toBe(false);
    expect(lpg.checks.map((c) => [c.check, c.pass])).toEqual([
      ['combustible', true],
      ['toxic', false],
    ]);
    expect((lpg.checks[1] as ToxicCheck).limit?.ppm).toBeCloseTo(818.4, 1);
  });

  it('refuses a looser toxic limit, a duplicate, O2, and mg/m³ for a gas without a molar mass', () => {
    expect(
      resolveSitePermitRules({
        toxic: [
          { gas: 'H2S', value: 10, unit: 'ppm' },
          { gas: 'H2S', value: 5, unit: 'ppm' },
          { gas: 'O2', value: 1, unit: 'ppm' },
          { gas: 'LEL', value: 10, unit: 'mg/m³' },
        ],
      }).problems.map((p) => `${p.path.join('.')}: ${p.message}`),
    ).toEqual([
      "toxic.0.value: 10 ppm is looser than GB 30871-2022's 10 mg/m³ (GBZ 2.1-2019 table 1, 硫化氢)",
      'toxic.1.gas: H2S is listed twice',
      'toxic.2.gas: O2 is judged by the oxygen range',
      'toxic.3.unit: LEL has no molar mass: give its limit in ppm',
    ]);
  });

  it('a %LEL cap on every combustible, on top of GB 30871’s; never above OSHA’s 10 %LFL', () => {
    const rules = sitePermitRuleSet({ combustibleMaxPctLel: 5 });
    expect(judgeReading(rules, 'CH4', { value: 5, unit: '%LEL' }).pass).toBe(true);
    expect(judgeReading(rules, 'CH4', { value: 0.3, unit: '%vol' }).checks[0]).toMatchObject({
      pass: false,
      reason: 'combustible_high',
      limitPctLel: 5,
      limitPctVol: 0.25,
      limitUnit: '%LEL',
    } satisfies Partial<CombustibleCheck>);
    // For propane the cap (5 %LEL) is stricter than its 0.2 %vol (9.52 %LEL).
    expect(judgeReading(rules, 'C3H8', { value: 5.1, unit: '%LEL' }).pass).toBe(false);
    expect(resolveSitePermitRules({ ruleSet: 'osha1910', combustibleMaxPctLel: 12 }).problems).toHaveLength(
      1,
    );
    // OSHA's own number keeps its strict "below".
    const osha = sitePermitRuleSet({ ruleSet: 'osha1910', combustibleMaxPctLel: 10 });
    expect(judgeReading(osha, 'CH4', { value: 10, unit: '%LEL' }).pass).toBe(false);
  });

  it('timing: tighter anywhere, looser only where the standard leaves it to the permit', () => {
    const gb = sitePermitRuleSet({ testWindowMin: { confined_space: 20 } });
    expect(testStillValid(gb, CS, T0, T0 + 20 * MIN).valid).toBe(true);
    expect(testStillValid(gb, CS, T0, T0 + 21 * MIN).valid).toBe(false);
    expect(resolveSitePermitRules({ testWindowMin: { confined_space: 40 } }).problems[0]?.message).toBe(
      "40 is looser than GB 30871-2022's 30 (GB 30871-2022 6.3a): a site may only tighten it",
    );
    expect(resolveSitePermitRules({ interruptionMin: { hot_work_level2: 90 } }).problems).toHaveLength(1);
    expect(resolveSitePermitRules({ recordEveryMin: { confined_space: 180 } }).problems).toHaveLength(1);
    expect(resolveSitePermitRules({ recordRetentionYears: 3 }).problems).toEqual([]);

    // OSHA leaves interruptions and the permit's length to the permit.
    const osha = sitePermitRuleSet({
      ruleSet: 'osha1910',
      interruptionMin: { confined_space: 15 },
      validityH: { confined_space: 12 },
    });
    expect(interruptionNeedsRetest(osha, CS, T0, T0 + 15 * MIN).retest).toBe(false);
    expect(interruptionNeedsRetest(osha, CS, T0, T0 + 16 * MIN).reason).toBe('interruption_too_long');
    expect(permitValidUntil(osha, CS, T0).until).toBe(T0 + 12 * 60 * MIN);
  });

  it('the schema lists every problem with its path; sitePermitRuleSet throws them all', () => {
    const site = { oxygen: { maxPctVol: 22 }, validityH: { hot_work_level2: 96 } };
    const parsed = SitePermitRulesSchema.safeParse(site);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual([
      'oxygen.maxPctVol',
      'validityH.hot_work_level2',
    ]);
    expect(() => sitePermitRuleSet(site)).toThrowError(
      expect.objectContaining({
        code: 'looser_than_standard',
        message: expect.stringContaining('oxygen.maxPctVol'),
      }),
    );
    expect(SitePermitRulesSchema.safeParse({ ruleSet: 'gb30871', unknown: 1 }).success).toBe(false);
  });
});
