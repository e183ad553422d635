import { z } from 'zod';
import { endOf, INTERVALS, type Interval, type ResponseMilestones } from '../alarms/response.js';
import { type DurationFigures, durationFigures } from './percentiles.js';
import { DurationFiguresSchema, inWindow, type TimeWindow } from './response-times.js';

/**
 * The response milestones of many alarms as figures (alarms/response.ts has one alarm's): count,
 * p50 and p90 of each interval, for the weekly report and the ledger.
 */

export const IntervalFiguresSchema = z.object({
  sent: DurationFiguresSchema.describe(
    'Raise → first notification sent, of the alarms first notified in the span',
  ),
  delivered: DurationFiguresSchema.describe(
    'Raise → first notification delivered, of the alarms whose first delivery came in the span',
  ),
  acknowledge: DurationFiguresSchema.describe('Raise → acknowledged, of the alarms acknowledged in the span'),
  onSite: DurationFiguresSchema.describe('Raise → on site, of the alarms someone reached in the span'),
  resolve: DurationFiguresSchema.describe('Raise → resolved, of the alarms resolved in the span'),
});
export type IntervalFigures = z.infer<typeof IntervalFiguresSchema>;

/**
 * Count, p50 and p90 (seconds, nearest rank) of each interval over `ms`: each interval counts
 * the alarms whose milestone at its end fell in `w` — as the acknowledge and resolve figures
 * always have (response-times.ts), so a week's figures are final once the week is over.
 */
export function intervalFigures(ms: Iterable<ResponseMilestones>, w: TimeWindow): IntervalFigures {
  const durations = Object.fromEntries(INTERVALS.map((i) => [i, [] as number[]])) as Record<
    Interval,
    number[]
  >;
  for (const m of ms)
    for (const i of INTERVALS) {
      const end = endOf(m, i);
      if (end !== null && inWindow(end, w)) durations[i].push(Math.max(0, end - m.raisedAt));
    }
  return Object.fromEntries(INTERVALS.map((i) => [i, durationFigures(durations[i])])) as Record<
    Interval,
    DurationFigures
  >;
}
