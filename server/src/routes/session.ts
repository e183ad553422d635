import { RoleSchema } from '@gaswatch/shared';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { decoyHash, verifyPassword } from '../auth/passwords.js';
import { principalOf } from '../auth/principal.js';
import { createSession, revokeSession } from '../db/sessions.js';
import { findUser } from '../db/users.js';
import { SESSION_COOKIE } from '../plugins/auth.js';
import { ErrorSchema, IsoTimeSchema } from './schemas.js';

const LoginBody = z
  .object({
    username: z.string().min(1).max(64).describe('Login name'),
    password: z.string().min(1).max(1024).describe('Password'),
  })
  .strict();

const WhoSchema = z.object({
  user: z.object({
    username: z.string().describe('Username, or the API token id'),
    displayName: z.string(),
    role: RoleSchema,
    area: z.string().nullable().describe('Area subtree this login sees; null for every area'),
  }),
  via: z.enum(['session', 'token']),
  csrfToken: z
    .string()
    .nullable()
    .describe('Send it as X-CSRF-Token with every change made with the session cookie; null for tokens'),
  expiresAt: IsoTimeSchema.nullable().describe('When the session ends; null for tokens'),
});

/**
 * Logging in and out (SPEC §9). A failed login says only "wrong username or password", whether
 * or not the user exists, and costs the same time either way; it is logged and counted.
 */
const sessionRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, auth, clock } = app;

  app.post(
    '/api/session',
    {
      config: { access: 'public' },
      schema: {
        tags: ['access'],
        summary: 'Log in: sets the HttpOnly session cookie',
        body: LoginBody,
        response: { 200: WhoSchema, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const address = request.ip;
      const now = clock();
      const wait = auth.throttle.attempt(username, address, now);
      if (wait > 0) {
        auth.failures.inc({ reason: 'throttled' });
        request.log.warn({ username, address, waitMs: wait }, 'login refused: too many failed attempts');
        return reply
          .code(429)
          .header('retry-after', String(Math.ceil(wait / 1000)))
          .send({
            error: 'too_many_attempts',
            message: `too many failed logins; try again in ${Math.ceil(wait / 1000)} s`,
          });
      }
      const user = await findUser(db, username);
      // The same argon2 work whether or not the user exists: the answer time tells nothing.
      const ok = await verifyPassword(user?.password_hash ?? (await decoyHash()), password);
      if (user === undefined || !ok || user.disabled_at !== null) {
        auth.failures.inc({ reason: 'bad_credentials' });
        request.log.warn({ username, address }, 'login failed');
        return reply.code(401).send({ error: 'invalid_credentials', message: 'wrong username or password' });
      }
      auth.throttle.succeeded(username, address);
      const session = await createSession(db, {
        username: user.username,
        now,
        ttlMs: auth.sessionTtlMs,
        address,
        userAgent: request.headers['user-agent'] ?? null,
      });
      request.log.info({ username, address }, 'logged in');
      void reply.setCookie(SESSION_COOKIE, session.secret, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
        expires: new Date(session.expiresAt),
      });
      return {
        user: { username: user.username, displayName: user.display_name, role: user.role, area: user.area },
        via: 'session' as const,
        csrfToken: session.csrf,
        expiresAt: new Date(session.expiresAt).toISOString(),
      };
    },
  );

  app.get(
    '/api/session',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['access'],
        summary: 'Who is logged in (or whose token this is), and the CSRF token of the session',
        response: { 200: WhoSchema, 401: ErrorSchema },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const session =
        p.sessionId === null
          ? undefined
          : await db
              .selectFrom('sessions')
              .select(['csrf', 'expires_at'])
              .where('id', '=', p.sessionId)
              .executeTakeFirst();
      return {
        user: { username: p.id, displayName: p.name, role: p.role, area: p.area },
        via: p.kind === 'user' ? ('session' as const) : ('token' as const),
        csrfToken: session?.csrf ?? null,
        expiresAt: session === undefined ? null : new Date(session.expires_at).toISOString(),
      };
    },
  );

  app.delete(
    '/api/session',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['access'],
        summary: 'Log out: ends the session at the server and clears the cookie',
        response: { 204: z.null(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (p.sessionId === null)
        return reply.code(400).send({
          error: 'no_session',
          message: 'an API token has no session to end; an admin revokes it with DELETE /api/tokens/:id',
        });
      await revokeSession(db, p.sessionId, clock());
      auth.forget();
      request.log.info({ username: p.id }, 'logged out');
      return reply.clearCookie(SESSION_COOKIE, { path: '/' }).code(204).send(null);
    },
  );
};

export default sessionRoutes;
