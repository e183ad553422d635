import { AreaIdSchema, DaySchema } from '@gaswatch/shared';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EXPORT_LANGS } from '../alarm-export/labels.js';
import { principalOf } from '../auth/principal.js';
import { visibleAreas } from '../auth/scope.js';
import { getLedger, type LedgerHeadRow, LedgerNotFoundError, listLedgers } from '../db/ledgers.js';
import { ServerError } from '../errors.js';
import { ledgerPdf } from '../reports/ledger-pdf.js';
import {
  type Ledger,
  type LedgerHead,
  LedgerNumbersSchema,
  LedgerPageSchema,
  LedgerSchema,
} from '../reports/ledger-schema.js';
import { ledgerXlsx } from '../reports/ledger-xlsx.js';
import { ZoneClock } from '../zone.js';
import { alarmsReady } from './alarms.js';
import { ErrorSchema, limitSchema } from './schemas.js';

const GenerateBody = z
  .object({
    area: AreaIdSchema.describe('The township (or any area within yours) the ledger is of'),
    week: DaySchema.optional().describe(
      'Any day of the week to make it of (weeks start on GASWATCH_CONFIG ledger.weekday, default Friday); default: the last week that has ended',
    ),
  })
  .strict();

const ListQuery = z
  .object({
    area: AreaIdSchema.optional().describe('Ledgers of that area and the areas within it'),
    limit: limitSchema(200, 50, 'ledgers, newest made first'),
    cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
  })
  .strict();

const IdParams = z.object({ id: z.string().min(1).max(64).describe('Ledger id') }).strict();

export const LEDGER_FORMATS = ['xlsx', 'pdf'] as const;
const CONTENT_TYPES = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pdf: 'application/pdf',
} as const;

const FileQuery = z
  .object({
    format: z.enum(LEDGER_FORMATS).default('xlsx'),
    lang: z.enum(EXPORT_LANGS).default('zh-CN').describe('Language of the headers and titles'),
  })
  .strict();

class UnknownAreaError extends ServerError {
  constructor(area: string) {
    super('unknown_area', `no area ${area} within your area (GET /api/areas lists them)`, {
      statusCode: 400,
    });
  }
}

/**
 * The weekly ledger of the CO-prevention campaign (issue 13, SPEC §10): made on the schedule for
 * every township (plugins/ledgers.ts) or here on request by a supervisor, listed and read by
 * anyone of its area, downloaded as XLSX or PDF in Chinese or English, rendered from the stored
 * numbers. A ledger outside the caller's area is 404, as what does not exist.
 */
const ledgerRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, auth } = app;
  const zone = new ZoneClock(app.config.timeZone);

  const head = (r: LedgerHeadRow): LedgerHead => ({
    id: r.id,
    area: r.area,
    areaName: auth.areas.nameOf(r.area) ?? r.area,
    week: { start: r.week_start, end: r.week_end },
    generatedAt: new Date(Number(r.generated_at)).toISOString(),
    generatedBy: r.generated_by,
  });

  function checkArea(request: FastifyRequest, area: string): void {
    const p = principalOf(request);
    if (!auth.areas.has(area) || !auth.areas.within(area, p.area)) throw new UnknownAreaError(area);
  }

  async function visible(request: FastifyRequest, id: string): Promise<Ledger> {
    const row = await getLedger(db, id);
    if (row === undefined || !auth.canSee(principalOf(request), row.area)) throw new LedgerNotFoundError(id);
    return { ...head(row), numbers: LedgerNumbersSchema.parse(JSON.parse(row.numbers)) };
  }

  app.post(
    '/api/reports/ledger',
    {
      config: { access: 'supervisor' },
      preHandler: alarmsReady(app.alarms),
      schema: {
        tags: ['reports'],
        summary: "Make an area's weekly ledger now",
        description:
          'Computes the ledger of the area (a township, usually: a row per village and the total) for the week from the records as they are now, stores it and answers it. Audited as ledger.generate.',
        body: GenerateBody,
        response: { 201: z.object({ ledger: LedgerSchema }), 400: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const p = principalOf(request);
      checkArea(request, b.area);
      const week = b.week === undefined ? app.ledgers.lastWeek() : app.ledgers.weekOf(b.week);
      const today = app.ledgers.today();
      if (week.start > today)
        throw new ServerError(
          'future_week',
          `the week from ${week.start} has not begun (today is ${today})`,
          {
            statusCode: 400,
          },
        );
      const row = await app.ledgers.generate(b.area, week, { kind: p.kind, id: p.id, address: request.ip });
      return reply.code(201).send({
        ledger: { ...head(row), numbers: LedgerNumbersSchema.parse(JSON.parse(row.numbers)) },
      });
    },
  );

  app.get(
    '/api/reports/ledgers',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['reports'],
        summary: 'Weekly ledgers of your area, newest made first, without their numbers',
        querystring: ListQuery,
        response: { 200: LedgerPageSchema, 400: ErrorSchema },
      },
    },
    async (request) => {
      const q = request.query;
      let areas = visibleAreas(app, principalOf(request));
      if (q.area !== undefined) {
        checkArea(request, q.area);
        areas = auth.areas.subtree(q.area);
      }
      const page = await listLedgers(db, { areas, limit: q.limit, cursor: q.cursor });
      return { ledgers: page.rows.map(head), total: page.total, nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/reports/ledgers/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['reports'],
        summary: 'One weekly ledger with its numbers',
        params: IdParams,
        response: { 200: z.object({ ledger: LedgerSchema }), 404: ErrorSchema },
      },
    },
    async (request) => ({ ledger: await visible(request, request.params.id) }),
  );

  app.get(
    '/api/reports/ledgers/:id/file',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['reports'],
        summary: 'A weekly ledger as an XLSX workbook or a PDF, in Chinese or English',
        description:
          'Rendered from the stored numbers: one sheet per table (XLSX), the same tables in turn (PDF, in a CJK font), each titled with the area and the week.',
        params: IdParams,
        querystring: FileQuery,
        response: {
          200: {
            description:
              'The file (Content-Disposition: attachment; filename="gaswatch-ledger-<area>-<week start>.<format>")',
            content: {
              [CONTENT_TYPES.xlsx]: { schema: z.string().describe('XLSX workbook (binary)') },
              [CONTENT_TYPES.pdf]: { schema: z.string().describe('PDF (binary)') },
            },
          },
          404: ErrorSchema,
          503: ErrorSchema.describe(
            'pdf_font_missing: no CJK font on the server (the message names the package)',
          ),
        },
      },
    },
    async (request, reply) => {
      const { format, lang } = request.query;
      const ledger = await visible(request, request.params.id);
      const made = { at: Date.parse(ledger.generatedAt), by: ledger.generatedBy };
      const bytes =
        format === 'xlsx'
          ? await ledgerXlsx(ledger.numbers, lang, made, zone)
          : await ledgerPdf(ledger.numbers, lang, made, zone);
      const file = `gaswatch-ledger-${ledger.area}-${ledger.week.start}.${format}`;
      // The name an office files it under, for browsers that read filename* (RFC 6266).
      const named = `${ledger.areaName}-${lang === 'en' ? 'ledger' : '周报'}-${ledger.week.start}.${format}`;
      return reply
        .type(CONTENT_TYPES[format])
        .header(
          'content-disposition',
          `attachment; filename="${file}"; filename*=UTF-8''${encodeURIComponent(named)}`,
        )
        .header('cache-control', 'private, no-store')
        .send(bytes as unknown as string); // bytes: no serialiser runs
    },
  );
};

export default ledgerRoutes;
