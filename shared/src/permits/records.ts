import { z } from 'zod';
import { AreaIdSchema, ROLES } from '../access.js';
import { GasIdSchema } from '../gases.js';
import { DaySchema, PhoneSchema } from '../households.js';
import { IdSchema } from '../ids.js';
import {
  GasIdentitySchema,
  HOT_WORK_SITES,
  HotWorkLevelSchema,
  PERMIT_READING_UNITS,
  PermitKindSchema,
  PermitRuleSetIdSchema,
  TestPositionSchema,
} from './model.js';
import { PERMIT_ACTIONS, PermitStateSchema } from './states.js';

/**
 * What the server keeps of confined spaces, permits and gas tests (SPEC §7, annex A of GB
 * 30871-2022), as the API takes and answers it: the zod shapes the server's routes validate with
 * and the console reads its types from. The rules that judge them are in the files beside this.
 */

const Text = (max: number) => z.string().trim().max(max);
const Name = z.string().trim().min(1).max(64);
const IsoTime = z.iso.datetime({ offset: true }).describe('ISO 8601 time with its offset');

// ---------------------------------------------------------------------------------------------
// The confined-space register (台账, MEM Order 13 art. 6)

/** What kind of place a confined space is. */
export const SPACE_KINDS = ['sewer', 'manhole', 'tank', 'pit', 'silo', 'vessel', 'other'] as const;
export type SpaceKind = (typeof SPACE_KINDS)[number];

/** The hazards a space is registered with (the register's 主要危险有害因素). */
export const SPACE_HAZARDS = [
  'oxygen_deficiency',
  'toxic_gas',
  'flammable_gas',
  'engulfment',
  'drowning',
  'mechanical',
  'electrical',
  'fall',
] as const;
export type SpaceHazard = (typeof SPACE_HAZARDS)[number];

const unique =
  <T>(what: string) =>
  (list: readonly T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    list.forEach((x, i) => {
      const key = JSON.stringify(x);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `${what} listed twice` });
      seen.add(key);
    });
  };

export const SpaceInputSchema = z
  .object({
    id: IdSchema.describe('The register\'s own number for the space, lowercase, e.g. "ws-12"'),
    name: Text(128).min(1).describe('As people call it, e.g. 3号污水检查井'),
    area: AreaIdSchema.describe('Who sees the space and its permits (SPEC §9)'),
    site: z
      .string()
      .trim()
      .min(1)
      .max(128)
      .nullable()
      .default(null)
      .describe(
        "The site its permits follow the rules of (GASWATCH_CONFIG sites.<id>.permits); null: the defaults'",
      ),
    location: Text(256).default('').describe('Where it is: address, plant, unit'),
    kind: z.enum(SPACE_KINDS),
    hazards: z
      .array(z.enum(SPACE_HAZARDS))
      .max(SPACE_HAZARDS.length)
      .default([])
      .superRefine(unique('a hazard'))
      .describe('The hazards expected there'),
    gases: z
      .array(GasIdentitySchema)
      .max(16)
      .default([])
      .superRefine(unique('a gas'))
      .describe('Gases expected there: a gas test must be able to measure each'),
    large: z
      .boolean()
      .default(false)
      .describe('Tested at top, middle and bottom (GB 30871-2022 6.3b); else at one representative point'),
    oxygenEnriched: z
      .boolean()
      .default(false)
      .describe('Oxygen-enriched by its process: O2 up to 23.5 %vol passes (6.4a)'),
    ruleSet: PermitRuleSetIdSchema.nullable()
      .default(null)
      .describe("The jurisdiction whose rules its permits follow; null: the site's"),
    notes: Text(2000).default(''),
  })
  .strict();
export type SpaceInput = z.infer<typeof SpaceInputSchema>;

export const SpacePatchSchema = SpaceInputSchema.omit({ id: true })
  .partial()
  .strict()
  .describe('The fields to change; the others stay');

export const SpaceSchema = SpaceInputSchema.extend({
  effectiveRuleSet: PermitRuleSetIdSchema.describe('The rule set its permits are judged by now'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Space = z.infer<typeof SpaceSchema>;

// ---------------------------------------------------------------------------------------------
// Permits

export const CrewMemberSchema = z
  .object({
    name: Name,
    certificate: Text(64)
      .default('')
      .describe('Certificate number (特种作业操作证 for a welder; the training record for an entrant)'),
    role: Text(64).default('').describe('e.g. 作业人, 动火人'),
  })
  .strict();

export const PersonSchema = z
  .object({
    name: Name,
    certificate: Text(64).default(''),
    unit: Text(128).default(''),
    phone: PhoneSchema.optional().describe(
      'Mobile number: the evacuation alert is sent to it when the work is stopped (SMS or a call)',
    ),
  })
  .strict();

export const MeasureInputSchema = z
  .object({ text: Text(500).min(1).describe('A safety measure of the form, e.g. 盲板隔离') })
  .strict();

/** What POST /api/permits takes: the form as the applicant fills it (annex A). */
export const PermitInputSchema = z
  .object({
    kind: PermitKindSchema,
    level: HotWorkLevelSchema.optional().describe('Hot work only: special 特级, level1 一级, level2 二级'),
    space: IdSchema.optional().describe('The registered space: required for confined-space entry'),
    area: AreaIdSchema.optional().describe("Hot work without a space: whose it is; else the space's"),
    site: z.string().trim().min(1).max(128).optional().describe('Hot work without a space: whose rules'),
    location: Text(256).optional().describe('Hot work without a space: where the work is'),
    hotWorkSite: z
      .enum(HOT_WORK_SITES)
      .optional()
      .describe('Hot work: open (default), equipment_wall (on a vessel or pipe), inside_equipment'),
    large: z.boolean().optional().describe('Hot work without a space: the equipment is large (3 levels)'),
    oxygenEnriched: z.boolean().optional().describe('Hot work without a space: oxygen-enriched'),
    work: Text(1000).min(1).describe('作业内容: what is done'),
    applicant: PersonSchema.describe('申请人 and the unit doing the work'),
    crew: z.array(CrewMemberSchema).min(1).max(50).describe('作业人 with their certificates'),
    attendant: PersonSchema.describe('监护人: stays outside and watches'),
    measures: z
      .array(MeasureInputSchema)
      .min(1)
      .max(60)
      .describe('安全措施: each is confirmed by someone before approval'),
    plannedStart: IsoTime,
    plannedEnd: IsoTime.describe("The validity is this or the rule set's longest, whichever is sooner"),
    related: z
      .array(IdSchema)
      .max(20)
      .default([])
      .superRefine(unique('a permit'))
      .describe('Related permits'),
    notes: Text(2000).default(''),
  })
  .strict();
export type PermitInput = z.infer<typeof PermitInputSchema>;

export const PermitPatchSchema = PermitInputSchema.omit({ kind: true })
  .partial()
  .strict()
  .describe('A draft only: the fields to change; changed measures are unconfirmed again');
export type PermitPatch = z.infer<typeof PermitPatchSchema>;

/** Who signed something: the logged-in user (or API token) with the role they had, and when. */
export const SignatureSchema = z.object({
  by: z.string().describe('Username, token id, or "system"'),
  name: z.string().describe('Display name at the time'),
  role: z.enum([...ROLES, 'system']),
  at: z.string(),
});
export type Signature = z.infer<typeof SignatureSchema>;

export const MeasureSchema = z.object({
  n: z.number().int().describe('1-based, as on the form'),
  text: z.string(),
  confirmed: SignatureSchema.nullable(),
});

/** What watches the work: a detector on a gateway, or a portable instrument whose readings are typed. */
export const MonitorSchema = z.union([
  z.object({ device: IdSchema, gw: z.string() }),
  z.object({ instrument: z.string() }),
]);
export type Monitor = z.infer<typeof MonitorSchema>;

/**
 * What became of the work site's sounder at an evacuation (server/src/permits/sounder.ts): the
 * command handed to the broker (sent) or not (send_failed), and the gateway's answer (sounding,
 * or refused: nothing sounds at the site, warn the people there another way).
 */
export const SOUNDER_STATUSES = ['sent', 'send_failed', 'sounding', 'refused'] as const;
export type SounderStatus = (typeof SOUNDER_STATUSES)[number];

export const PermitSchema = z.object({
  id: z.string(),
  kind: PermitKindSchema,
  level: HotWorkLevelSchema.nullable(),
  state: PermitStateSchema,
  ruleSet: z.object({ id: PermitRuleSetIdSchema, name: z.string() }),
  space: z.object({ id: z.string(), name: z.string(), kind: z.enum(SPACE_KINDS) }).nullable(),
  area: z.string(),
  site: z.string().nullable(),
  location: z.string(),
  hotWorkSite: z.enum(HOT_WORK_SITES).nullable(),
  large: z.boolean(),
  oxygenEnriched: z.boolean(),
  work: z.string(),
  applicant: PersonSchema,
  crew: z.array(CrewMemberSchema),
  attendant: PersonSchema,
  approver: z
    .string()
    .nullable()
    .describe('Hot work: who approves by level (leader_in_charge, safety_department, operating_unit)'),
  measures: z.array(MeasureSchema),
  plannedStart: z.string(),
  plannedEnd: z.string(),
  validUntil: z.string().describe("The last valid moment: the planned end or the rule set's longest"),
  related: z.array(z.string()),
  notes: z.string(),
  monitor: MonitorSchema.nullable().describe('What watches the work while it goes on'),
  suspension: z
    .object({
      seq: z.number().int().describe('The signed record that suspended it'),
      at: z.string(),
      by: z.string().describe('Who: a username, a token id, or "system" when the server stopped the work'),
      reason: z
        .string()
        .describe(
          'manual (a break), or why the server stopped the work: alarm, reading_failed, offline, detector_status',
        ),
      retest: z.boolean().describe('Evacuate: work may go on only after a new gas test'),
      message: z
        .string()
        .nullable()
        .describe('What the server saw (the alarm, the failed values), in English'),
    })
    .nullable()
    .describe('While suspended: the suspension it is in; null otherwise'),
  evacuation: z
    .object({
      seq: z
        .number()
        .int()
        .describe('The signed record that stopped the work: what an acknowledgement is of'),
      at: z.string(),
      reason: z
        .string()
        .describe(
          'alarm, reading_failed, offline, detector_status, or permit_expired (expired while work went on)',
        ),
      acknowledged: z
        .object({
          by: z.string().describe('Username or token id'),
          name: z.string().describe('Display name at the time'),
          at: z.string(),
        })
        .nullable()
        .describe(
          'Who at a console took the alert in (POST …/evacuation/ack); null: nobody yet, every console sounds',
        ),
    })
    .nullable()
    .describe(
      'The evacuation the permit is in: suspended by the server (test again) or expired while the work went on; null otherwise',
    ),
  sounder: z
    .object({
      status: z.enum(SOUNDER_STATUSES),
      message: z.string().describe("The gateway's words (refused) or why it was not sent, in English"),
      at: z.string(),
    })
    .nullable()
    .describe(
      "The work site's sounder at the last evacuation: the latest permit.sounder audit row; null: never sounded",
    ),
  positions: z.array(TestPositionSchema).describe('Where a gas test samples, in order'),
  rules: z.object({
    testWindowMin: z.number(),
    interruptionMin: z.number(),
    dailyAnalysis: z.boolean(),
    continuous: z.boolean(),
    recordEveryMin: z.number().describe('Longest gap between monitoring records'),
    validityH: z.number().nullable(),
    keepYears: z.number(),
  }),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  closedAt: z.string().nullable().describe('When it closed, was cancelled or expired'),
  keepUntil: z.string().nullable().describe('It may not be deleted before this'),
});
export type Permit = z.infer<typeof PermitSchema>;

/** What POST /api/permits/:id/evacuation/ack takes: the evacuation (its record) the console shows. */
export const EvacuationAckInputSchema = z
  .object({
    seq: z
      .number()
      .int()
      .min(1)
      .describe(
        "The suspension's record (Permit.evacuation.seq, the evacuate event's seq); another is stale: 409",
      ),
  })
  .strict();

/** One state change: the signed record of SPEC §7 (who, role, when, note). */
export const PermitEventSchema = z.object({
  seq: z.number().int(),
  action: z.enum(PERMIT_ACTIONS as unknown as [string, ...string[]]),
  from: PermitStateSchema,
  to: PermitStateSchema,
  signed: SignatureSchema,
  note: z.string(),
  data: z.record(z.string(), z.unknown()).describe('What the change rests on: the test, the reason'),
  hash: z.string().describe("SHA-256 over this record and the previous one's hash: tamper-evident"),
});
export type PermitEvent = z.infer<typeof PermitEventSchema>;

// ---------------------------------------------------------------------------------------------
// Gas tests

/** What POST /api/permits/:id/tests takes: a detector on a gateway, or a portable instrument typed in. */
export const GasTestInputSchema = z
  .object({
    device: IdSchema.optional().describe('A detector on a gateway: its readings are taken live'),
    instrument: z
      .object({
        id: Text(64).min(1).describe("The portable instrument's own number"),
        gases: z.array(GasIdentitySchema).min(1).max(16).superRefine(unique('a gas')),
        bumpTestedAt: IsoTime.describe('When its last bump test passed, as its log or docking station shows'),
        calibrationDue: DaySchema.describe('Day its calibration is due, as its label or certificate says'),
      })
      .strict()
      .optional()
      .describe('A portable instrument: its readings are typed in and marked manual'),
    combustibleAs: GasIdentitySchema.optional().describe(
      "The gas the detector's combustible (LEL) channel is set for; methane when absent",
    ),
    responseTimeS: z
      .number()
      .positive()
      .max(600)
      .optional()
      .describe('T90 of the detector with its sampling line, s; the configured default when absent'),
    note: Text(500).default(''),
  })
  .strict()
  .refine((v) => (v.device === undefined) !== (v.instrument === undefined), {
    message: 'name either a device or an instrument',
  });
export type GasTestInput = z.infer<typeof GasTestInputSchema>;

export const PlacementInputSchema = z
  .object({ position: TestPositionSchema.describe('Where the detector (or its probe) is now') })
  .strict();

export const ManualValueSchema = z
  .object({
    gas: GasIdentitySchema,
    value: z.number().finite().min(0),
    unit: z.enum(PERMIT_READING_UNITS),
  })
  .strict();

export const TestReadingInputSchema = z
  .object({
    position: TestPositionSchema,
    values: z
      .array(ManualValueSchema)
      .min(1)
      .max(16)
      .optional()
      .describe("A portable instrument's readings as shown; absent for a detector (taken live)"),
  })
  .strict();
export type TestReadingInput = z.infer<typeof TestReadingInputSchema>;

export const TEST_STATUSES = ['in_progress', 'passed', 'failed', 'abandoned'] as const;
export type TestStatus = (typeof TEST_STATUSES)[number];

export const TestReadingSchema = z.object({
  position: TestPositionSchema,
  gas: GasIdentitySchema,
  check: z.enum(['oxygen', 'combustible', 'toxic']),
  value: z.number(),
  unit: z.enum(PERMIT_READING_UNITS),
  pass: z.boolean(),
  reasons: z.array(z.string()).describe('Why it failed, in English (the console words it from checks)'),
  checks: z.array(z.record(z.string(), z.unknown())).describe("judgeReading's checks, as judged"),
  placedAt: z.string(),
  readAt: z.string(),
  sampledAt: z.string().nullable().describe("The detector's own time of the reading (live only)"),
  source: z.enum(['live', 'manual']),
  recorded: SignatureSchema,
});

export const GasTestSchema = z.object({
  id: z.string(),
  permit: z.string(),
  status: z.enum(TEST_STATUSES),
  device: z.string().nullable(),
  gw: z.string().nullable(),
  instrument: z.string().nullable(),
  manual: z.boolean(),
  responseTimeS: z.number(),
  gases: z.array(z.object({ channel: GasIdSchema.nullable(), gas: GasIdentitySchema })),
  steps: z.array(
    z.object({
      position: TestPositionSchema,
      gas: GasIdentitySchema,
      check: z.enum(['oxygen', 'combustible', 'toxic']),
      done: z.boolean(),
    }),
  ),
  placements: z.array(
    z.object({ position: TestPositionSchema, at: z.string(), settledAt: z.string(), by: z.string() }),
  ),
  readings: z.array(TestReadingSchema),
  next: z
    .object({
      position: TestPositionSchema,
      placedAt: z.string().nullable(),
      settledAt: z.string().nullable(),
    })
    .nullable()
    .describe('Where the test goes on; null when it is complete'),
  started: SignatureSchema,
  completedAt: z.string().nullable(),
  note: z.string(),
});
export type GasTest = z.infer<typeof GasTestSchema>;

// ---------------------------------------------------------------------------------------------
// Monitoring during the work

export const MonitoringInputSchema = z
  .object({
    values: z.array(ManualValueSchema).min(1).max(16),
    note: Text(500).default(''),
  })
  .strict()
  .describe('A reading of the portable instrument watching the work, as shown');
export type MonitoringInput = z.infer<typeof MonitoringInputSchema>;

export const MonitoringRecordSchema = z.object({
  at: z.string(),
  device: z.string().nullable(),
  instrument: z.string().nullable(),
  values: z.array(
    z.object({ gas: GasIdentitySchema, value: z.number(), unit: z.enum(PERMIT_READING_UNITS) }),
  ),
  pass: z.boolean(),
  reasons: z.array(z.string()).describe('Why it failed, in English'),
  checks: z.array(z.record(z.string(), z.unknown())).describe('The checks that failed, as judged'),
  why: z
    .enum(['start', 'interval', 'failed', 'manual'])
    .describe('start: the first after entry; interval: due; failed: it stopped the work; manual: typed'),
  recordedBy: z.string(),
  note: z.string(),
});
export type MonitoringRecord = z.infer<typeof MonitoringRecordSchema>;

// ---------------------------------------------------------------------------------------------
// What the caller may do next

/**
 * Why the server refuses a permit action, beyond the rule set's own reasons (PERMIT_REASONS):
 * the state machine, who is asking, and the detector.
 */
export const PERMIT_REFUSALS = [
  'invalid_transition',
  'role_required',
  'system_action',
  'own_permit',
  'measures_unconfirmed',
  'no_passed_test',
  'before_window',
  'evacuated',
  'no_monitor',
  'detector_offline',
  'detector_alarm',
  'detector_unfit',
  'detector_cannot_test',
] as const;
export type PermitRefusalCode = (typeof PERMIT_REFUSALS)[number];

export const RefusalSchema = z.object({
  code: z.string().describe('A PERMIT_REFUSALS or PERMIT_REASONS id'),
  message: z.string().describe('In English; the console words it from code and params'),
  params: z.record(z.string(), z.union([z.string(), z.number()])),
});
export type Refusal = z.infer<typeof RefusalSchema>;

export const NextActionSchema = z.object({
  action: z.enum(PERMIT_ACTIONS as unknown as [string, ...string[]]),
  allowed: z.boolean(),
  route: z.string().describe('How to take it'),
  refusals: z.array(RefusalSchema).describe('Every reason it is refused now; empty when allowed'),
});
export type NextAction = z.infer<typeof NextActionSchema>;

/** GET /api/permits/:id: the permit with everything the console's permit page shows. */
export const PermitDetailSchema = z.object({
  permit: PermitSchema,
  events: z.array(PermitEventSchema),
  tests: z.array(GasTestSchema),
  monitoring: z.object({
    records: z.array(MonitoringRecordSchema).describe('Newest first, at most 200'),
    total: z.number(),
    nextDue: z.string().nullable().describe('The next record is due by this while the work goes on'),
  }),
  actions: z
    .array(NextActionSchema)
    .describe('Every action, whether the caller may take it now, and why not'),
});
export type PermitDetail = z.infer<typeof PermitDetailSchema>;
