import { z } from 'zod';
import { GasIdSchema } from '../gases.js';

/**
 * The words of confined-space entry and hot-work permits (SPEC §7, issue 14) as ids: what a permit
 * is, where gas is tested, what a reading is. The numbers live in rule-sets.ts; the words people
 * read in permit-words.ts.
 */

/** The jurisdictions a site may choose its permit rules from (SPEC §7). */
export const PERMIT_RULE_SET_IDS = ['gb30871', 'mem13', 'osha1910'] as const;
export const PermitRuleSetIdSchema = z
  .enum(PERMIT_RULE_SET_IDS)
  .describe(
    'gb30871: GB 30871-2022 (chemical plants); mem13: MEM Order 13 of 2023 (industry and trade); osha1910: OSHA 29 CFR 1910.146',
  );
export type PermitRuleSetId = z.infer<typeof PermitRuleSetIdSchema>;

/** What a permit is for. */
export const PERMIT_KINDS = ['confined_space', 'hot_work'] as const;
export const PermitKindSchema = z.enum(PERMIT_KINDS);
export type PermitKind = z.infer<typeof PermitKindSchema>;

/**
 * Hot-work levels of GB 30871-2022, strictest first: `special` 特级, `level1` 一级, `level2` 二级.
 * English ids because ids are ASCII everywhere in the API; the words module says them in Chinese.
 */
export const HOT_WORK_LEVELS = ['special', 'level1', 'level2'] as const;
export const HotWorkLevelSchema = z.enum(HOT_WORK_LEVELS).describe('special 特级, level1 一级, level2 二级');
export type HotWorkLevel = z.infer<typeof HotWorkLevelSchema>;

/** A permit's kind, with the level exactly when it is hot work (so no function has to guess one). */
export const PermitTypeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('confined_space') }).strict(),
  z.object({ kind: z.literal('hot_work'), level: HotWorkLevelSchema }).strict(),
]);
export type PermitType = z.infer<typeof PermitTypeSchema>;

/**
 * The rows of a rule set's timing tables: the standards set intervals and validity per
 * confined space and per hot-work level, so the data is keyed by these four.
 */
export const PERMIT_CLASSES = [
  'confined_space',
  'hot_work_special',
  'hot_work_level1',
  'hot_work_level2',
] as const;
export type PermitClass = (typeof PERMIT_CLASSES)[number];

export function permitClassOf(type: PermitType): PermitClass {
  return type.kind === 'confined_space' ? 'confined_space' : `hot_work_${type.level}`;
}

/**
 * Who approves a hot-work permit, by level (GB 30871-2022; SPEC §7): 特级 主管领导 (the leader in
 * charge), 一级 安全管理部门 (the safety department), 二级 基层单位 (the operating unit where the
 * work is). The server maps these to people; here they are the steps a permit needs.
 */
export const HOT_WORK_APPROVERS = {
  special: 'leader_in_charge',
  level1: 'safety_department',
  level2: 'operating_unit',
} as const satisfies Record<HotWorkLevel, string>;
export type HotWorkApprover = (typeof HOT_WORK_APPROVERS)[HotWorkLevel];

/** What a gas test checks, in the order the test takes them: oxygen, then combustibles, then toxics. */
export const GAS_CHECKS = ['oxygen', 'combustible', 'toxic'] as const;
export type GasCheckKind = (typeof GAS_CHECKS)[number];

/**
 * Where a reading is taken. `top`/`middle`/`bottom`: the levels of a large space or vessel
 * (GB 30871-2022 6.3b, 5.3.1a); `representative`: the one point of a small space; `within_10m`:
 * around the hot-work point (5.3.1b); `inside_equipment`: inside the vessel or pipe whose wall is
 * worked on, or where the hot work is inside it (5.3.1b).
 */
export const TEST_POSITIONS = [
  'top',
  'middle',
  'bottom',
  'representative',
  'within_10m',
  'inside_equipment',
] as const;
export const TestPositionSchema = z.enum(TEST_POSITIONS);
export type TestPosition = z.infer<typeof TestPositionSchema>;

/** Where hot work is done, as far as the sampling points care (GB 30871-2022 5.3.1a, b). */
export const HOT_WORK_SITES = ['open', 'equipment_wall', 'inside_equipment'] as const;
export type HotWorkSite = (typeof HOT_WORK_SITES)[number];

/** What about the space changes the test: its size, its oxygen, where the hot work is. */
export const PermitSpaceSchema = z
  .object({
    large: z
      .boolean()
      .default(false)
      .describe('A large space or vessel: tested at top, middle and bottom (GB 30871-2022 6.3b, 5.3.1a)'),
    oxygenEnriched: z
      .boolean()
      .default(false)
      .describe('Oxygen-enriched by its process: O2 up to 23.5 %vol passes (GB 30871-2022 6.4a)'),
    hotWorkSite: z
      .enum(HOT_WORK_SITES)
      .default('open')
      .describe(
        'Hot work only: open (around the point), equipment_wall (on a vessel or pipe: around the point and inside it), inside_equipment',
      ),
  })
  .strict();
export type PermitSpace = z.infer<typeof PermitSpaceSchema>;

/** Units a test reading may come in: combustibles in %LEL, %vol or ppm, toxics in ppm or mg/m³, O2 in %vol. */
export const PERMIT_READING_UNITS = ['%vol', '%LEL', 'ppm', 'mg/m³'] as const;
export type PermitReadingUnit = (typeof PERMIT_READING_UNITS)[number];

export const PermitReadingSchema = z
  .object({
    value: z.number().finite().describe('As the detector shows it'),
    unit: z.enum(PERMIT_READING_UNITS).describe('The unit the value is in'),
  })
  .strict();
export type PermitReading = z.infer<typeof PermitReadingSchema>;

/**
 * A combustible gas the catalogue does not have (hydrogen, a solvent vapour), known by its lower
 * explosive limit: that alone decides which GB 30871 limit applies (LEL ≥ 4 %vol → 0.5 %vol).
 */
export const CustomCombustibleSchema = z
  .object({
    name: z.string().trim().min(1).max(64).describe('As the permit names it, e.g. 氢气'),
    lelPercentVol: z.number().positive().max(100).describe('Lower explosive limit, %vol (hydrogen 4.0)'),
  })
  .strict();
export type CustomCombustible = z.infer<typeof CustomCombustibleSchema>;

/**
 * The gas a reading is of. A %LEL reading is taken to be of this gas, i.e. from a detector set
 * (or calibrated) for it: the identity converts %LEL to %vol, and the %vol decides.
 */
export const GasIdentitySchema = z.union([GasIdSchema, CustomCombustibleSchema]);
export type GasIdentity = z.infer<typeof GasIdentitySchema>;

/**
 * Why a check failed or a permit may not go on. Gas: `o2_low`, `o2_high`, `o2_high_enriched`,
 * `combustible_high` (above an inclusive limit), `combustible_not_below` (at or above a strict
 * one, OSHA's 10 %LFL), `toxic_high`, `no_limit` (the rule set has no limit for this gas: fail
 * closed). Time: `test_too_old`, `start_before_test`, `interruption_too_long`, `interrupted`
 * (any interruption), `new_day`, `permit_expired`.
 */
export const PERMIT_REASONS = [
  'o2_low',
  'o2_high',
  'o2_high_enriched',
  'combustible_high',
  'combustible_not_below',
  'toxic_high',
  'no_limit',
  'test_too_old',
  'start_before_test',
  'interruption_too_long',
  'interrupted',
  'new_day',
  'permit_expired',
] as const;
export type PermitReason = (typeof PERMIT_REASONS)[number];
