import { RoleSchema } from '@gaswatch/shared';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditActor, principalOf } from '../auth/principal.js';
import { checkAssignableArea, visibleAreas } from '../auth/scope.js';
import { appendAudit } from '../db/audit.js';
import { pageByKey } from '../db/page.js';
import type { ApiTokensTable, Database } from '../db/schema.js';
import { findToken, insertToken, revokeToken, TokenNotFoundError, toApiToken } from '../db/tokens.js';
import { ErrorSchema, IsoTimeSchema, limitSchema } from './schemas.js';

const TokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: RoleSchema,
  area: z.string().nullable(),
  createdBy: z.string(),
  createdAt: IsoTimeSchema,
  expiresAt: IsoTimeSchema.nullable(),
  lastUsedAt: IsoTimeSchema.nullable(),
  revoked: z.boolean(),
});

const ListQuery = z
  .object({
    limit: limitSchema(500, 100, 'tokens'),
    cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
  })
  .strict();

const CreateBody = z
  .object({
    name: z.string().min(1).max(128).describe('What the token is for, e.g. "prometheus", "county dashboard"'),
    role: RoleSchema,
    area: z.string().min(1).max(64).nullable().default(null).describe('Area subtree; null for every area'),
    expiresInDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .optional()
      .describe('Omit for a token that does not expire'),
  })
  .strict();

const IdParams = z.object({ id: z.string().min(1).max(64) }).strict();

/** API tokens for integrations (SPEC §9): a role and an area each, the secret shown once. */
const tokenRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, clock } = app;

  app.get(
    '/api/tokens',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary: 'API tokens in your area (never their secrets), newest id order',
        querystring: ListQuery,
        response: {
          200: z.object({
            tokens: z.array(TokenSchema),
            total: z.number(),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema,
        },
      },
    },
    async (request) => {
      const areas = visibleAreas(app, principalOf(request));
      let base = db.selectFrom('api_tokens');
      if (areas !== null) base = base.where('area', 'in', areas.length > 0 ? areas : ['']);
      const page = await pageByKey<ApiTokensTable, 'id', Database, 'api_tokens'>(base, 'id', request.query);
      return { tokens: page.rows.map(toApiToken), total: page.total, nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/tokens',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary: 'Creates an API token; its secret is answered once (send it as Authorization: Bearer)',
        body: CreateBody,
        response: { 201: z.object({ token: TokenSchema, secret: z.string() }), 400: ErrorSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const caller = principalOf(request);
      checkAssignableArea(app, caller, b.area);
      const now = clock();
      const { row, secret } = await db.transaction().execute(async (tx) => {
        const made = await insertToken(tx, {
          name: b.name,
          role: b.role,
          area: b.area,
          createdBy: caller.id,
          now,
          expiresAt: b.expiresInDays === undefined ? null : now + b.expiresInDays * 86_400_000,
        });
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'token.create',
          target: { kind: 'token', id: made.row.id },
          after: toApiToken(made.row),
        });
        return made;
      });
      return reply.code(201).send({ token: toApiToken(row), secret });
    },
  );

  app.delete(
    '/api/tokens/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary: 'Revokes an API token: it stops working at once',
        params: IdParams,
        response: { 200: z.object({ token: TokenSchema }), 404: ErrorSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      const before = await findToken(db, id);
      if (before === undefined || !app.auth.areas.within(before.area, principalOf(request).area))
        throw new TokenNotFoundError(id);
      const now = clock();
      const row = await db.transaction().execute(async (tx) => {
        const r = await revokeToken(tx, id, now);
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'token.revoke',
          target: { kind: 'token', id },
          before: toApiToken(before),
          after: toApiToken(r),
        });
        return r;
      });
      app.auth.forget();
      return { token: toApiToken(row) };
    },
  );
};

export default tokenRoutes;
