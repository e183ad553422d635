import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../auth/principal.js';
import { visibleAreas } from '../auth/scope.js';
import { shiftsOverlapping } from '../db/shifts.js';
import { HttpError } from '../errors.js';
import { ResponseTimesReportSchema, respondedIn, responseTimes } from '../reports/response-times.js';
import { shiftWindow } from '../reports/shift-report.js';
import { alarmsReady } from './alarms.js';
import { ErrorSchema, IsoTimeSchema } from './schemas.js';
import { alarmsSeenBy } from './shifts.js';

const DAY_MS = 86_400_000;
/** The range when the query names none: the last week, the ledger's period (SPEC §10). */
export const DEFAULT_RANGE_MS = 7 * DAY_MS;
/** Longest range of one request: a quarter. */
export const MAX_RANGE_MS = 93 * DAY_MS;
/** Most shifts one answer breaks the figures down by (the newest; `shiftsTotal` counts all). */
export const MAX_SHIFTS = 500;

const Query = z
  .object({
    from: IsoTimeSchema.optional().describe('Start, inclusive (default: 7 days before `to`)'),
    to: IsoTimeSchema.optional().describe('End, exclusive (default: now)'),
  })
  .strict();

/** Reports over the alarm records (SPEC §10, §13). */
const reportRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/reports/response-times',
    {
      config: { access: 'viewer' },
      preHandler: alarmsReady(app.alarms),
      schema: {
        tags: ['reports'],
        summary: 'Time to acknowledge and to resolve, p50 and p90, overall, by operator and by shift',
        description: `Of the alarms in your area acknowledged (resolved) in [from, to): ack.at (resolution.at) − detectedAt, in seconds, nearest-rank percentiles. byShift: the handed-over shifts overlapping the range, newest first (at most ${MAX_SHIFTS}), each over the whole shift. Ranges up to 93 days.`,
        querystring: Query,
        response: {
          200: ResponseTimesReportSchema,
          400: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const p = principalOf(request);
      const to = q.to === undefined ? app.clock() : Date.parse(q.to);
      const from = q.from === undefined ? to - DEFAULT_RANGE_MS : Date.parse(q.from);
      const iso = (ms: number) => new Date(ms).toISOString();
      if (from > to) throw new HttpError(400, 'bad_range', `from (${iso(from)}) is after to (${iso(to)})`);
      if (to - from > MAX_RANGE_MS)
        throw new HttpError(
          400,
          'range_too_large',
          `from ${iso(from)} to ${iso(to)} is ${Math.ceil((to - from) / DAY_MS)} days; at most 93`,
        );

      const shifts = await shiftsOverlapping(app.db, {
        from,
        to,
        areas: visibleAreas(app, p),
        limit: MAX_SHIFTS,
      });
      // Every alarm answered in the range or in one of its shifts (a span covering them all), once.
      const spans = [{ from, to }, ...shifts.shifts.map((s) => shiftWindow(s.started_at, s.ended_at))];
      const span = {
        from: Math.min(...spans.map((w) => w.from)),
        to: Math.max(...spans.map((w) => w.to)),
      };
      const answered = alarmsSeenBy(app, p, (a) => respondedIn(a, span)).map((alarm) => ({
        alarm,
        area: app.auth.areaOf(alarm),
      }));
      return {
        from: iso(from),
        to: iso(to),
        ...responseTimes(
          answered.map((x) => x.alarm),
          { from, to },
        ),
        byShift: shifts.shifts.map((s) => {
          const ofArea = answered.filter((x) => app.auth.areas.within(x.area, s.area)).map((x) => x.alarm);
          return {
            id: s.id,
            area: s.area,
            startedAt: iso(s.started_at),
            endedAt: iso(s.ended_at),
            handedOverBy: s.handed_over_by,
            ...responseTimes(ofArea, shiftWindow(s.started_at, s.ended_at)).overall,
          };
        }),
        shiftsTotal: shifts.total,
      };
    },
  );
};

export default reportRoutes;
