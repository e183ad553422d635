import { DaySchema } from '@gaswatch/shared';
import { z } from 'zod';
import { type Alarm, isOpen } from '../alarms/model.js';
import { endOf, INTERVALS, type ResponseMilestones } from '../alarms/response.js';
import { IntervalFiguresSchema, intervalFigures } from './milestones.js';
import type { TimeWindow } from './response-times.js';

/**
 * The response-time report by ISO week, area and step (issue 15): p50/p90 of each interval of
 * reports/milestones.ts. An interval counts in the week its end fell in (raise → acknowledged in
 * the week of the acknowledgement), as the weekly ledger and the other response-time figures count.
 */

const StepSchema = z
  .number()
  .int()
  .nullable()
  .describe(
    'The step that acknowledged (ackStep of the alarm’s response: the step of the message answered, or the highest step notified before someone acknowledged in the console; 0: before anyone was notified); null: not acknowledged',
  );

export const StepFiguresSchema = IntervalFiguresSchema.extend({ step: StepSchema });

export const AreaWeekSchema = z.object({
  area: z
    .string()
    .nullable()
    .describe("The alarms' own area (a household's, else its site's); null: placed in none"),
  name: z.string().nullable().describe("The area's name; null for none or an area since removed"),
  all: IntervalFiguresSchema.describe('Every alarm of the area, whatever its step'),
  byStep: z
    .array(StepFiguresSchema)
    .describe('By the step that acknowledged, lowest first, not acknowledged last'),
});

export const ResponseWeekSchema = z.object({
  week: z.string().describe('ISO 8601 week, e.g. 2026-W48, of local days (TIME_ZONE)'),
  start: DaySchema.describe('Its Monday'),
  end: DaySchema.describe('Its Sunday'),
  all: IntervalFiguresSchema.describe('Every alarm of the report'),
  byStep: z
    .array(StepFiguresSchema)
    .describe('By the step that acknowledged, lowest first, not acknowledged last'),
  byArea: z.array(AreaWeekSchema).describe('By area, by name; only areas with something counted in the week'),
});
export type ResponseWeek = z.infer<typeof ResponseWeekSchema>;

export const WeeklyResponseTimesSchema = z.object({
  from: z.string().describe('First ISO week'),
  to: z.string().describe('Last ISO week, inclusive'),
  area: z.string().nullable().describe('The area reported on with the areas within it; null: all you see'),
  timeZone: z.string().describe('The zone of the weeks (TIME_ZONE)'),
  weeks: z
    .array(ResponseWeekSchema)
    .describe('Every week of the range, oldest first, also weeks with nothing'),
});
export type WeeklyResponseTimes = z.infer<typeof WeeklyResponseTimesSchema>;

export interface ReportWeek {
  week: string;
  start: string;
  end: string;
  window: TimeWindow;
}

/** Slack for a receipt that arrives after everything the alarm itself records. */
const LATE_RECEIPT_MS = 86_400_000;

/**
 * Whether an alarm may have a milestone in `w`: raised before its end, and still open or with
 * something the alarm records (acknowledgement, on site, resolution) no earlier than a day before
 * it. Chooses whose notification records are read; a first delivery more than a day after
 * everything else the alarm records is the only milestone this could miss.
 */
export function mayEndIn(a: Readonly<Alarm>, w: TimeWindow): boolean {
  if (a.detectedAt >= w.to) return false;
  if (isOpen(a)) return true;
  const last = Math.max(a.detectedAt, a.ack?.at ?? 0, a.onSite?.at ?? 0, a.resolution?.at ?? 0);
  return last >= w.from - LATE_RECEIPT_MS;
}

const endsIn = (m: ResponseMilestones, w: TimeWindow): boolean =>
  INTERVALS.some((i) => {
    const t = endOf(m, i);
    return t !== null && t >= w.from && t < w.to;
  });

/** Steps lowest first, "not acknowledged" (null) last. */
const byStepOrder = (x: number | null, y: number | null) =>
  (x ?? Number.MAX_SAFE_INTEGER) - (y ?? Number.MAX_SAFE_INTEGER);

function bySteps(ms: readonly ResponseMilestones[], w: TimeWindow) {
  const groups = new Map<number | null, ResponseMilestones[]>();
  for (const m of ms) groups.set(m.ackStep, [...(groups.get(m.ackStep) ?? []), m]);
  return [...groups.keys()].sort(byStepOrder).map((step) => ({
    step,
    ...intervalFigures(groups.get(step) ?? [], w),
  }));
}

/** The report's weeks from each alarm's milestones and area. */
export function responseWeeks(
  weeks: readonly ReportWeek[],
  alarms: ReadonlyArray<{ milestones: ResponseMilestones; area: string | null }>,
  areaName: (id: string) => string | undefined,
): ResponseWeek[] {
  return weeks.map(({ week, start, end, window: w }) => {
    const counted = alarms.filter((x) => endsIn(x.milestones, w));
    const areas = new Map<string | null, ResponseMilestones[]>();
    for (const x of counted) areas.set(x.area, [...(areas.get(x.area) ?? []), x.milestones]);
    const byArea = [...areas].map(([area, ms]) => ({
      area,
      name: area === null ? null : (areaName(area) ?? null),
      all: intervalFigures(ms, w),
      byStep: bySteps(ms, w),
    }));
    byArea.sort((x, y) => {
      if (x.area === null || y.area === null) return x.area === null ? 1 : -1;
      return (x.name ?? x.area).localeCompare(y.name ?? y.area, 'zh-CN') || (x.area < y.area ? -1 : 1);
    });
    const ms = counted.map((x) => x.milestones);
    return { week, start, end, all: intervalFigures(ms, w), byStep: bySteps(ms, w), byArea };
  });
}
