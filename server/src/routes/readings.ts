import { GasIdSchema, IdSchema } from '@gaswatch/shared';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../auth/principal.js';
import { HttpError } from '../errors.js';
import type { AggregateRow, ReadingRow } from '../store/types.js';
import { ErrorSchema, IsoTimeSchema, limitSchema } from './schemas.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Smallest aggregation bucket. */
export const MIN_EVERY_MS = 1_000;
/** Longest range of raw rows in one request. */
export const MAX_RAW_RANGE_MS = 7 * 86_400_000;
/** Most buckets in one aggregated answer. */
export const MAX_BUCKETS = 10_000;
export const MAX_LIMIT = 10_000;
/**
 * Raw rows counted for `total`, at most. A week of one-second readings is 604 800 rows; counting
 * 100 000 of the embedded store takes ~40 ms (~70 ms for one gas; BENCHMARKS.md), so the count stops there and
 * says so (`totalCapped`). Aggregated answers count their buckets (at most MAX_BUCKETS a gas).
 */
export const READINGS_TOTAL_CAP = 100_000;

export const ReadingsQuerySchema = z
  .object({
    device: IdSchema.describe('Device id'),
    gas: GasIdSchema.optional().describe('Only this gas'),
    from: IsoTimeSchema.optional().describe('Start, inclusive (default: one hour before `to`)'),
    to: IsoTimeSchema.optional().describe('End, exclusive (default: now)'),
    every: z
      .string()
      .regex(/^\d{1,9}(ms|s|m|h|d)$/, 'a duration like 10s, 1m, 1h')
      .optional()
      .describe('Aggregate into buckets of this length (mean, min, max, count); raw rows when absent'),
    limit: limitSchema(MAX_LIMIT, 1_000, 'rows'),
    cursor: IsoTimeSchema.optional().describe(
      'nextCursor of the previous page: raw rows after that sampling time (aggregates are not paged: narrow the range)',
    ),
  })
  .strict();

function parseEvery(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s);
  return Number(m?.[1]) * UNIT_MS[(m?.[2] ?? 'ms') as keyof typeof UNIT_MS];
}

const ReadingsAnswerSchema = z.object({
  device: IdSchema,
  gas: GasIdSchema.nullable(),
  from: z.string(),
  to: z.string(),
  every: z.string().nullable(),
  everyMs: z.number().nullable().describe('The bucket length used, ms (every, capped at the range)'),
  rows: z
    .array(z.looseObject({ ts: z.string() }))
    .describe('Raw: {ts, seq, values, status, ...}; aggregated: {ts, gas, mean, min, max, count}'),
  nextCursor: z
    .string()
    .nullable()
    .describe('Raw rows: pass as `cursor` for the rows after this page (null: none left in the range)'),
  total: z
    .number()
    .describe(
      `Rows in the whole range with these filters, whatever the cursor (raw: counted up to ${READINGS_TOTAL_CAP}; aggregated: every bucket row, of which \`rows\` holds the first \`limit\`)`,
    ),
  totalCapped: z
    .boolean()
    .describe(`True when the count stopped at ${READINGS_TOTAL_CAP}: there are at least that many`),
});

/** /api/readings: one device's readings from the store, raw or aggregated. */
const readingsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/readings',
    {
      config: { access: 'viewer' },
      schema: {
        description: `Readings of one device, raw or aggregated. Raw ranges up to 7 days; at most ${MAX_BUCKETS} buckets; every ≥ 1s.`,
        tags: ['readings'],
        querystring: ReadingsQuerySchema,
        response: { 200: ReadingsAnswerSchema, 400: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => {
      const q = request.query;
      // A device outside the caller's area reads as one without readings: 404, as for no device.
      const d = app.devices.get(q.device);
      const area = app.auth.areaOf({ gw: d?.gw ?? '', dev: q.device, site: d?.state?.site });
      if (!app.auth.canSee(principalOf(request), area))
        throw new HttpError(404, 'not_found', `no device ${q.device}`);
      const to = q.to ? Date.parse(q.to) : app.clock();
      const from = q.from ? Date.parse(q.from) : to - 3_600_000;
      if (from > to)
        throw new HttpError(
          400,
          'bad_range',
          `from (${new Date(from).toISOString()}) is after to (${new Date(to).toISOString()})`,
        );
      // A bucket longer than the range is the range: one bucket starting at `from`.
      const everyMs = q.every ? Math.min(parseEvery(q.every), Math.max(to - from, MIN_EVERY_MS)) : undefined;
      if (everyMs !== undefined) {
        if (everyMs < MIN_EVERY_MS)
          throw new HttpError(400, 'every_too_small', `every must be at least 1s, got ${q.every}`);
        const buckets = Math.ceil((to - from) / everyMs);
        if (buckets > MAX_BUCKETS) {
          throw new HttpError(
            400,
            'range_too_large',
            `${buckets} buckets of ${q.every}; at most ${MAX_BUCKETS}: widen every or narrow the range`,
          );
        }
      } else if (to - from > MAX_RAW_RANGE_MS) {
        throw new HttpError(
          400,
          'range_too_large',
          'raw readings span at most 7 days; pass every= to aggregate',
        );
      }
      if (q.cursor !== undefined && everyMs !== undefined)
        throw new HttpError(
          400,
          'bad_cursor',
          'cursor pages raw readings only; aggregates come in one answer',
        );
      const iso = (ts: number) => new Date(ts).toISOString();
      if (everyMs !== undefined) {
        // The store computes every bucket of the range either way: asked for all, the answer
        // can count them and still hold only `limit`.
        const all = (await app.store.queryReadings({
          dev: q.device,
          gas: q.gas,
          from,
          to,
          everyMs,
        })) as AggregateRow[];
        return {
          device: q.device,
          gas: q.gas ?? null,
          from: iso(from),
          to: iso(to),
          every: q.every ?? null,
          everyMs,
          rows: all.slice(0, q.limit).map((r) => ({ ...r, ts: iso(r.ts) })),
          nextCursor: null,
          total: all.length,
          totalCapped: false,
        };
      }
      const [rows, counted] = await Promise.all([
        app.store.queryReadings({
          dev: q.device,
          gas: q.gas,
          // Sampling times are unique per device (de-duplication is by device and ts): the page
          // after a cursor starts 1 ms after it.
          from: q.cursor === undefined ? from : Math.max(from, Date.parse(q.cursor) + 1),
          to,
          limit: q.limit,
        }) as Promise<ReadingRow[]>,
        app.store.countReadings(q.device, { gas: q.gas, from, to, cap: READINGS_TOTAL_CAP }),
      ]);
      return {
        device: q.device,
        gas: q.gas ?? null,
        from: iso(from),
        to: iso(to),
        every: null,
        everyMs: null,
        rows: rows.map((r) => ({ ...r, ts: iso(r.ts) })),
        nextCursor: rows.length >= q.limit ? iso((rows.at(-1) as ReadingRow).ts) : null,
        total: counted,
        totalCapped: counted >= READINGS_TOTAL_CAP,
      };
    },
  );
};

export default readingsRoutes;
