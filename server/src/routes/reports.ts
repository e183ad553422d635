import { AreaIdSchema } from '@gaswatch/shared';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { responseMilestones } from '../alarms/response.js';
import { principalOf } from '../auth/principal.js';
import { visibleAreas } from '../auth/scope.js';
import { notifiedMilestones } from '../db/notifications.js';
import { shiftsOverlapping } from '../db/shifts.js';
import { HttpError } from '../errors.js';
import { addDays, ISO_WEEK, isoWeekOf, isoWeekStart, localTime } from '../reports/ledger-week.js';
import { ResponseTimesReportSchema, respondedIn, responseTimes } from '../reports/response-times.js';
import { shiftWindow } from '../reports/shift-report.js';
import {
  mayEndIn,
  type ReportWeek,
  responseWeeks,
  WeeklyResponseTimesSchema,
} from '../reports/weekly-response.js';
import { ZoneClock } from '../zone.js';
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

/** Most weeks one weekly report spans: a quarter, as the range of the report above. */
export const MAX_WEEKS = 13;
/** Weeks the weekly report spans when the query names none: the last four, this one included. */
export const DEFAULT_WEEKS = 4;

const IsoWeekSchema = z
  .string()
  .regex(ISO_WEEK, 'an ISO week such as 2026-W48')
  .describe('ISO 8601 week of local days (TIME_ZONE), e.g. 2026-W48');

const WeeklyQuery = z
  .object({
    from: IsoWeekSchema.optional().describe(`First week (default: ${DEFAULT_WEEKS - 1} weeks before \`to\`)`),
    to: IsoWeekSchema.optional().describe('Last week, inclusive (default: this week)'),
    area: AreaIdSchema.optional().describe(
      'Only the alarms of this area and the areas within it (default: all you see)',
    ),
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

  app.get(
    '/api/reports/response-times/weekly',
    {
      config: { access: 'viewer' },
      preHandler: alarmsReady(app.alarms),
      schema: {
        tags: ['reports'],
        summary:
          'Raise → first sent → delivered → acknowledged → on site → resolved: p50 and p90 by ISO week, area and step',
        description: `Of the alarms in your area (or in \`area\`): for each interval from the raise (detectedAt) to a milestone, count, p50 and p90 in seconds (nearest rank), of the alarms whose milestone fell in the week (local ISO weeks of TIME_ZONE). Each week overall, by the step that acknowledged, and by the alarms' own area, each of those by step too. First sent and delivered count messages to people (not webhooks). At most ${MAX_WEEKS} weeks.`,
        querystring: WeeklyQuery,
        response: {
          200: WeeklyResponseTimesSchema,
          400: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const p = principalOf(request);
      const zone = new ZoneClock(app.config.timeZone);
      const to = q.to ?? isoWeekOf(zone.day(app.clock()));
      const toStart = isoWeekStart(to);
      if (toStart === null)
        throw new HttpError(400, 'bad_week', `there is no week ${to}: that year has 52 weeks`);
      const from = q.from ?? isoWeekOf(addDays(toStart, -7 * (DEFAULT_WEEKS - 1)));
      const fromStart = isoWeekStart(from);
      if (fromStart === null)
        throw new HttpError(400, 'bad_week', `there is no week ${from}: that year has 52 weeks`);
      if (fromStart > toStart) throw new HttpError(400, 'bad_range', `from (${from}) is after to (${to})`);
      const weeks: ReportWeek[] = [];
      for (let start = fromStart; start <= toStart && weeks.length <= MAX_WEEKS; start = addDays(start, 7)) {
        const end = addDays(start, 6);
        weeks.push({
          week: isoWeekOf(start),
          start,
          end,
          window: { from: localTime(zone, start), to: localTime(zone, addDays(start, 7)) },
        });
      }
      if (weeks.length > MAX_WEEKS)
        throw new HttpError(
          400,
          'range_too_large',
          `${from} to ${to} is more than ${MAX_WEEKS} weeks; ask for fewer`,
        );
      const areas = app.auth.areas;
      if (q.area !== undefined && (!areas.has(q.area) || !areas.within(q.area, p.area)))
        throw new HttpError(
          400,
          'unknown_area',
          `no area ${q.area} within your area (GET /api/areas lists them)`,
        );

      const span = { from: weeks[0]?.window.from ?? 0, to: weeks.at(-1)?.window.to ?? 0 };
      const scope = q.area ?? null;
      const alarms = alarmsSeenBy(app, p, (a) => mayEndIn(a, span)).flatMap((alarm) => {
        const area = app.auth.areaOf(alarm);
        return scope === null || areas.within(area, scope) ? [{ alarm, area }] : [];
      });
      const notified = await notifiedMilestones(
        app.db,
        alarms.map((x) => x.alarm.id),
      );
      return {
        from: weeks[0]?.week ?? from,
        to: weeks.at(-1)?.week ?? to,
        area: scope,
        timeZone: zone.tz,
        weeks: responseWeeks(
          weeks,
          alarms.map((x) => ({
            milestones: responseMilestones(x.alarm, notified.get(x.alarm.id)),
            area: x.area,
          })),
          (id) => areas.nameOf(id),
        ),
      };
    },
  );
};

export default reportRoutes;
