import { DaySchema, INSPECTION_ITEMS } from '@gaswatch/shared';
import { z } from 'zod';
import { ALARM_KINDS, RESOLUTION_REASONS } from '../alarms/model.js';
import { IsoTimeSchema } from '../api-schemas.js';
import { DurationFiguresSchema, ResponseTimesSchema } from './response-times.js';

// The weekly ledger's numbers (SPEC §10, issue 13) as stored and as the API answers them, apart
// from the routes (as shift-schema.ts) so the console takes its types from here. Each number's
// definition is its `.describe()`; docs/server.md "Weekly ledger" says the same in prose.
// "The week" is the ledger's 7 local days; "cumulative" runs from the campaign start
// (GASWATCH_CONFIG ledger.campaignStart; absent: from the first record) to the end of the week.

/** What became of an alarm by the end of the period: its resolution reason, or not resolved yet. */
export const ALARM_OUTCOMES = [...RESOLUTION_REASONS, 'unresolved'] as const;
export type AlarmOutcome = (typeof ALARM_OUTCOMES)[number];

const count = (what: string) => z.number().int().min(0).describe(what);

export const LedgerWeekSchema = z.object({
  start: DaySchema.describe('First day of the week (local, TIME_ZONE)'),
  end: DaySchema.describe('Last day of the week, inclusive'),
});

export const HazardItemCountsSchema = z.object({
  foundWeek: count('Times the item was found on visits dated in the week'),
  rectifiedWeek: count('Times it was found on a visit whose hazards were put right on a day of the week'),
  foundCumulative: count('Times it was found on visits dated from the campaign start to the end of the week'),
  rectifiedCumulative: count('Of those, on visits whose hazards were put right by the end of the week'),
});
export type HazardItemCounts = z.infer<typeof HazardItemCountsSchema>;

export const AlarmCountsSchema = z.object({
  raised: count('Alarms the server raised (detectedAt) in the period'),
  byKind: z
    .record(z.enum(ALARM_KINDS), z.number().int())
    .describe('Those alarms by kind (gas, detector, offline, fault, maintenance)'),
  byOutcome: z
    .record(z.enum(ALARM_OUTCOMES), z.number().int())
    .describe(
      'Those alarms by the reason they were resolved with, if resolved before the end of the week; else unresolved',
    ),
});
export type AlarmCounts = z.infer<typeof AlarmCountsSchema>;

/**
 * The ledger's response times: to acknowledge and to resolve (since issue 13), and from issue 15
 * the first notification sent and delivered and the arrival on site (reports/milestones.ts). The
 * three later ones are absent from ledgers made before them, which stay readable as they were.
 */
export const LedgerResponseTimesSchema = ResponseTimesSchema.extend({
  sent: DurationFiguresSchema.optional().describe(
    'Raise → first notification to a person sent, of the alarms first notified in the period',
  ),
  delivered: DurationFiguresSchema.optional().describe(
    'Raise → first notification delivered (receipt, call picked up or reply), of the alarms first reached in the period',
  ),
  onSite: DurationFiguresSchema.optional().describe('Raise → "on site", of the alarms reached in the period'),
});
export type LedgerResponseTimes = z.infer<typeof LedgerResponseTimesSchema>;

/** One line of every table: a village (or community) of the township, or the township's total. */
export const LedgerRowSchema = z.object({
  area: z
    .string()
    .nullable()
    .describe(
      'The area the row counts with the areas within it; the ledger area itself for what lies directly in it; null for the total',
    ),
  name: z.string().describe("The area's name when the ledger was made"),
  households: z.object({
    registered: count('Households of the area registered (created) before the end of the week'),
    registeredWeek: count('Households registered in the week'),
    visitedWeek: count('Households with at least one visit (inspection) dated in the week'),
    visitedCumulative: count('Households with a visit dated from the campaign start to the end of the week'),
    visitsWeek: count('Visits dated in the week (a household visited twice counts twice)'),
    visitsCumulative: count('Visits dated from the campaign start to the end of the week'),
  }),
  vulnerable: z.object({
    registered: count(
      'Registered households with a vulnerable occupant (elderly living alone, elderly, bedridden, disabled, infant, left-behind child)',
    ),
    covered: count('Of those, households with a detector installed by the end of the week'),
    uncovered: count('Of those, households without one'),
    visitedWeek: count('Vulnerable households with a visit dated in the week'),
    visitedCumulative: count('Vulnerable households with a visit dated from the campaign start'),
  }),
  hazards: z.object({
    foundWeek: count('Checklist items found (hazards) on visits dated in the week'),
    rectifiedWeek: count('Hazards of visits whose rectification was put right on a day of the week'),
    foundCumulative: count('Hazards found on visits dated from the campaign start to the end of the week'),
    rectifiedCumulative: count('Of those, hazards put right by the end of the week'),
    outstanding: count('Of those, hazards not put right by the end of the week'),
    overdue: count(
      'Of the outstanding, hazards whose rectification deadline was the last day of the week or before',
    ),
    byItem: z.record(z.enum(INSPECTION_ITEMS), HazardItemCountsSchema).describe('The same by checklist item'),
  }),
  detectors: z.object({
    installedWeek: count('Detectors installed (installedOn; else the day registered) in the week'),
    installedCumulative: count('Detectors installed from the campaign start to the end of the week'),
    inService: count('Detectors in homes of the area installed by the end of the week'),
    expired: count('Of those, detectors whose expiry day was the last day of the week or before'),
    online: count('Of those, detectors online when the ledger was made'),
    offline: count('Of those, detectors that reported once but were offline when the ledger was made'),
    neverReported: count('Of those, detectors that had never reported when the ledger was made'),
  }),
  alarms: z.object({
    week: AlarmCountsSchema,
    cumulative: AlarmCountsSchema.describe('Alarms raised from the campaign start to the end of the week'),
  }),
  responseTimes: z.object({
    week: LedgerResponseTimesSchema.describe(
      'p50/p90 seconds from the raise to each milestone (first sent, delivered, acknowledged, on site, resolved) of the alarms that reached it in the week',
    ),
    cumulative: LedgerResponseTimesSchema.describe('The same from the campaign start to the end of the week'),
  }),
  advisories: z.object({
    week: count(
      'CO weather advisories for a day of the week, entered for the area, an area within it, or an area above it',
    ),
    highestGradeWeek: z.number().int().nullable().describe('The highest grade among them; null for none'),
    cumulative: count('Advisories for a day from the campaign start to the end of the week'),
  }),
});
export type LedgerRow = z.infer<typeof LedgerRowSchema>;

/** What a ledger holds: its numbers, in the `numbers` JSON of its row. */
export const LedgerNumbersSchema = z.object({
  version: z.literal(1).describe('Shape of these numbers; a new shape is a new version'),
  area: z.string().describe('The township (or any area) the ledger is of'),
  areaName: z.string(),
  week: LedgerWeekSchema,
  campaignStart: DaySchema.nullable().describe('Where cumulative figures start; null: from the first record'),
  timeZone: z.string().describe('The zone of the days (TIME_ZONE)'),
  rows: z
    .array(LedgerRowSchema)
    .describe(
      'One per area directly within the ledger area, by name (and the ledger area itself when something lies directly in it)',
    ),
  total: LedgerRowSchema.describe(
    'The whole area: the sum of the rows, but for response times (of all its alarms) and advisories (an advisory above the rows counts once here and in every row)',
  ),
});
export type LedgerNumbers = z.infer<typeof LedgerNumbersSchema>;

/** A stored ledger without its numbers: what the list answers. */
export const LedgerHeadSchema = z
  .object({
    id: z.string().describe('Sorts by the time it was made'),
    area: z.string(),
    areaName: z.string(),
    week: LedgerWeekSchema,
    generatedAt: IsoTimeSchema,
    generatedBy: z.string().describe("'schedule' for the scheduled run, else the username or token id"),
  })
  .describe('LedgerHead');
export type LedgerHead = z.infer<typeof LedgerHeadSchema>;

export const LedgerSchema = LedgerHeadSchema.extend({ numbers: LedgerNumbersSchema }).describe('Ledger');
export type Ledger = z.infer<typeof LedgerSchema>;

export const LedgerPageSchema = z.object({
  ledgers: z.array(LedgerHeadSchema),
  total: z.number(),
  nextCursor: z.string().nullable(),
});
