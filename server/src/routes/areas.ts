import { AREA_KINDS, AreaIdSchema } from '@gaswatch/shared';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditActor, principalOf } from '../auth/principal.js';
import { AreaNotAssignableError, visibleAreas } from '../auth/scope.js';
import { appendAudit } from '../db/audit.js';
import { pageByKey } from '../db/page.js';
import type { AreasTable, Database } from '../db/schema.js';
import { ServerError } from '../errors.js';
import { ErrorSchema, IsoTimeSchema, limitSchema } from './schemas.js';

const AreaSchema = z.object({
  id: z.string(),
  parent: z.string().nullable(),
  name: z.string(),
  kind: z.enum(AREA_KINDS),
  createdAt: IsoTimeSchema,
});

const toArea = (r: AreasTable) => ({
  id: r.id,
  parent: r.parent,
  name: r.name,
  kind: r.kind,
  createdAt: new Date(r.created_at).toISOString(),
});

const ListQuery = z
  .object({
    limit: limitSchema(5000, 1000, 'areas'),
    cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
  })
  .strict();

const CreateBody = z
  .object({
    id: AreaIdSchema,
    name: z.string().min(1).max(128).describe('Name as people write it, e.g. 柳江村'),
    kind: z.enum(AREA_KINDS),
    parent: AreaIdSchema.nullable().default(null).describe('The area it lies in; null for a county'),
  })
  .strict();

/** A child lies one level or more below its parent: a township in a county, a village in a township. */
const DEPTH: Record<(typeof AREA_KINDS)[number], number> = {
  county: 0,
  township: 1,
  village: 2,
  community: 2,
};

/** The area tree (SPEC §9, §10): who sees what hangs on it. */
const areaRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, clock, auth } = app;

  app.get(
    '/api/areas',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['access'],
        summary: 'Areas in your area subtree, by id',
        querystring: ListQuery,
        response: {
          200: z.object({ areas: z.array(AreaSchema), total: z.number(), nextCursor: z.string().nullable() }),
          400: ErrorSchema,
        },
      },
    },
    async (request) => {
      const areas = visibleAreas(app, principalOf(request));
      let base = db.selectFrom('areas');
      if (areas !== null) base = base.where('id', 'in', areas.length > 0 ? areas : ['']);
      const page = await pageByKey<AreasTable, 'id', Database, 'areas'>(base, 'id', request.query);
      return { areas: page.rows.map(toArea), total: page.total, nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/areas',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary: 'Creates an area under a parent in your area',
        body: CreateBody,
        response: { 201: z.object({ area: AreaSchema }), 400: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const caller = principalOf(request);
      if (b.parent === null) {
        if (caller.area !== null)
          throw new AreaNotAssignableError(
            `you may add areas within ${caller.area} only, not a new top-level one`,
          );
      } else {
        if (!auth.areas.has(b.parent)) throw new AreaNotAssignableError(`no parent area ${b.parent}`);
        if (!auth.areas.within(b.parent, caller.area))
          throw new AreaNotAssignableError(`area ${b.parent} lies outside your area ${caller.area}`);
        const parent = await db
          .selectFrom('areas')
          .select('kind')
          .where('id', '=', b.parent)
          .executeTakeFirstOrThrow();
        if (DEPTH[b.kind] <= DEPTH[parent.kind])
          throw new AreaNotAssignableError(`a ${b.kind} cannot lie in a ${parent.kind} (${b.parent})`);
      }
      const now = clock();
      const row: AreasTable = { id: b.id, parent: b.parent, name: b.name, kind: b.kind, created_at: now };
      await db.transaction().execute(async (tx) => {
        if (
          (await tx.selectFrom('areas').select('id').where('id', '=', b.id).executeTakeFirst()) !== undefined
        )
          throw new ServerError('area_exists', `an area ${b.id} exists already`, { statusCode: 409 });
        await tx.insertInto('areas').values(row).execute();
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'area.create',
          target: { kind: 'area', id: b.id },
          after: toArea(row),
        });
      });
      await auth.reload();
      return reply.code(201).send({ area: toArea(row) });
    },
  );
};

export default areaRoutes;
