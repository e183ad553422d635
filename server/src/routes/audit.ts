import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../auth/principal.js';
import { listAudit } from '../db/audit.js';
import { ServerError } from '../errors.js';
import { ErrorSchema, IsoTimeSchema, limitSchema } from './schemas.js';

const Query = z
  .object({
    limit: limitSchema(1000, 100, 'entries, newest first'),
    cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
    targetKind: z
      .string()
      .max(32)
      .optional()
      .describe('Only changes of this kind of thing: alarm, user, token, gateway, area'),
    targetId: z.string().max(200).optional().describe('Only changes of this one'),
    actor: z.string().max(64).optional().describe('Only changes made by this user or token'),
  })
  .strict();

const EntrySchema = z.object({
  id: z.string(),
  ts: IsoTimeSchema,
  actor: z.string(),
  actorKind: z.enum(['user', 'token', 'cli', 'system']),
  action: z.string(),
  target: z.object({ kind: z.string(), id: z.string() }),
  before: z.unknown(),
  after: z.unknown(),
  address: z.string().nullable(),
});

/** The audit log (SPEC §9): every change, who, when, from where, before and after. */
const auditRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/audit',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary: 'The audit log, newest first (admins of every area)',
        querystring: Query,
        response: {
          200: z.object({
            entries: z.array(EntrySchema),
            total: z.number(),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema,
          403: ErrorSchema,
        },
      },
    },
    async (request) => {
      // Entries name people and things of every area; an admin of one area would see the others'.
      if (principalOf(request).area !== null)
        throw new ServerError('forbidden', 'the audit log is for admins of every area', { statusCode: 403 });
      return listAudit(app.db, request.query);
    },
  );
};

export default auditRoutes;
