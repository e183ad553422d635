import {
  AreaIdSchema,
  IdSchema,
  PermitRuleSetSchema,
  SPACE_KINDS,
  type Space,
  SpaceInputSchema,
  SpacePatchSchema,
  SpaceSchema,
} from '@gaswatch/shared';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditActor, principalOf } from '../auth/principal.js';
import { visibleAreas } from '../auth/scope.js';
import { appendAudit } from '../db/audit.js';
import type { SpacesTable } from '../db/schema.js';
import {
  deleteSpace,
  getSpace,
  insertSpace,
  listSpaces,
  SpaceNotFoundError,
  toSpace,
  updateSpace,
} from '../db/spaces.js';
import { HttpError } from '../errors.js';
import { effectiveRules, siteSettings } from '../permits/rules.js';
import { AreaOutsideError } from './household-query.js';
import { ErrorSchema, limitSchema } from './schemas.js';

const ListQuery = z
  .object({
    area: AreaIdSchema.optional().describe('Spaces in that area and the areas within it'),
    q: z.string().trim().max(64).optional().describe('Part of the id, name or location'),
    kind: z.enum(SPACE_KINDS).optional(),
    site: z.string().trim().min(1).max(128).optional(),
    limit: limitSchema(500, 50, 'spaces'),
    cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
  })
  .strict();
const IdParams = z.object({ id: IdSchema }).strict();
const RulesQuery = z
  .object({
    space: IdSchema.optional().describe("A registered space: its site's rules, with its own rule set"),
    site: z
      .string()
      .trim()
      .min(1)
      .max(128)
      .optional()
      .describe('Hot work without a space: the site whose rules apply (none: the defaults)'),
  })
  .strict();
const SpaceAnswer = z.object({ space: SpaceSchema });

/**
 * The confined-space register (台账; SPEC §7, MEM Order 13 art. 6): each space with its kind,
 * hazards and expected gases, whether it is tested at three levels, and the rule set its permits
 * follow. Scoped by area like households (404 outside the caller's); supervisors keep it; every
 * change is audited. A space some permit names stays: it is their place.
 */
const spaceRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, auth, clock, config } = app;

  function checkArea(request: FastifyRequest, area: string): void {
    const p = principalOf(request);
    if (!auth.areas.has(area) || !auth.areas.within(area, p.area)) throw new AreaOutsideError(area);
  }

  async function visible(request: FastifyRequest, id: string): Promise<SpacesTable> {
    const s = await getSpace(db, id);
    if (s === undefined || !auth.canSee(principalOf(request), s.area)) throw new SpaceNotFoundError(id);
    return s;
  }

  /** The space as answered, with the rule set its permits follow now (its own, else its site's). */
  const answer = (r: SpacesTable): Space =>
    toSpace(r, (r.rule_set ?? siteSettings(config.gaswatch, r.site).ruleSet) as Space['effectiveRuleSet']);

  app.get(
    '/api/spaces',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['permits'],
        summary: 'The confined-space register of your area, by id',
        querystring: ListQuery,
        response: {
          200: z.object({
            spaces: z.array(SpaceSchema),
            total: z.number(),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const caller = principalOf(request);
      let areas = visibleAreas(app, caller);
      if (q.area !== undefined) {
        checkArea(request, q.area);
        areas = auth.areas.subtree(q.area);
      }
      const page = await listSpaces(db, {
        areas,
        q: q.q,
        kind: q.kind,
        site: q.site,
        limit: q.limit,
        cursor: q.cursor,
      });
      return { spaces: page.rows.map(answer), total: page.total, nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/permit-rules',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['permits'],
        summary:
          'The rule set a permit drawn up now for a space (or a site) is judged by, every number with its clause',
        description:
          "What the console's permit form shows before anything is sent: the longest validity of each kind and level, the test window, the interruption limit. A permit keeps the rules it was drawn up under.",
        querystring: RulesQuery,
        response: {
          200: z.object({ rules: PermitRuleSetSchema }),
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (request) => {
      const { space, site } = request.query;
      if (space !== undefined && site !== undefined)
        throw new HttpError(
          400,
          'bad_request',
          "name a space or a site, not both: a space's site is its own",
        );
      if (space !== undefined) {
        const s = await visible(request, space);
        return { rules: effectiveRules(config.gaswatch, s.site, s.rule_set as Space['ruleSet']) };
      }
      return { rules: effectiveRules(config.gaswatch, site ?? null, null) };
    },
  );

  app.get(
    '/api/spaces/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['permits'],
        summary: 'One confined space',
        params: IdParams,
        response: { 200: SpaceAnswer, 404: ErrorSchema },
      },
    },
    async (request) => ({ space: answer(await visible(request, request.params.id)) }),
  );

  app.post(
    '/api/spaces',
    {
      config: { access: 'supervisor' },
      schema: {
        tags: ['permits'],
        summary: 'Register a confined space',
        body: SpaceInputSchema,
        response: { 201: SpaceAnswer, 400: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const input = request.body;
      checkArea(request, input.area);
      effectiveRules(config.gaswatch, input.site, input.ruleSet);
      const now = clock();
      const row = await db.transaction().execute(async (tx) => {
        const r = await insertSpace(tx, input, now);
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'space.create',
          target: { kind: 'space', id: input.id },
          after: input,
        });
        return r;
      });
      return reply.code(201).send({ space: answer(row) });
    },
  );

  app.patch(
    '/api/spaces/:id',
    {
      config: { access: 'supervisor' },
      schema: {
        tags: ['permits'],
        summary: 'Change a confined space (its permits keep the place and rules they were drawn up with)',
        params: IdParams,
        body: SpacePatchSchema,
        response: { 200: SpaceAnswer, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const before = await visible(request, request.params.id);
      if (request.body.area !== undefined) checkArea(request, request.body.area);
      const { effectiveRuleSet: _e, createdAt: _c, updatedAt: _u, ...current } = answer(before);
      const next = { ...current, ...request.body };
      effectiveRules(config.gaswatch, next.site, next.ruleSet);
      const now = clock();
      const row = await db.transaction().execute(async (tx) => {
        const r = await updateSpace(tx, next, now);
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'space.update',
          target: { kind: 'space', id: before.id },
          before: current,
          after: next,
        });
        return r;
      });
      return { space: answer(row) };
    },
  );

  app.delete(
    '/api/spaces/:id',
    {
      config: { access: 'supervisor' },
      schema: {
        tags: ['permits'],
        summary: 'Remove a confined space no permit names',
        params: IdParams,
        response: { 204: z.null().describe('Removed'), 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const before = await visible(request, request.params.id);
      const now = clock();
      await db.transaction().execute(async (tx) => {
        await deleteSpace(tx, before.id);
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'space.delete',
          target: { kind: 'space', id: before.id },
          before: answer(before),
        });
      });
      return reply.code(204).send(null);
    },
  );
};

export default spaceRoutes;
