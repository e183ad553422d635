import { IdSchema } from '@gaswatch/shared';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../auth/principal.js';
import { HttpError } from '../errors.js';
import { createEventOutputs } from '../live/outputs.js';
import { deviceEventView } from '../live/views.js';
import { ErrorSchema, IsoTimeSchema, limitSchema } from './schemas.js';

export const MAX_EVENTS_LIMIT = 1_000;
/**
 * Events counted for `total`, at most: the newest this many of the range are read (merged with
 * those not yet stored) and the caller's own among them counted; `totalCapped` says the range
 * holds more. Reading 10 000 events of the embedded store takes ~50 ms (BENCHMARKS.md).
 */
export const EVENTS_TOTAL_CAP = 10_000;

export const EventsQuerySchema = z
  .object({
    device: IdSchema.optional().describe('Only this device (command results have no device)'),
    gateway: IdSchema.optional().describe('Only this gateway'),
    from: IsoTimeSchema.optional().describe('Start, inclusive (event time)'),
    to: IsoTimeSchema.optional().describe('End, exclusive (event time)'),
    limit: limitSchema(MAX_EVENTS_LIMIT, 100, 'events, newest first'),
    cursor: IsoTimeSchema.optional().describe('nextCursor of the previous page: the events before that time'),
  })
  .strict();

const DeviceEventSchema = z.object({
  id: z.string(),
  kind: z.enum(['event', 'command_result']),
  gw: IdSchema,
  dev: IdSchema.nullable(),
  ts: z.string().describe('Event time at the gateway, ISO 8601'),
  receivedAt: z.string().describe('Server time of receipt, ISO 8601'),
  data: z.looseObject({}).describe('The DeviceEvent or CommandResult as the gateway sent it'),
  outputs: z
    .array(
      z.object({
        name: z.string().describe('sounder, valve or fan'),
        value: z.boolean().describe('The coil value the gateway wrote'),
        position: z
          .enum(['closed', 'open', 'on', 'off'])
          .nullable()
          .describe('What that value does on this model; null when unknown'),
        alarmPosition: z
          .boolean()
          .nullable()
          .describe('Where a local alarm drives it (valve closed, fan on)'),
      }),
    )
    .optional()
    .describe("Interlock events: each output switched, read through the device model's profile"),
});

/** /api/events: gateway events and command results (plugins/device-events.ts keeps them). */
const deviceEventsRoutes: FastifyPluginAsyncZod = async (app) => {
  const outputsOf = createEventOutputs(app.devices);

  app.get(
    '/api/events',
    {
      config: { access: 'viewer' },
      schema: {
        description:
          'Gateway events (interlock: valve closed / fan on, fault, bump test result, silenced, local alarm raised/cleared) and command results, newest first',
        tags: ['devices'],
        querystring: EventsQuerySchema,
        response: {
          200: z.object({
            events: z.array(DeviceEventSchema),
            nextCursor: z
              .string()
              .nullable()
              .describe('Pass as `cursor` for the older events (null: none left in the range)'),
            total: z
              .number()
              .describe(
                `Events of the whole range with these filters that you see, whatever the cursor (among the newest ${EVENTS_TOTAL_CAP})`,
              ),
            totalCapped: z
              .boolean()
              .describe(
                `True when the range holds more than ${EVENTS_TOTAL_CAP} events: the total is of the newest ones`,
              ),
          }),
          400: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const from = q.from === undefined ? undefined : Date.parse(q.from);
      const to = q.to === undefined ? undefined : Date.parse(q.to);
      if (from !== undefined && to !== undefined && from > to)
        throw new HttpError(400, 'bad_range', `from (${q.from}) is after to (${q.to})`);
      const p = principalOf(request);
      const sees = (r: { gw: string; dev: string | null }) => app.auth.canSee(p, app.auth.areaOf(r));
      // An area-scoped caller gets the newest `limit` of its own among the newest MAX_EVENTS_LIMIT:
      // a page can come short when other areas were far busier (the list says nothing of theirs).
      // One more than the page tells whether older events follow.
      const limit = p.area === null ? q.limit + 1 : MAX_EVENTS_LIMIT;
      const before =
        q.cursor === undefined ? to : Math.min(to ?? Number.POSITIVE_INFINITY, Date.parse(q.cursor));
      const inRange = await app.deviceEvents.list({
        dev: q.device,
        gw: q.gateway,
        from,
        to,
        limit: EVENTS_TOTAL_CAP + 1,
      });
      const totalCapped = inRange.length > EVENTS_TOTAL_CAP;
      if (totalCapped) inRange.length = EVENTS_TOTAL_CAP;
      // The page is the newest events before the cursor: a prefix of what was read for the total,
      // unless that stopped (at the cap) before the page was full; only then is the store asked again.
      const older = before === undefined ? inRange : inRange.filter((r) => r.ts < before);
      const records =
        !totalCapped || older.length >= limit
          ? older.slice(0, limit)
          : await app.deviceEvents.list({ dev: q.device, gw: q.gateway, from, to: before, limit });
      const total = p.area === null ? inRange.length : inRange.filter(sees).length;
      const mine = p.area === null ? records : records.filter(sees);
      const shown = mine.slice(0, q.limit);
      let nextCursor: string | null = null;
      const last = shown.at(-1);
      if (mine.length > q.limit && last !== undefined) {
        // The next page is the events before a time (`to` is exclusive), so a page never ends
        // inside one millisecond: events of the last one's ms go to the next page, unless the
        // whole page is that one ms (then the rest of that ms is skipped, said in the docs).
        const cut = shown.findIndex((r) => r.ts === last.ts);
        if (cut > 0 && (mine[q.limit] as { ts: number }).ts === last.ts) shown.length = cut;
        nextCursor = new Date((shown.at(-1) as { ts: number }).ts).toISOString();
      }
      return { events: shown.map((r) => deviceEventView(r, outputsOf(r))), nextCursor, total, totalCapped };
    },
  );
};

export default deviceEventsRoutes;
