import { z } from 'zod';
import { GasIdSchema } from '../gases.js';
import { GAS_CHECKS, PermitRuleSetIdSchema } from './model.js';

/**
 * The shape of a permit rule set (SPEC §7): every number with the clause it comes from, so the
 * docs and the console can cite it. The data is in rule-sets.ts; the schema keeps it honest (a test
 * parses every built-in set) and is what a site's effective rules (site-rules.ts) come back as.
 */

/**
 * Who set a number. `standard`: the jurisdiction's text, or the standard SPEC §7 adopts where that
 * text is silent (Order 13's combustible and toxic limits are GB 30871's and GBZ 2.1's); a site may
 * only tighten it. `default`: the text leaves it open and gaswatch chose it (the source says why);
 * a site may set another. `site`: the site's own setting (site-rules.ts).
 */
export const CITED_BY = ['standard', 'default', 'site'] as const;
export type CitedBy = (typeof CITED_BY)[number];

export const CitedNumberSchema = z
  .object({
    value: z.number().nonnegative().describe('The number, in the unit its field name says'),
    source: z
      .string()
      .min(1)
      .describe('Clause it comes from, or why gaswatch chose it where the text is silent'),
    setBy: z
      .enum(CITED_BY)
      .describe('standard: may only be tightened; default: gaswatch chose it; site: set by the site'),
  })
  .strict();
export type CitedNumber = z.infer<typeof CitedNumberSchema>;

/** A cited number that may be absent: `null` means the standard sets no such number. */
export const CitedOptionalNumberSchema = CitedNumberSchema.extend({
  value: z
    .number()
    .positive()
    .nullable()
    .describe('null: no fixed number (e.g. OSHA: the time the job needs)'),
});
export type CitedOptionalNumber = z.infer<typeof CitedOptionalNumberSchema>;

export const CitedFlagSchema = z
  .object({
    value: z.boolean(),
    source: z.string().min(1),
    setBy: z.enum(CITED_BY),
  })
  .strict();
export type CitedFlag = z.infer<typeof CitedFlagSchema>;

/**
 * Kinds of occupational exposure limit. GBZ 2.1-2019: `mac` 最高容许浓度 (a ceiling, never to be
 * exceeded), `pc_stel` 短时间接触容许浓度 (15-min mean), `pc_twa` 时间加权平均容许浓度 (8-h mean).
 * OSHA (29 CFR 1910.1000): `pel_ceiling` (Table Z-2 acceptable ceiling), `pel_twa` (8-h TWA).
 * `site`: a limit the site set, judged as a ceiling.
 */
export const TOXIC_LIMIT_KINDS = ['mac', 'pc_stel', 'pc_twa', 'pel_ceiling', 'pel_twa', 'site'] as const;
export type ToxicLimitKind = (typeof TOXIC_LIMIT_KINDS)[number];

export const ToxicLimitSchema = z
  .object({
    gas: GasIdSchema,
    kind: z.enum(TOXIC_LIMIT_KINDS),
    value: z.number().positive().describe("In `unit`, as the standard's table gives it"),
    unit: z.enum(['mg/m³', 'ppm']),
    source: z.string().min(1),
  })
  .strict();
export type ToxicLimit = z.infer<typeof ToxicLimitSchema>;

const PerClass = <T extends z.ZodType>(s: T) =>
  z.object({ confined_space: s, hot_work_special: s, hot_work_level1: s, hot_work_level2: s }).strict();

export const MonitoringRuleSchema = z
  .object({
    continuous: z.boolean().describe('A detector watches the whole time the work goes on'),
    recordEveryMin: z
      .number()
      .positive()
      .nullable()
      .describe('Longest gap between two monitoring records on the permit; null: not set'),
    source: z.string().min(1),
    setBy: z.enum(CITED_BY),
  })
  .strict();
export type MonitoringRule = z.infer<typeof MonitoringRuleSchema>;

export const PermitRuleSetSchema = z
  .object({
    id: PermitRuleSetIdSchema,
    name: z.string().describe('The standard as it is cited, e.g. "GB 30871-2022"'),
    testOrder: z
      .object({
        value: z.tuple([z.literal(GAS_CHECKS[0]), z.literal(GAS_CHECKS[1]), z.literal(GAS_CHECKS[2])]),
        source: z.string(),
      })
      .strict()
      .describe('Oxygen, then combustibles, then toxics'),
    positionsSource: z.string().describe('Where the sampling points come from'),
    oxygen: z
      .object({
        minPctVol: CitedNumberSchema.describe('Passes at or above, %vol'),
        maxPctVol: CitedNumberSchema.describe('Passes at or below, %vol'),
        maxEnrichedPctVol: CitedNumberSchema.describe('Passes at or below in an oxygen-enriched space, %vol'),
      })
      .strict(),
    combustible: z
      .object({
        byLelClass: z
          .object({
            boundaryPctVol: CitedNumberSchema.describe(
              'A gas whose LEL is at or above this takes the first limit',
            ),
            atOrAboveMaxPctVol: CitedNumberSchema.describe(
              'Passes at or below, %vol, for a gas with LEL ≥ boundary',
            ),
            belowMaxPctVol: CitedNumberSchema.describe(
              'Passes at or below, %vol, for a gas with LEL < boundary',
            ),
          })
          .strict()
          .nullable()
          .describe(
            'GB 30871-2022 5.3.2: the limit in %vol by the gas LEL class; null where the set has none',
          ),
        maxPctLel: CitedNumberSchema.extend({
          inclusive: z.boolean().describe('true: passes at the limit (≤); false: must be below it (<)'),
        })
          .nullable()
          .describe('A limit in %LEL for every combustible (OSHA: < 10 %LFL; or a site cap)'),
      })
      .strict(),
    toxic: z
      .object({
        molarVolumeL: CitedNumberSchema.describe('L/mol for mg/m³ ↔ ppm: ppm = mg/m³ × Vm / M'),
        limits: z.array(ToxicLimitSchema).describe('Every limit the standard gives for a catalogue gas'),
        judgedAgainst: z
          .array(z.enum(TOXIC_LIMIT_KINDS))
          .min(1)
          .describe('For a pre-entry test, the first kind the gas has in this list is its limit'),
        judgedAgainstSource: z.string().describe('Why those kinds, in that order'),
      })
      .strict(),
    testWindowMin: PerClass(CitedNumberSchema).describe(
      'Work must start within this after a passed test (inclusive)',
    ),
    interruptionMin: PerClass(CitedNumberSchema).describe(
      'An interruption longer than this needs a new test; 0: any interruption does',
    ),
    dailyAnalysis: PerClass(CitedFlagSchema).describe('A new test each (local) day before work'),
    monitoring: PerClass(MonitoringRuleSchema),
    validityH: PerClass(CitedOptionalNumberSchema).describe(
      'Longest a permit is valid, h; null: the job decides',
    ),
    recordRetentionYears: CitedNumberSchema.extend({ value: z.number().int().positive() }).describe(
      'Keep permits at least this long after they close',
    ),
  })
  .strict();
export type PermitRuleSet = z.infer<typeof PermitRuleSetSchema>;
