import { z } from 'zod';
import { GAS_IDS, GASES, type GasId, GasIdSchema } from '../gases.js';
import { PermitRuleError } from './errors.js';
import { toxicLimitFor } from './judge.js';
import { PERMIT_CLASSES, type PermitClass, PermitRuleSetIdSchema } from './model.js';
import type { CitedNumber, PermitRuleSet, ToxicLimit } from './rule-set.js';
import { PERMIT_RULE_SETS } from './rule-sets.js';
import { toxicLimitPpm } from './toxic-limits.js';

/**
 * A site's permit rules (SPEC §7: "rules are data: a rule set per jurisdiction, chosen per site"):
 * the rule set, and numbers the site sets for itself. A site may tighten any number; it may loosen
 * only one its standard leaves open (`setBy: 'default'`, e.g. Order 13's oxygen range, OSHA's
 * interruption limit), and never past the bounds no standard goes beyond (oxygen 19.5–23.5 %vol).
 */

/** No standard of the three lets anyone work below 19.5 or above 23.5 %vol oxygen. */
export const O2_FLOOR_PCT_VOL = 19.5;
export const O2_CEILING_PCT_VOL = 23.5;

const perClass = (n: z.ZodNumber, what: string) =>
  z
    .object({
      confined_space: n.optional(),
      hot_work_special: n.optional(),
      hot_work_level1: n.optional(),
      hot_work_level2: n.optional(),
    })
    .strict()
    .optional()
    .describe(`${what}, per confined_space / hot_work_special / hot_work_level1 / hot_work_level2`);

const SiteToxicLimitSchema = z
  .object({
    gas: GasIdSchema,
    value: z.number().positive(),
    unit: z.enum(['ppm', 'mg/m³']),
  })
  .strict();

const SitePermitRulesFields = z
  .object({
    ruleSet: PermitRuleSetIdSchema.default('gb30871').describe(
      'The jurisdiction whose rules the site follows',
    ),
    oxygen: z
      .object({
        minPctVol: z.number().min(0).max(100).optional(),
        maxPctVol: z.number().min(0).max(100).optional(),
        maxEnrichedPctVol: z.number().min(0).max(100).optional(),
      })
      .strict()
      .optional()
      .describe('Oxygen range, %vol (inclusive)'),
    combustibleMaxPctLel: z
      .number()
      .positive()
      .max(100)
      .optional()
      .describe("A cap in %LEL on every combustible, on top of the standard's limit (passes at or below)"),
    toxic: z
      .array(SiteToxicLimitSchema)
      .max(GAS_IDS.length)
      .optional()
      .describe(
        'A limit per gas, judged as a ceiling: tighter than the standard, or for a gas it has none for',
      ),
    testWindowMin: perClass(
      z.number().positive().max(1440),
      'Work starts within this after a passed test, min',
    ),
    interruptionMin: perClass(
      z.number().min(0).max(1440),
      'A longer interruption needs a new test, min (0: any)',
    ),
    validityH: perClass(z.number().positive().max(8760), 'Longest a permit is valid, h'),
    recordEveryMin: perClass(z.number().positive().max(1440), 'Longest gap between monitoring records, min'),
    recordRetentionYears: z
      .number()
      .int()
      .positive()
      .max(100)
      .optional()
      .describe('Keep closed permits, years'),
  })
  .strict();

export interface SitePermitRuleProblem {
  path: (string | number)[];
  message: string;
}

type Direction = 'lower_is_stricter' | 'higher_is_stricter';

/** One number the site sets: the cited number it replaces, or a problem. */
function adjust(
  problems: SitePermitRuleProblem[],
  path: (string | number)[],
  rule: PermitRuleSet,
  current: CitedNumber,
  value: number,
  dir: Direction,
  bounds: { min?: number; max?: number } = {},
): CitedNumber {
  const looser = dir === 'lower_is_stricter' ? value > current.value : value < current.value;
  if (looser && current.setBy === 'standard')
    problems.push({
      path,
      message: `${value} is looser than ${rule.name}'s ${current.value} (${current.source}): a site may only tighten it`,
    });
  if (bounds.min !== undefined && value < bounds.min)
    problems.push({ path, message: `${value} is below ${bounds.min}, past every standard` });
  if (bounds.max !== undefined && value > bounds.max)
    problems.push({ path, message: `${value} is above ${bounds.max}, past every standard` });
  return { value, source: `site setting (${rule.name}: ${current.value}, ${current.source})`, setBy: 'site' };
}

/**
 * The rule set a site's settings give, and every problem with them (a looser number, a limit
 * for a gas that cannot have one). The built-in rule sets are never changed.
 */
export function resolveSitePermitRules(site: z.input<typeof SitePermitRulesFields>): {
  rules: PermitRuleSet;
  problems: SitePermitRuleProblem[];
} {
  const s = SitePermitRulesFields.parse(site);
  const rule: PermitRuleSet = structuredClone(PERMIT_RULE_SETS[s.ruleSet]);
  const problems: SitePermitRuleProblem[] = [];
  const base = PERMIT_RULE_SETS[s.ruleSet];

  const o2 = { min: O2_FLOOR_PCT_VOL, max: O2_CEILING_PCT_VOL };
  if (s.oxygen?.minPctVol !== undefined)
    rule.oxygen.minPctVol = adjust(
      problems,
      ['oxygen', 'minPctVol'],
      base,
      base.oxygen.minPctVol,
      s.oxygen.minPctVol,
      'higher_is_stricter',
      o2,
    );
  if (s.oxygen?.maxPctVol !== undefined)
    rule.oxygen.maxPctVol = adjust(
      problems,
      ['oxygen', 'maxPctVol'],
      base,
      base.oxygen.maxPctVol,
      s.oxygen.maxPctVol,
      'lower_is_stricter',
      o2,
    );
  if (s.oxygen?.maxEnrichedPctVol !== undefined)
    rule.oxygen.maxEnrichedPctVol = adjust(
      problems,
      ['oxygen', 'maxEnrichedPctVol'],
      base,
      base.oxygen.maxEnrichedPctVol,
      s.oxygen.maxEnrichedPctVol,
      'lower_is_stricter',
      o2,
    );
  for (const k of ['maxPctVol', 'maxEnrichedPctVol'] as const)
    if (rule.oxygen[k].value < rule.oxygen.minPctVol.value)
      problems.push({ path: ['oxygen', k], message: `the range is empty: ${k} is below minPctVol` });

  if (s.combustibleMaxPctLel !== undefined) {
    const cap = base.combustible.maxPctLel;
    if (cap !== null && s.combustibleMaxPctLel > cap.value)
      problems.push({
        path: ['combustibleMaxPctLel'],
        message: `${s.combustibleMaxPctLel} %LEL is looser than ${base.name}'s ${cap.value} %LEL (${cap.source})`,
      });
    // At the standard's own number its strict "below" stays: the site's cap would add nothing.
    if (cap === null || s.combustibleMaxPctLel < cap.value)
      rule.combustible.maxPctLel = {
        value: s.combustibleMaxPctLel,
        source: `site setting${cap === null ? `, on top of ${base.name}'s limits` : ` (${base.name}: ${cap.value} %LEL)`}`,
        setBy: 'site',
        inclusive: true,
      };
  }

  const seen = new Set<GasId>();
  for (const [i, t] of (s.toxic ?? []).entries()) {
    const path = ['toxic', i];
    if (seen.has(t.gas)) problems.push({ path: [...path, 'gas'], message: `${t.gas} is listed twice` });
    seen.add(t.gas);
    if (t.gas === 'O2') {
      problems.push({ path: [...path, 'gas'], message: 'O2 is judged by the oxygen range' });
      continue;
    }
    if (t.unit === 'mg/m³' && GASES[t.gas].molarMass === undefined) {
      problems.push({
        path: [...path, 'unit'],
        message: `${t.gas} has no molar mass: give its limit in ppm`,
      });
      continue;
    }
    const limit: ToxicLimit = {
      gas: t.gas,
      kind: 'site',
      value: t.value,
      unit: t.unit,
      source: 'site setting',
    };
    const vm = rule.toxic.molarVolumeL.value;
    const standard = toxicLimitFor(base, t.gas);
    if (standard !== null) {
      if (toxicLimitPpm(limit, vm) > toxicLimitPpm(standard, vm))
        problems.push({
          path: [...path, 'value'],
          message: `${t.value} ${t.unit} is looser than ${base.name}'s ${standard.value} ${standard.unit} (${standard.source})`,
        });
      limit.source = `site setting (${standard.source}: ${standard.value} ${standard.unit})`;
    }
    rule.toxic.limits.push(limit);
  }

  const timing = (
    key: 'testWindowMin' | 'interruptionMin' | 'validityH',
    values: Partial<Record<PermitClass, number>> | undefined,
  ) => {
    for (const c of PERMIT_CLASSES) {
      const v = values?.[c];
      if (v === undefined) continue;
      const current = base[key][c];
      // No longest validity (OSHA: the job's duration): any the site sets is a tightening.
      rule[key][c] =
        current.value === null
          ? { value: v, source: `site setting (${current.source})`, setBy: 'site' }
          : adjust(problems, [key, c], base, { ...current, value: current.value }, v, 'lower_is_stricter');
    }
  };
  timing('testWindowMin', s.testWindowMin);
  timing('interruptionMin', s.interruptionMin);
  timing('validityH', s.validityH);

  for (const c of PERMIT_CLASSES) {
    const v = s.recordEveryMin?.[c];
    if (v === undefined) continue;
    const m = base.monitoring[c];
    if (m.recordEveryMin !== null && v > m.recordEveryMin && m.setBy === 'standard')
      problems.push({
        path: ['recordEveryMin', c],
        message: `${v} min is looser than ${base.name}'s ${m.recordEveryMin} min (${m.source}): a site may only tighten it`,
      });
    rule.monitoring[c] = { ...m, recordEveryMin: v, source: `site setting (${m.source})`, setBy: 'site' };
  }

  if (s.recordRetentionYears !== undefined)
    rule.recordRetentionYears = adjust(
      problems,
      ['recordRetentionYears'],
      base,
      base.recordRetentionYears,
      s.recordRetentionYears,
      'higher_is_stricter',
    );
  return { rules: rule, problems };
}

/** A site's permit settings, as configuration takes them: every looser number is an error, all listed. */
export const SitePermitRulesSchema = SitePermitRulesFields.superRefine((v, ctx) => {
  for (const p of resolveSitePermitRules(v).problems)
    ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
});
export type SitePermitRules = z.infer<typeof SitePermitRulesSchema>;

/** The rule set a site judges by; throws PermitRuleError('looser_than_standard') with every problem. */
export function sitePermitRuleSet(site: z.input<typeof SitePermitRulesFields>): PermitRuleSet {
  const { rules, problems } = resolveSitePermitRules(site);
  if (problems.length > 0)
    throw new PermitRuleError(
      'looser_than_standard',
      problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; '),
      { problems },
    );
  return rules;
}
