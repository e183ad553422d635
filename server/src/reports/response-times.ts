import { z } from 'zod';
import type { Alarm } from '../alarms/model.js';
import { IsoTimeSchema } from '../api-schemas.js';
import { durationFigures } from './percentiles.js';

/** A span of wall-clock time, ms since epoch: `from` inclusive, `to` exclusive. */
export interface TimeWindow {
  from: number;
  to: number;
}

export const inWindow = (t: number, w: TimeWindow): boolean => t >= w.from && t < w.to;

export const DurationFiguresSchema = z.object({
  count: z.number().int().describe('Alarms counted'),
  p50: z.number().nullable().describe('Median, seconds (nearest rank); null when none were counted'),
  p90: z.number().nullable().describe('90th percentile, seconds (nearest rank); null when none were counted'),
});

export const ResponseTimesSchema = z.object({
  acknowledge: DurationFiguresSchema.describe(
    'Time to acknowledge (ack.at − detectedAt) of the alarms acknowledged in the span',
  ),
  resolve: DurationFiguresSchema.describe(
    'Time to resolve (resolution.at − detectedAt) of the alarms resolved in the span',
  ),
});
export type ResponseTimes = z.infer<typeof ResponseTimesSchema>;

export const OperatorResponseTimesSchema = ResponseTimesSchema.extend({
  operator: z
    .string()
    .describe('Username or token id (tok_…): who acknowledged (acknowledge) or resolved (resolve)'),
});

export const ResponseTimesSummarySchema = z.object({
  overall: ResponseTimesSchema,
  byOperator: z.array(OperatorResponseTimesSchema).describe('One entry per operator, by operator'),
});
export type ResponseTimesSummary = z.infer<typeof ResponseTimesSummarySchema>;

export const ShiftResponseTimesSchema = ResponseTimesSchema.extend({
  id: z.string(),
  area: z.string().nullable(),
  startedAt: IsoTimeSchema,
  endedAt: IsoTimeSchema,
  handedOverBy: z.string(),
}).describe('The response times of one handed-over shift, the whole shift, its area only');

/** What GET /api/reports/response-times answers. */
export const ResponseTimesReportSchema = ResponseTimesSummarySchema.extend({
  from: IsoTimeSchema,
  to: IsoTimeSchema,
  byShift: z.array(ShiftResponseTimesSchema),
  shiftsTotal: z.number().int().describe('Handed-over shifts overlapping the range'),
});
export type ResponseTimesReport = z.infer<typeof ResponseTimesReportSchema>;

/** The alarm was acknowledged or resolved in the window: it counts in its response times. */
export const respondedIn = (a: Alarm, w: TimeWindow): boolean =>
  (a.ack !== null && inWindow(a.ack.at, w)) || (a.resolution !== undefined && inWindow(a.resolution.at, w));

/**
 * Response times (SPEC §10, §12) of the alarms acknowledged and resolved in `w`, from the time
 * the server raised each one (`detectedAt`, wall clock: a reading replayed hours late counts from
 * when it arrived, not from its own time). The operator of an acknowledgement is `ack.actor`, of a
 * resolution `resolution.actor`: one person may acknowledge and another resolve.
 */
export function responseTimes(alarms: Iterable<Alarm>, w: TimeWindow): ResponseTimesSummary {
  const all = { acknowledge: [] as number[], resolve: [] as number[] };
  const byOperator = new Map<string, typeof all>();
  const add = (kind: keyof typeof all, actor: string, ms: number) => {
    all[kind].push(ms);
    let mine = byOperator.get(actor);
    if (mine === undefined) {
      mine = { acknowledge: [], resolve: [] };
      byOperator.set(actor, mine);
    }
    mine[kind].push(ms);
  };
  // Never negative: a wall clock stepped back between raise and answer is not a faster answer.
  const since = (a: Alarm, at: number) => Math.max(0, at - a.detectedAt);
  for (const a of alarms) {
    if (a.ack !== null && inWindow(a.ack.at, w)) add('acknowledge', a.ack.actor, since(a, a.ack.at));
    if (a.resolution !== undefined && inWindow(a.resolution.at, w))
      add('resolve', a.resolution.actor, since(a, a.resolution.at));
  }
  const figures = (d: typeof all): ResponseTimes => ({
    acknowledge: durationFigures(d.acknowledge),
    resolve: durationFigures(d.resolve),
  });
  return {
    overall: figures(all),
    byOperator: [...byOperator]
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([operator, d]) => ({ operator, ...figures(d) })),
  };
}
