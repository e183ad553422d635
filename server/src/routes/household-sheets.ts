import { createHash } from 'node:crypto';
import type { Household } from '@gaswatch/shared';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CONTENT_TYPES, EXPORT_FORMATS, type ExportFormat } from '../alarm-export/export.js';
import { auditActor, principalOf } from '../auth/principal.js';
import { appendAudit } from '../db/audit.js';
import { listHouseholds } from '../db/households.js';
import { HttpError } from '../errors.js';
import { householdFileName, householdSheetStream } from '../households/export.js';
import { applyImport, areaScope, type ImportPlan, planImport } from '../households/import.js';
import {
  IMPORT_MAX_BYTES,
  IMPORT_MAX_ROWS,
  ImportAnswerSchema,
  ImportRefusedFields,
  MAX_ERRORS_LISTED,
} from '../households/import-schema.js';
import { EXAMPLE_HOUSEHOLD, fold, SHEET_LANGS } from '../households/sheet.js';
import { errorHandler } from '../plugins/http.js';
import { DEFAULT_TZ, ZoneClock } from '../zone.js';
import { HouseholdFilterFields, householdFilterOf } from './household-query.js';
import { ErrorSchema } from './schemas.js';

/**
 * Imports checked at once: one at the row cap is seconds of CPU and some hundreds of MB while
 * exceljs holds the workbook, on a machine that runs the alarms. Offices import now and then.
 */
const IMPORTS_AT_ONCE = 1;

/**
 * What an upload may be sent as; the bytes decide (a zip is an XLSX, anything else is read as
 * CSV). Browsers send a .csv as text/csv, or on Windows as application/vnd.ms-excel.
 */
const UPLOAD_TYPES = [
  CONTENT_TYPES.xlsx.split(';')[0] as string,
  'text/csv',
  'application/csv',
  'application/vnd.ms-excel',
  'application/zip',
  'application/octet-stream',
];

/** A body that is no file (JSON, a form): what to send instead. */
const notAFile = () => ({
  error: 'unsupported_media_type',
  message: `send the .xlsx or .csv file itself as the body, with Content-Type ${UPLOAD_TYPES[0]} or text/csv`,
});

const ImportQuery = z
  .object({
    mode: z
      .enum(['dry-run', 'apply'])
      .default('dry-run')
      .describe('dry-run: check every row and say what an apply would do; apply: write it all, or nothing'),
  })
  .strict();

const ExportQuery = z
  .object({
    format: z.enum(EXPORT_FORMATS).default('xlsx').describe('xlsx (Excel) | csv (UTF-8 with BOM)'),
    lang: z.enum(SHEET_LANGS).default('zh-CN').describe('Language of the headers and words: zh-CN | en'),
    ...HouseholdFilterFields,
  })
  .strict();

const TemplateQuery = ExportQuery.pick({ format: true, lang: true }).strict();

const FileAnswer = (what: string) => ({
  description: `${what} (Content-Disposition: attachment)`,
  content: {
    [CONTENT_TYPES.xlsx]: { schema: z.string().describe('XLSX workbook (binary)') },
    [CONTENT_TYPES.csv]: { schema: z.string().describe('RFC 4180 CSV, UTF-8 with BOM') },
  },
});

/** Households read a page at a time for an export (each page's detectors are one query). */
const PAGE = 500;

/**
 * The household sheet (issue 13): import from XLSX or CSV with a dry run that lists every bad
 * cell and an apply that writes all or nothing; export and a template in the same shape
 * (households/sheet.ts). Registered by the household routes, in its own context: the upload's
 * content types are read as bytes for these routes only.
 */
const householdSheetRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, auth, clock } = app;

  app.addContentTypeParser(
    UPLOAD_TYPES,
    { parseAs: 'buffer', bodyLimit: IMPORT_MAX_BYTES },
    (_r, body, done) => done(null, body),
  );

  /** An area's name where the import reads it back as this area (unique, and no other area's id); else its id. */
  function areaNamer(): (id: string) => string {
    const all = auth.areas.subtree(null);
    const ids = new Set(all);
    const count = new Map<string, number>();
    for (const id of all) {
      const n = fold(auth.areas.nameOf(id) ?? id);
      count.set(n, (count.get(n) ?? 0) + 1);
    }
    return (id) => {
      const name = auth.areas.nameOf(id);
      if (name === undefined) return id;
      const f = fold(name);
      return count.get(f) === 1 && (!ids.has(f) || f === id) ? name : id;
    };
  }

  const refused = (plan: ImportPlan, mode: 'dry-run' | 'apply') => ({
    ok: false as const,
    mode,
    format: plan.format,
    rows: plan.rows,
    ignoredColumns: plan.ignoredColumns,
    errors: plan.issues.slice(0, MAX_ERRORS_LISTED),
    errorCount: plan.issues.length,
  });

  let importing = 0;
  app.post(
    '/api/households/import',
    {
      config: { access: 'supervisor' },
      bodyLimit: IMPORT_MAX_BYTES,
      errorHandler: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
        if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
          return reply.code(413).send({
            error: 'file_too_large',
            message: `one import takes a file of at most ${IMPORT_MAX_BYTES / 1024 / 1024} MiB: split it (by township or village)`,
          });
        if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send(notAFile());
        return errorHandler(err, request, reply);
      },
      schema: {
        tags: ['households'],
        summary: 'Import households from an XLSX or CSV file: a dry run, or all or nothing',
        description: `The body is the file itself (Content-Type ${UPLOAD_TYPES.join(', ')}; the bytes decide between XLSX and CSV), at most ${IMPORT_MAX_BYTES / 1024 / 1024} MiB and ${IMPORT_MAX_ROWS} households. Columns: docs/server.md, "Households: import and export", or GET /api/households/template. A household whose 户编号 exists is updated; a column the file lacks leaves that field as it is. Nothing is ever removed.`,
        querystring: ImportQuery,
        response: {
          200: ImportAnswerSchema,
          400: ErrorSchema.extend(ImportRefusedFields)
            .partial({
              ok: true,
              mode: true,
              format: true,
              rows: true,
              ignoredColumns: true,
              errors: true,
              errorCount: true,
            })
            .describe(
              'import_invalid (apply with bad rows: nothing written, every error listed), unreadable_file, no_header_row, empty_file',
            ),
          409: ErrorSchema.describe('import_conflict: the registry changed while the file was checked'),
          413: ErrorSchema.describe('file_too_large, too_many_rows'),
          415: ErrorSchema.describe('unsupported_media_type'),
          503: ErrorSchema.describe('import_busy'),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as unknown;
      if (!Buffer.isBuffer(body)) return reply.code(415).send(notAFile());
      if (body.length === 0) throw new HttpError(400, 'empty_file', 'the file is empty');
      if (importing >= IMPORTS_AT_ONCE)
        return reply
          .code(503)
          .header('retry-after', '10')
          .send({
            error: 'import_busy',
            message: `${importing} imports are being checked; try again in a few seconds`,
          });
      const { mode } = request.query;
      const caller = principalOf(request);
      importing++;
      try {
        const plan = await planImport(db, body, areaScope(auth.areas, caller.area));
        request.log.info(
          { mode, rows: plan.rows, issues: plan.issues.length, format: plan.format },
          'household import checked',
        );
        if (plan.issues.length > 0) {
          if (mode === 'dry-run') return refused(plan, mode);
          return reply.code(400).send({
            error: 'import_invalid',
            message: `${new Set(plan.issues.map((i) => i.row)).size} rows have errors; nothing was imported`,
            ...refused(plan, mode),
          });
        }
        const answer = {
          ok: true as const,
          mode,
          format: plan.format,
          rows: plan.rows,
          ignoredColumns: plan.ignoredColumns,
          create: plan.create.length,
          update: plan.update.length,
          unchanged: plan.unchanged,
        };
        if (mode === 'dry-run') return answer;
        const now = clock();
        const sha256 = createHash('sha256').update(body).digest('hex');
        await db.transaction().execute(async (tx) => {
          await applyImport(tx, plan, now);
          await appendAudit(tx, {
            ts: now,
            ...auditActor(request),
            action: 'household.import',
            target: { kind: 'household_import', id: sha256.slice(0, 16) },
            // What an update overwrote: enough to put it back by hand.
            before: plan.update.length === 0 ? null : { households: plan.update.map((u) => u.before) },
            after: {
              file: { format: plan.format, bytes: body.length, sha256 },
              rows: plan.rows,
              created: plan.create.map((h) => h.id),
              updated: plan.update.map((u) => u.after.id),
              unchanged: plan.unchanged,
              detectors: plan.detectors.map((d) => ({ household: d.household, device: d.detector.device })),
            },
          });
        });
        await app.households.load();
        return answer;
      } finally {
        importing--;
      }
    },
  );

  /** Every household of the caller's area the filter matches, by id; too many is 400 export_too_large. */
  async function householdsFor(
    request: FastifyRequest,
    q: z.infer<typeof ExportQuery>,
  ): Promise<Household[]> {
    const filter = householdFilterOf(app, principalOf(request), q);
    const max = app.config.exportMaxRows;
    const out: Household[] = [];
    let cursor: string | undefined;
    do {
      const page = await listHouseholds(db, { ...filter, limit: PAGE, cursor });
      if (page.total > max)
        throw new HttpError(
          400,
          'export_too_large',
          `${page.total} households match; one export holds at most ${max}: narrow it to an area`,
        );
      out.push(...page.rows);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return out;
  }

  function send(
    reply: FastifyReply,
    request: FastifyRequest,
    format: ExportFormat,
    x: Omit<Parameters<typeof householdSheetStream>[0], 'format' | 'zone'>,
  ) {
    const zone = new ZoneClock(DEFAULT_TZ);
    const file = householdFileName(format, zone, clock(), x.exported === null);
    return reply
      .type(CONTENT_TYPES[format])
      .header('content-disposition', `attachment; filename="${file}"`)
      .header('cache-control', 'no-store')
      .send(householdSheetStream({ ...x, format, zone }, request.log) as unknown as string);
  }

  app.get(
    '/api/households/export',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['households'],
        summary: 'Households of your area as an XLSX or CSV file, in the shape the import reads',
        querystring: ExportQuery,
        response: {
          200: FileAnswer('The file: gaswatch-households-<time>.<format>'),
          400: ErrorSchema.describe('bad_request, unknown_area, export_too_large'),
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const households = await householdsFor(request, q);
      const filter: Array<[string, string]> = [];
      const en = q.lang === 'en';
      if (q.area !== undefined) filter.push([en ? 'Area' : '区域', auth.areas.nameOf(q.area) ?? q.area]);
      if (q.q !== undefined) filter.push([en ? 'Search' : '搜索', q.q]);
      if (q.vulnerable !== undefined)
        filter.push([
          en ? 'Vulnerable occupants' : '重点人群',
          q.vulnerable === 'true' ? (en ? 'Yes' : '是') : en ? 'No' : '否',
        ]);
      if (filter.length === 0) filter.push([en ? 'Area' : '区域', en ? 'all' : '全部']);
      request.log.info({ rows: households.length, format: q.format }, 'household export');
      return send(reply, request, q.format, {
        lang: q.lang,
        households,
        areaName: areaNamer(),
        exported: { at: clock(), by: principalOf(request).name, filter },
      });
    },
  );

  app.get(
    '/api/households/template',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['households'],
        summary: 'A blank household sheet to fill in: the headers and one example row',
        querystring: TemplateQuery,
        response: { 200: FileAnswer('The file: gaswatch-households-template.<format>'), 400: ErrorSchema },
      },
    },
    async (request, reply) =>
      send(reply, request, request.query.format, {
        lang: request.query.lang,
        households: [EXAMPLE_HOUSEHOLD],
        // The example's village is no real one: an example left in the sheet is refused, not imported.
        areaName: () => (request.query.lang === 'en' ? 'Liujiang (example)' : '柳江村（示例）'),
        exported: null,
      }),
  );
};

export default householdSheetRoutes;
