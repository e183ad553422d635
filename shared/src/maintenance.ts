import { z } from 'zod';
import { GAS_IDS, GasIdSchema } from './gases.js';
import { DaySchema } from './households.js';
import { IdSchema } from './ids.js';

/**
 * Detector maintenance (SPEC §11, issue 14): bump tests, calibrations and the dates a detector
 * wears out by, and the one judgement others build on: is this detector fit for a gas test before
 * work (a permit's test, SPEC §7)? ISEA's rule, which GB 30871 leaves to the site: bump-tested
 * today and inside its calibration interval; a failed bump test needs a calibration before use.
 */

/** How a bump test was made: started from the console through the gateway, in a docking station, by hand. */
export const BUMP_TEST_METHODS = ['gateway', 'docking_station', 'manual'] as const;
export type BumpTestMethod = (typeof BUMP_TEST_METHODS)[number];
/** The methods a person records by hand (a gateway's test records itself). */
export const RECORDED_BUMP_TEST_METHODS = ['docking_station', 'manual'] as const;

export const TEST_RESULTS = ['pass', 'fail'] as const;
export type TestResult = (typeof TEST_RESULTS)[number];

/**
 * Why a detector may not be used for a gas test before work, in the order the console lists them.
 * `alarm_expired`: a household alarm past the expiry the household registry gives it.
 */
export const LOCKOUT_REASONS = [
  'bump_test_failed',
  'no_bump_test',
  'bump_test_not_today',
  'calibration_failed',
  'no_calibration',
  'calibration_overdue',
  'sensor_end_of_life',
  'alarm_expired',
] as const;
export type LockoutReason = (typeof LOCKOUT_REASONS)[number];

/** The dates a reminder is about: the next calibration, the sensor's end of life, a household alarm's expiry. */
export const REMINDER_ITEMS = ['calibration', 'sensor_end_of_life', 'alarm_expiry'] as const;
export type ReminderItem = (typeof REMINDER_ITEMS)[number];

/** Reminders start this many days before a date falls due, unless configured otherwise. */
export const DEFAULT_REMIND_DAYS = 30;
/** The zone "today" is judged in unless configured otherwise: China has one, UTC+8. */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

// ---------------------------------------------------------------------------------------------
// Days

const DAY_MS = 86_400_000;
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * The calendar day (YYYY-MM-DD) in `timeZone` at `ts`: what "today" means at the site. Throws a
 * RangeError for a zone the runtime does not know.
 */
export function dayInZone(ts: number, timeZone: string = DEFAULT_TIME_ZONE): string {
  let f = dayFormats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, f);
  }
  const parts = f.formatToParts(ts);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year').padStart(4, '0')}-${get('month')}-${get('day')}`;
}

const dayMs = (day: string) => Date.parse(`${day}T00:00:00Z`);

/** Whole days from `from` to `to` (both YYYY-MM-DD): 1 for tomorrow, −1 for yesterday. */
export function daysBetween(from: string, to: string): number {
  return Math.round((dayMs(to) - dayMs(from)) / DAY_MS);
}

/** The day `n` days after `day` (before it for a negative `n`). */
export function addDays(day: string, n: number): string {
  return new Date(dayMs(day) + n * DAY_MS).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------
// What is recorded

const IsoTime = z.iso.datetime({ offset: true }).describe('ISO 8601 time with its offset');
const Person = z.string().trim().min(1).max(64);

/** One gas of a bump test: whether it reached its level, and how far it went. */
export const BumpGasResultSchema = z
  .object({
    gas: GasIdSchema,
    result: z.enum(TEST_RESULTS),
    peak: z
      .number()
      .finite()
      .min(0)
      .nullable()
      .default(null)
      .describe(
        "Furthest the reading went in the test's direction, canonical unit (O2: the lowest); null: not noted",
      ),
  })
  .strict();
export type BumpGasResult = z.infer<typeof BumpGasResultSchema>;

/**
 * What a bump test as recorded must also be, beyond each field's shape: each gas once, and no
 * pass while a gas failed. (A fail with every gas passing is allowed: the sounder or the display
 * may be what failed; the note says.)
 */
function bumpProblems(
  v: { result: TestResult; gases: readonly BumpGasResult[] },
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  v.gases.forEach((g, i) => {
    if (seen.has(g.gas))
      ctx.addIssue({ code: 'custom', path: ['gases', i, 'gas'], message: `${g.gas} twice` });
    seen.add(g.gas);
  });
  const failed = v.gases.filter((g) => g.result === 'fail').map((g) => g.gas);
  if (v.result === 'pass' && failed.length > 0)
    ctx.addIssue({
      code: 'custom',
      path: ['result'],
      message: `cannot pass while ${failed.join(', ')} failed`,
    });
}

/** What POST /api/devices/:id/maintenance/bump-tests takes: a bump test done at a docking station or by hand. */
export const BumpTestInputSchema = z
  .object({
    at: IsoTime.optional().describe('When it was done; now when absent. Never in the future'),
    result: z.enum(TEST_RESULTS),
    gases: z
      .array(BumpGasResultSchema)
      .max(GAS_IDS.length)
      .default([])
      .describe('Per gas: passed or failed, and the peak (a docking station prints them)'),
    method: z
      .enum(RECORDED_BUMP_TEST_METHODS)
      .describe('docking_station (its printout or export) or manual (test gas by hand)'),
    by: Person.optional().describe('Who did the test, by name; the caller when absent'),
    note: z.string().trim().max(1000).default(''),
  })
  .strict()
  .superRefine(bumpProblems);
export type BumpTestInput = z.infer<typeof BumpTestInputSchema>;
/** What a client sends (defaults may be left out). */
export type BumpTestBody = z.input<typeof BumpTestInputSchema>;

/** What POST /api/devices/:id/maintenance/calibrations takes. */
export const CalibrationInputSchema = z
  .object({
    at: IsoTime.optional().describe('When it was done; now when absent. Never in the future'),
    result: z.enum(TEST_RESULTS),
    nextDue: DaySchema.nullable()
      .default(null)
      .describe(
        'Day the next calibration is due (on its certificate); required when it passed, none when it failed',
      ),
    by: Person.optional().describe('Who calibrated it (person or laboratory); the caller when absent'),
    certificate: z.string().trim().max(128).default('').describe('Certificate or report number'),
    note: z.string().trim().max(1000).default(''),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.result === 'pass' && v.nextDue === null)
      ctx.addIssue({
        code: 'custom',
        path: ['nextDue'],
        message: 'a passed calibration says when the next is due',
      });
    if (v.result === 'fail' && v.nextDue !== null)
      ctx.addIssue({
        code: 'custom',
        path: ['nextDue'],
        message: 'a failed calibration has no next due day: the detector needs repair and a new calibration',
      });
  });
export type CalibrationInput = z.infer<typeof CalibrationInputSchema>;
/** What a client sends (defaults may be left out). */
export type CalibrationBody = z.input<typeof CalibrationInputSchema>;

/**
 * What PUT /api/devices/:id/maintenance/dates takes: the dates kept per device. A household
 * alarm's expiry is not here: the household registry keeps it (its detectors' `expiresOn`).
 */
export const MaintenanceDatesSchema = z
  .object({
    sensorEndOfLife: DaySchema.nullable().describe(
      "Last day of the sensor's life (the maker's label); null: unknown",
    ),
    lastSelfTest: DaySchema.nullable().describe(
      'Day of the last self-test (the test button); null: none noted',
    ),
  })
  .strict();
export type MaintenanceDates = z.infer<typeof MaintenanceDatesSchema>;

// ---------------------------------------------------------------------------------------------
// As the API answers

export const BumpTestSchema = z.object({
  id: z.string(),
  device: IdSchema,
  at: z.string().describe('When it was done, ISO 8601'),
  result: z.enum(TEST_RESULTS),
  gases: z.array(BumpGasResultSchema),
  method: z.enum(BUMP_TEST_METHODS),
  by: z.string().describe('Who did the test (gateway tests: who started it)'),
  note: z.string(),
  recordedBy: z.string().describe('Username or token id that recorded it; `gateway:<id>` for a gateway test'),
  recordedAt: z.string(),
});
export type BumpTest = z.infer<typeof BumpTestSchema>;

export const CalibrationSchema = z.object({
  id: z.string(),
  device: IdSchema,
  at: z.string().describe('When it was done, ISO 8601'),
  result: z.enum(TEST_RESULTS),
  nextDue: DaySchema.nullable(),
  by: z.string(),
  certificate: z.string(),
  note: z.string(),
  recordedBy: z.string(),
  recordedAt: z.string(),
});
export type Calibration = z.infer<typeof CalibrationSchema>;

export const ReminderSchema = z.object({
  item: z.enum(REMINDER_ITEMS),
  due: DaySchema.describe('The day it falls due: the last day still in date'),
  daysLeft: z.number().int().describe('Days from today to that day; negative once past it'),
  overdue: z.boolean().describe('The day is past'),
});
export type Reminder = z.infer<typeof ReminderSchema>;

export const FitnessSchema = z.object({
  fit: z.boolean().describe('May be used for a gas test before work (a permit test) now'),
  reasons: z.array(z.enum(LOCKOUT_REASONS)).describe('Every reason it may not; empty when fit'),
  reminders: z
    .array(ReminderSchema)
    .describe('Dates past or falling due within the reminder days, soonest first'),
  today: DaySchema.describe("The site's local day the judgement was made on"),
});
export type Fitness = z.infer<typeof FitnessSchema>;

/** A page of one device's records, the last done first (the rest: the list routes). */
const RecordPage = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number(), nextCursor: z.string().nullable() });

/** What GET /api/devices/:id/maintenance answers: fitness, reminders, the newest records, the dates. */
export const MaintenanceViewSchema = z.object({
  device: IdSchema,
  fitness: FitnessSchema,
  bumpTests: RecordPage(BumpTestSchema).describe('The last done first; the first is the one fitness counts'),
  calibrations: RecordPage(CalibrationSchema).describe(
    'The last done first; the first is the one fitness counts',
  ),
  sensorEndOfLife: DaySchema.nullable(),
  lastSelfTest: DaySchema.nullable(),
  householdAlarm: z
    .object({
      household: IdSchema.describe('GET /api/households/:id: the expiry is kept and changed there'),
      expiresOn: DaySchema.nullable(),
    })
    .nullable()
    .describe('The household alarm this device is, from the household registry; null when it is none'),
});
export type MaintenanceView = z.infer<typeof MaintenanceViewSchema>;

// ---------------------------------------------------------------------------------------------
// The judgement

/** What fitness is judged from; every field may be unknown (null). */
export interface MaintenanceFacts {
  /** The latest bump test by the time it was done (ms since epoch). */
  lastBumpTest: { at: number; result: TestResult } | null;
  /** The latest calibration by the time it was done, with the day the next is due (null after a fail). */
  lastCalibration: { at: number; result: TestResult; nextDue: string | null } | null;
  /** Last day of the sensor's life, YYYY-MM-DD. */
  sensorEndOfLife: string | null;
  /** A household alarm's expiry from the household registry, YYYY-MM-DD. */
  alarmExpiresOn: string | null;
}

export interface FitnessOptions {
  /** Now, ms since epoch. */
  now: number;
  /** IANA zone of the site's local day; Asia/Shanghai when absent. */
  timeZone?: string;
  /** Remind this many days ahead of a date; DEFAULT_REMIND_DAYS when absent. */
  remindDays?: number;
}

/**
 * Whether a detector may be used for a gas test before work now, with every reason it may not,
 * and the dates that are past or fall due within `remindDays`. Fit needs all of: a bump test done
 * today (the site's local day) that passed, and none since that failed; a last calibration that
 * passed and whose next due day is today or later; a sensor and an alarm not past their last
 * day. A date's own day is still in date (due on the 10th: overdue on the 11th). Pure.
 */
export function maintenanceFitness(facts: MaintenanceFacts, opts: FitnessOptions): Fitness {
  const today = dayInZone(opts.now, opts.timeZone ?? DEFAULT_TIME_ZONE);
  const remindDays = opts.remindDays ?? DEFAULT_REMIND_DAYS;
  const reasons: LockoutReason[] = [];
  const reminders: Reminder[] = [];

  const bump = facts.lastBumpTest;
  if (bump === null) reasons.push('no_bump_test');
  else {
    if (bump.result === 'fail') reasons.push('bump_test_failed');
    if (dayInZone(bump.at, opts.timeZone ?? DEFAULT_TIME_ZONE) !== today) reasons.push('bump_test_not_today');
  }

  const date = (item: ReminderItem, due: string | null, reason: LockoutReason) => {
    if (due === null) return;
    const daysLeft = daysBetween(today, due);
    if (daysLeft < 0) reasons.push(reason);
    if (daysLeft <= remindDays) reminders.push({ item, due, daysLeft, overdue: daysLeft < 0 });
  };
  const cal = facts.lastCalibration;
  if (cal === null) reasons.push('no_calibration');
  else if (cal.result === 'fail') reasons.push('calibration_failed');
  else if (cal.nextDue === null) reasons.push('no_calibration');
  else date('calibration', cal.nextDue, 'calibration_overdue');
  date('sensor_end_of_life', facts.sensorEndOfLife, 'sensor_end_of_life');
  date('alarm_expiry', facts.alarmExpiresOn, 'alarm_expired');

  reasons.sort((a, b) => LOCKOUT_REASONS.indexOf(a) - LOCKOUT_REASONS.indexOf(b));
  reminders.sort(
    (a, b) => a.daysLeft - b.daysLeft || REMINDER_ITEMS.indexOf(a.item) - REMINDER_ITEMS.indexOf(b.item),
  );
  return { fit: reasons.length === 0, reasons, reminders, today };
}
