import { GasIdSchema, IdSchema } from '@gaswatch/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../errors.js';
import type { AggregateRow, ReadingRow } from '../store/types.js';
import { ErrorBody, parseOr400 } from './validate.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Smallest aggregation bucket. */
export const MIN_EVERY_MS = 1_000;
/** Longest range of raw rows in one request. */
export const MAX_RAW_RANGE_MS = 7 * 86_400_000;
/** Most buckets in one aggregated answer. */
export const MAX_BUCKETS = 10_000;
export const MAX_LIMIT = 10_000;

const IsoTime = z.iso.datetime({ offset: true }).describe('ISO 8601 time, e.g. 2026-11-23T18:00:00Z');

export const ReadingsQuerySchema = z
  .object({
    device: IdSchema.describe('Device id'),
    gas: GasIdSchema.optional().describe('Only this gas'),
    from: IsoTime.optional().describe('Start, inclusive (default: one hour before `to`)'),
    to: IsoTime.optional().describe('End, exclusive (default: now)'),
    every: z
      .string()
      .regex(/^\d{1,9}(ms|s|m|h|d)$/, 'a duration like 10s, 1m, 1h')
      .optional()
      .describe('Aggregate into buckets of this length (mean, min, max, count); raw rows when absent'),
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(1_000).describe('Most rows returned'),
  })
  .strict();

function parseEvery(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s);
  return Number(m?.[1]) * UNIT_MS[(m?.[2] ?? 'ms') as keyof typeof UNIT_MS];
}

export default async function readingsRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/readings',
    {
      schema: {
        description: `Readings of one device, raw or aggregated. Raw ranges up to 7 days; at most ${MAX_BUCKETS} buckets; every ≥ 1s.`,
        tags: ['readings'],
        querystring: {
          type: 'object',
          properties: {
            device: { type: 'string' },
            gas: { type: 'string' },
            from: { type: 'string', format: 'date-time' },
            to: { type: 'string', format: 'date-time' },
            every: { type: 'string', description: 'e.g. 10s, 1m, 1h' },
            limit: { type: 'integer' },
          },
          required: ['device'],
        },
        response: { 400: ErrorBody },
      },
      // Validation is zod's (one set of messages); the JSON schema above documents the route.
      validatorCompiler: () => (data) => ({ value: data }),
    },
    async (request) => {
      const q = parseOr400(ReadingsQuerySchema, request.query);
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
      const rows = await app.store.queryReadings({
        dev: q.device,
        gas: q.gas,
        from,
        to,
        everyMs,
        limit: q.limit,
      });
      const iso = (ts: number) => new Date(ts).toISOString();
      return {
        device: q.device,
        gas: q.gas ?? null,
        from: iso(from),
        to: iso(to),
        every: q.every ?? null,
        /** The bucket length used, ms (every, capped at the range). */
        everyMs: everyMs ?? null,
        rows: everyMs
          ? (rows as AggregateRow[]).map((r) => ({ ...r, ts: iso(r.ts) }))
          : (rows as ReadingRow[]).map((r) => ({ ...r, ts: iso(r.ts) })),
      };
    },
  );
}
