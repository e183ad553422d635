import { AreaIdSchema, DaySchema } from '@gaswatch/shared';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditActor, principalOf } from '../auth/principal.js';
import { visibleAreas } from '../auth/scope.js';
import { appendAudit } from '../db/audit.js';
import { type Page, pageByKey, timeOrderedId } from '../db/page.js';
import type { AdvisoriesTable, Database } from '../db/schema.js';
import { ServerError } from '../errors.js';
import { ErrorSchema, limitSchema } from './schemas.js';

const AdvisorySchema = z.object({
  id: z.string(),
  area: z.string(),
  areaName: z.string(),
  day: z.string(),
  grade: z.number().int(),
  text: z.string(),
  source: z.enum(['entered', 'fetched']),
  enteredBy: z.string(),
  createdAt: z.string(),
});

const CreateBody = z
  .object({
    area: AreaIdSchema.describe('The area the service published it for (a township, usually)'),
    day: DaySchema.describe('The local day it is for'),
    grade: z.number().int().min(1).max(9).describe("The service's grade, as published"),
    text: z.string().trim().min(1).max(2000).describe("The service's advisory words"),
  })
  .strict();

const ListQuery = z
  .object({
    area: AreaIdSchema.optional().describe('That area and the areas within it'),
    limit: limitSchema(200, 50, 'advisories, newest first'),
    cursor: z.string().max(64).optional(),
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
 * CO weather advisories (issue 13, SPEC §10): the duty room enters the grade the meteorological
 * service published; one at or above the configured level is on every console of the area (and of
 * the areas within it) that day. An advisory for a township is also its villages'.
 */
const advisoryRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, auth, clock } = app;
  const scale = () => app.config.gaswatch.advisories;
  const view = (r: AdvisoriesTable) => ({
    id: r.id,
    area: r.area,
    areaName: auth.areas.nameOf(r.area) ?? r.area,
    day: r.day,
    grade: r.grade,
    text: r.text,
    source: r.source as 'entered' | 'fetched',
    enteredBy: r.entered_by,
    createdAt: new Date(r.created_at).toISOString(),
  });

  app.post(
    '/api/advisories',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['households'],
        summary:
          "Enter the day's CO weather advisory for an area, as the meteorological service published it",
        body: CreateBody,
        response: { 201: z.object({ advisory: AdvisorySchema }), 400: ErrorSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const p = principalOf(request);
      if (!auth.areas.has(b.area) || !auth.areas.within(b.area, p.area)) throw new UnknownAreaError(b.area);
      if (b.grade > scale().grades)
        throw new ServerError('bad_grade', `grade ${b.grade} is above the scale's ${scale().grades} grades`, {
          statusCode: 400,
        });
      const now = clock();
      const row: AdvisoriesTable = {
        id: timeOrderedId(now),
        area: b.area,
        day: b.day,
        grade: b.grade,
        text: b.text,
        source: 'entered',
        entered_by: auditActor(request).actor,
        created_at: now,
      };
      await db.transaction().execute(async (tx) => {
        await tx.insertInto('advisories').values(row).execute();
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'advisory.create',
          target: { kind: 'advisory', id: row.id },
          after: b,
        });
      });
      return reply.code(201).send({ advisory: view(row) });
    },
  );

  app.get(
    '/api/advisories',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['households'],
        summary: 'Advisories of your area, newest first',
        querystring: ListQuery,
        response: {
          200: z.object({
            advisories: z.array(AdvisorySchema),
            total: z.number(),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      let areas = visibleAreas(app, principalOf(request));
      if (q.area !== undefined) {
        if (!auth.areas.has(q.area) || !auth.areas.within(q.area, principalOf(request).area))
          throw new UnknownAreaError(q.area);
        areas = auth.areas.subtree(q.area);
      }
      let base = db.selectFrom('advisories');
      if (areas !== null) base = base.where('area', 'in', areas.length > 0 ? areas : ['']);
      const page: Page<AdvisoriesTable> = await pageByKey<AdvisoriesTable, 'id', Database, 'advisories'>(
        base,
        'id',
        {
          limit: q.limit,
          cursor: q.cursor,
          order: 'desc',
        },
      );
      return { advisories: page.rows.map(view), total: page.total, nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/advisories/current',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['households'],
        summary: "The day's advisories at or above the banner grade that concern you",
        description:
          'Those for your area, for an area within it, or for an area above it (a township’s advisory is its villages’ too). `day` is the console’s local day.',
        querystring: z.object({ day: DaySchema }).strict(),
        response: {
          200: z.object({
            grades: z.number().int(),
            bannerFrom: z.number().int(),
            advisories: z.array(AdvisorySchema),
          }),
          400: ErrorSchema,
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { grades, bannerFrom } = scale();
      const rows = await db
        .selectFrom('advisories')
        .selectAll()
        .where('day', '=', request.query.day)
        .where('grade', '>=', bannerFrom)
        .orderBy('grade', 'desc')
        .orderBy('id', 'desc')
        .limit(500)
        .execute();
      // Within the caller's area either way round: below it (theirs to see), or above it (theirs too).
      const concerns = (area: string) =>
        auth.canSee(p, area) || (p.area !== null && auth.areas.within(p.area, area));
      return { grades, bannerFrom, advisories: rows.filter((r) => concerns(r.area)).map(view) };
    },
  );
};

export default advisoryRoutes;
