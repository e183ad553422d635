import {
  AreaIdSchema,
  DaySchema,
  type Household,
  HouseholdDetectorSchema,
  HouseholdInputSchema,
  HouseholdSchema,
  IdSchema,
} from '@gaswatch/shared';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditActor, principalOf } from '../auth/principal.js';
import { visibleAreas } from '../auth/scope.js';
import { appendAudit } from '../db/audit.js';
import {
  getHousehold,
  HouseholdNotFoundError,
  insertHousehold,
  installedDetectors,
  listHouseholds,
  putDetector,
  removeDetector,
  updateHousehold,
} from '../db/households.js';
import { moveInspections } from '../db/inspections.js';
import { ServerError } from '../errors.js';
import { ATTENTION_ISSUES, attentionOf, EXPIRES_SOON_DAYS } from '../households/attention.js';
import { AreaOutsideError, HouseholdFilterFields, householdFilterOf } from './household-query.js';
import householdSheetRoutes from './household-sheets.js';
import { ErrorSchema, limitSchema } from './schemas.js';

const ListQuery = z
  .object({
    ...HouseholdFilterFields,
    limit: limitSchema(500, 50, 'households'),
    cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
  })
  .strict();

const IdParams = z.object({ id: IdSchema }).strict();

const AttentionQuery = z
  .object({
    area: AreaIdSchema.optional().describe('That area and the areas within it'),
    today: DaySchema.describe("The console's local day, YYYY-MM-DD"),
    limit: limitSchema(1000, 200, 'detectors'),
    cursor: z
      .string()
      .regex(/^\d{1,7}$/, 'must be a nextCursor of this list')
      .optional(),
  })
  .strict();

const AttentionSchema = z.object({
  device: z.string(),
  household: z.string(),
  area: z.string(),
  areaName: z.string(),
  address: z.string(),
  location: z.string(),
  installedOn: z.string().nullable(),
  expiresOn: z.string().nullable(),
  issues: z.array(z.enum(ATTENTION_ISSUES)),
});
const DetectorParams = z.object({ id: IdSchema, device: IdSchema }).strict();

const CreateBody = HouseholdInputSchema.extend({
  detectors: z.array(HouseholdDetectorSchema).max(20).default([]).describe('Detectors installed there'),
});
const PatchBody = HouseholdInputSchema.omit({ id: true })
  .partial()
  .strict()
  .describe('The fields to change; the others stay');
const DetectorBody = HouseholdDetectorSchema.omit({ device: true }).strict();

class DetectorNotHereError extends ServerError {
  constructor(household: string, device: string) {
    super('detector_not_found', `device ${device} is not installed in household ${household}`, {
      statusCode: 404,
    });
  }
}

/**
 * The household registry (issue 13, SPEC §10): households of the caller's area, each with its
 * installed detectors. Supervisors and admins change them; every change is in the audit log, and
 * the device index alarms read (households/index.ts) follows at once.
 */
const householdRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, auth, clock } = app;
  // Import, export and the template: in a context of their own (the upload's body parser).
  await app.register(householdSheetRoutes);

  /** An area the caller may put a household in (it exists and lies within theirs). */
  function checkArea(request: FastifyRequest, area: string): void {
    const p = principalOf(request);
    if (!auth.areas.has(area) || !auth.areas.within(area, p.area)) throw new AreaOutsideError(area);
  }

  /** The household, or 404 when there is none or it lies outside the caller's area (the same). */
  async function visible(request: FastifyRequest, id: string): Promise<Household> {
    const h = await getHousehold(db, id);
    if (h === undefined || !auth.canSee(principalOf(request), h.area)) throw new HouseholdNotFoundError(id);
    return h;
  }

  app.get(
    '/api/households',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['households'],
        summary: 'Households of your area, by id, with search and filters',
        querystring: ListQuery,
        response: {
          200: z.object({
            households: z.array(HouseholdSchema),
            total: z.number(),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await listHouseholds(db, {
        ...householdFilterOf(app, principalOf(request), q),
        limit: q.limit,
        cursor: q.cursor,
      });
      return { households: page.rows, total: page.total, nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/households/attention',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['households'],
        summary:
          'Installed detectors that need the next visit: never reported, offline, faulty, expired or expiring',
        description: `Ordered by area, then address. \`today\` is the console's local day (expiry is by day); an expiry within ${EXPIRES_SOON_DAYS} days counts as expiring.`,
        querystring: AttentionQuery,
        response: {
          200: z.object({
            detectors: z.array(AttentionSchema),
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
        checkArea(request, q.area);
        areas = auth.areas.subtree(q.area);
      }
      const now = clock();
      const all = [];
      for (const d of await installedDetectors(db, areas)) {
        const issues = attentionOf(d, app.devices.get(d.device), now, q.today);
        if (issues.length > 0) all.push({ ...d, areaName: auth.areas.nameOf(d.area) ?? d.area, issues });
      }
      // For the visit: village by village, house by house; the cursor is the position in that order.
      all.sort(
        (a, b) =>
          a.area.localeCompare(b.area) ||
          a.address.localeCompare(b.address, 'zh-CN') ||
          (a.device < b.device ? -1 : 1),
      );
      const from = q.cursor === undefined ? 0 : Number(q.cursor);
      const shown = all.slice(from, from + q.limit);
      return {
        detectors: shown,
        total: all.length,
        nextCursor: from + q.limit < all.length ? String(from + q.limit) : null,
      };
    },
  );

  app.get(
    '/api/households/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['households'],
        summary: 'One household with its detectors',
        params: IdParams,
        response: { 200: z.object({ household: HouseholdSchema }), 404: ErrorSchema },
      },
    },
    async (request) => ({ household: await visible(request, request.params.id) }),
  );

  app.post(
    '/api/households',
    {
      config: { access: 'supervisor' },
      schema: {
        tags: ['households'],
        summary: 'Register a household (and the detectors installed there)',
        body: CreateBody,
        response: { 201: z.object({ household: HouseholdSchema }), 400: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { detectors, ...input } = request.body;
      checkArea(request, input.area);
      const now = clock();
      await db.transaction().execute(async (tx) => {
        await insertHousehold(tx, input, now);
        for (const d of detectors) await putDetector(tx, input.id, d, now);
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'household.create',
          target: { kind: 'household', id: input.id },
          after: { ...input, detectors },
        });
      });
      await app.households.refresh(input.id);
      return reply.code(201).send({ household: await visible(request, input.id) });
    },
  );

  app.patch(
    '/api/households/:id',
    {
      config: { access: 'supervisor' },
      schema: {
        tags: ['households'],
        summary: 'Change a household',
        params: IdParams,
        body: PatchBody,
        response: { 200: z.object({ household: HouseholdSchema }), 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const before = await visible(request, request.params.id);
      if (request.body.area !== undefined) checkArea(request, request.body.area);
      const { detectors: _detectors, createdAt: _c, updatedAt: _u, ...current } = before;
      const next = { ...current, ...request.body };
      const now = clock();
      await db.transaction().execute(async (tx) => {
        await updateHousehold(tx, next, now);
        // Its visits follow it: a township sees the visits of the homes it now has.
        if (next.area !== current.area) await moveInspections(tx, before.id, next.area);
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'household.update',
          target: { kind: 'household', id: before.id },
          before: current,
          after: next,
        });
      });
      await app.households.refresh(before.id);
      return { household: await visible(request, before.id) };
    },
  );

  app.put(
    '/api/households/:id/detectors/:device',
    {
      config: { access: 'supervisor' },
      schema: {
        tags: ['households'],
        summary: 'Install a detector in a household (or change where and when)',
        params: DetectorParams,
        body: DetectorBody,
        response: {
          200: z.object({ household: HouseholdSchema }),
          400: ErrorSchema,
          404: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (request) => {
      const h = await visible(request, request.params.id);
      const d = { device: request.params.device, ...request.body };
      const now = clock();
      await db.transaction().execute(async (tx) => {
        await putDetector(tx, h.id, d, now);
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'household.detector.put',
          target: { kind: 'household', id: h.id },
          before: h.detectors.find((x) => x.device === d.device) ?? null,
          after: d,
        });
      });
      await app.households.refresh(h.id);
      return { household: await visible(request, h.id) };
    },
  );

  app.delete(
    '/api/households/:id/detectors/:device',
    {
      config: { access: 'supervisor' },
      schema: {
        tags: ['households'],
        summary: 'Remove a detector from a household',
        params: DetectorParams,
        response: { 200: z.object({ household: HouseholdSchema }), 404: ErrorSchema },
      },
    },
    async (request) => {
      const h = await visible(request, request.params.id);
      const { device } = request.params;
      const now = clock();
      await db.transaction().execute(async (tx) => {
        if (!(await removeDetector(tx, h.id, device))) throw new DetectorNotHereError(h.id, device);
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'household.detector.remove',
          target: { kind: 'household', id: h.id },
          before: h.detectors.find((x) => x.device === device) ?? null,
        });
      });
      await app.households.refresh(h.id);
      return { household: await visible(request, h.id) };
    },
  );
};

export default householdRoutes;
