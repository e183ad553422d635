import { RoleSchema } from '@gaswatch/shared';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../auth/passwords.js';
import { auditActor, principalOf } from '../auth/principal.js';
import { checkAssignableArea, visibleAreas } from '../auth/scope.js';
import { appendAudit } from '../db/audit.js';
import type { Db } from '../db/database.js';
import { pageByKey } from '../db/page.js';
import type { Database, UsersTable } from '../db/schema.js';
import { generatePassword } from '../db/secrets.js';
import { findUser, insertUser, revokeSessionsOf, toUser, UsernameSchema, updateUser } from '../db/users.js';
import { ServerError } from '../errors.js';
import { ErrorSchema, IsoTimeSchema, limitSchema } from './schemas.js';

const Password = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `a password has at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1024);
const Area = z.string().min(1).max(64).nullable().describe('Area subtree; null for every area');

const UserSchema = z.object({
  username: z.string(),
  displayName: z.string(),
  role: RoleSchema,
  area: z.string().nullable(),
  disabled: z.boolean(),
  createdAt: IsoTimeSchema,
  updatedAt: IsoTimeSchema,
});

const ListQuery = z
  .object({
    limit: limitSchema(500, 100, 'users'),
    cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
  })
  .strict();

const CreateBody = z
  .object({
    username: UsernameSchema,
    displayName: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('Name shown in the console; the username when absent'),
    role: RoleSchema,
    area: Area.default(null),
    password: Password.optional().describe('Omit to have one generated and answered once'),
  })
  .strict();

const ChangeBody = z
  .object({
    displayName: z.string().min(1).max(128).optional(),
    role: RoleSchema.optional(),
    area: Area.optional(),
    disabled: z.boolean().optional().describe('A disabled user cannot log in; their sessions end'),
    password: Password.optional().describe('A new password; every session of the user ends'),
  })
  .strict();

const NameParams = z.object({ username: z.string().min(1).max(64) }).strict();

class UserNotFoundError extends ServerError {
  constructor(username: string) {
    super('user_not_found', `no user named ${username}`, { statusCode: 404 });
  }
}

/** The change would leave no enabled admin of every area: nobody could manage accounts any more. */
async function assertAnAdminRemains(db: Db, username: string): Promise<void> {
  const others = await db
    .selectFrom('users')
    .select('username')
    .where('role', '=', 'admin')
    .where('area', 'is', null)
    .where('disabled_at', 'is', null)
    .where('username', '!=', username)
    .executeTakeFirst();
  if (others === undefined)
    throw new ServerError(
      'last_admin',
      `${username} is the last enabled admin of every area; make another one first`,
      { statusCode: 409 },
    );
}

/** Accounts (SPEC §9), admin only; an admin of an area manages the users of that area. */
const userRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, clock } = app;

  /** The user, if it exists and lies in the caller's area; else 404, as for a missing one. */
  async function visibleUser(
    request: Parameters<typeof principalOf>[0],
    username: string,
  ): Promise<UsersTable> {
    const row = await findUser(db, username);
    if (row === undefined || !app.auth.areas.within(row.area, principalOf(request).area))
      throw new UserNotFoundError(username);
    return row;
  }

  app.get(
    '/api/users',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary: 'Users in your area, by username',
        querystring: ListQuery,
        response: {
          200: z.object({ users: z.array(UserSchema), total: z.number(), nextCursor: z.string().nullable() }),
          400: ErrorSchema,
        },
      },
    },
    async (request) => {
      const areas = visibleAreas(app, principalOf(request));
      let base = db.selectFrom('users');
      if (areas !== null) base = base.where('area', 'in', areas.length > 0 ? areas : ['']);
      const page = await pageByKey<UsersTable, 'username', Database, 'users'>(
        base,
        'username',
        request.query,
      );
      return { users: page.rows.map(toUser), total: page.total, nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/users',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary: 'Creates a user; a generated password is answered once',
        body: CreateBody,
        response: {
          201: z.object({ user: UserSchema, password: z.string().nullable() }),
          400: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      checkAssignableArea(app, principalOf(request), b.area);
      const generated = b.password === undefined ? generatePassword() : null;
      const passwordHash = await hashPassword(b.password ?? generated ?? '');
      const now = clock();
      const row = await db.transaction().execute(async (tx) => {
        const r = await insertUser(tx, {
          username: b.username,
          displayName: b.displayName ?? b.username,
          role: b.role,
          area: b.area,
          passwordHash,
          now,
        });
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'user.create',
          target: { kind: 'user', id: r.username },
          after: toUser(r),
        });
        return r;
      });
      return reply.code(201).send({ user: toUser(row), password: generated });
    },
  );

  app.patch(
    '/api/users/:username',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary:
          'Changes a user: name, role, area, disabled, password (their sessions end unless only the name changed)',
        params: NameParams,
        body: ChangeBody,
        response: {
          200: z.object({ user: UserSchema }),
          400: ErrorSchema,
          404: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (request) => {
      const { username } = request.params;
      const b = request.body;
      const before = await visibleUser(request, username);
      if (b.area !== undefined) checkAssignableArea(app, principalOf(request), b.area);
      const now = clock();
      const passwordHash = b.password === undefined ? undefined : await hashPassword(b.password);
      const row = await db.transaction().execute(async (tx) => {
        const losesAdmin =
          before.role === 'admin' &&
          before.area === null &&
          ((b.role !== undefined && b.role !== 'admin') ||
            (b.area !== undefined && b.area !== null) ||
            b.disabled === true);
        if (losesAdmin) await assertAnAdminRemains(tx, username);
        const r = await updateUser(
          tx,
          username,
          {
            ...(b.displayName === undefined ? {} : { display_name: b.displayName }),
            ...(b.role === undefined ? {} : { role: b.role }),
            ...(b.area === undefined ? {} : { area: b.area }),
            ...(b.disabled === undefined
              ? {}
              : { disabled_at: b.disabled ? (before.disabled_at ?? now) : null }),
            ...(passwordHash === undefined ? {} : { password_hash: passwordHash }),
          },
          now,
        );
        const powersChanged =
          b.role !== undefined || b.area !== undefined || b.disabled === true || b.password !== undefined;
        if (powersChanged) await revokeSessionsOf(tx, username, now);
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: b.password === undefined ? 'user.change' : 'user.change_password',
          target: { kind: 'user', id: username },
          before: toUser(before),
          after: toUser(r),
        });
        return r;
      });
      app.auth.forget();
      return { user: toUser(row) };
    },
  );
};

export default userRoutes;
