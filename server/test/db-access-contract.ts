import { afterEach, describe, expect, it } from 'vitest';
import { appendAudit, listAudit } from '../src/db/audit.js';
import { createDatabase, type Db, migrateToLatest } from '../src/db/database.js';
import { createSession, findLiveSession, pruneSessions, revokeSession } from '../src/db/sessions.js';
import { findLiveToken, insertToken, revokeToken, TokenNotFoundError } from '../src/db/tokens.js';
import { findUser, insertUser, revokeSessionsOf, UserExistsError, updateUser } from '../src/db/users.js';
import type { DbTarget } from './db-contract.js';
import { quietLogger } from './helpers.js';

const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const HOUR = 3_600_000;

/**
 * The access records (migration 0002-access) on one database: the same suite runs on SQLite and
 * on a real PostgreSQL (db-sqlite.test.ts, db-postgres.test.ts).
 */
export function accessContract(name: string, target: () => DbTarget): void {
  describe(`access records contract: ${name}`, () => {
    const open: Db[] = [];
    const fresh = async (): Promise<Db> => {
      const { config } = await target().fresh();
      const db = createDatabase(config, quietLogger());
      open.push(db);
      await migrateToLatest(db);
      await db
        .insertInto('areas')
        .values({ id: 'tw-a', parent: null, name: '城关镇', kind: 'township', created_at: T0 })
        .execute();
      return db;
    };
    afterEach(async () => {
      for (const db of open.splice(0)) await db.destroy();
    });

    const user = (username: string, over: Partial<Parameters<typeof insertUser>[1]> = {}) => ({
      username,
      displayName: '林 (值班)',
      role: 'operator' as const,
      area: 'tw-a',
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$x$y',
      now: T0,
      ...over,
    });

    it('keeps users by name, refuses a second of the same name and an area that does not exist', async () => {
      const db = await fresh();
      await insertUser(db, user('lin'));
      expect(await findUser(db, 'lin')).toMatchObject({
        username: 'lin',
        display_name: '林 (值班)',
        role: 'operator',
        area: 'tw-a',
        disabled_at: null,
      });
      await expect(insertUser(db, user('lin'))).rejects.toBeInstanceOf(UserExistsError);
      await expect(insertUser(db, user('wang', { area: 'nowhere' }))).rejects.toThrow(/foreign key/i);
      const changed = await updateUser(db, 'lin', { role: 'supervisor', area: null }, T0 + HOUR);
      expect(changed).toMatchObject({
        role: 'supervisor',
        area: null,
        updated_at: T0 + HOUR,
        created_at: T0,
      });
    });

    it('opens a session by its secret only while it is neither expired, revoked nor of a disabled user', async () => {
      const db = await fresh();
      await insertUser(db, user('lin'));
      const s = await createSession(db, {
        username: 'lin',
        now: T0,
        ttlMs: 12 * HOUR,
        address: '::1',
        userAgent: 'x',
      });
      expect(await findLiveSession(db, s.secret, T0 + HOUR)).toMatchObject({
        username: 'lin',
        csrf: s.csrf,
        role: 'operator',
      });
      // The table holds the secret's hash, never the secret.
      const row = await db.selectFrom('sessions').selectAll().executeTakeFirstOrThrow();
      expect(row.id).not.toBe(s.secret);
      expect(JSON.stringify(row)).not.toContain(s.secret);
      expect(await findLiveSession(db, s.secret, T0 + 12 * HOUR)).toBeUndefined();
      expect(await findLiveSession(db, `${s.secret}x`, T0)).toBeUndefined();

      const s2 = await createSession(db, {
        username: 'lin',
        now: T0,
        ttlMs: 12 * HOUR,
        address: null,
        userAgent: null,
      });
      await updateUser(db, 'lin', { disabled_at: T0 }, T0);
      expect(await findLiveSession(db, s2.secret, T0 + 1)).toBeUndefined();
      await updateUser(db, 'lin', { disabled_at: null }, T0);
      expect(await findLiveSession(db, s2.secret, T0 + 1)).toBeDefined();
      await revokeSession(db, s2.id, T0 + 2);
      expect(await findLiveSession(db, s2.secret, T0 + 3)).toBeUndefined();

      const s3 = await createSession(db, {
        username: 'lin',
        now: T0,
        ttlMs: 12 * HOUR,
        address: null,
        userAgent: null,
      });
      await revokeSessionsOf(db, 'lin', T0 + 4);
      expect(await findLiveSession(db, s3.secret, T0 + 5)).toBeUndefined();
    });

    it('prunes sessions ended long ago and keeps the others', async () => {
      const db = await fresh();
      await insertUser(db, user('lin'));
      const old = await createSession(db, {
        username: 'lin',
        now: T0,
        ttlMs: HOUR,
        address: null,
        userAgent: null,
      });
      const live = await createSession(db, {
        username: 'lin',
        now: T0 + 40 * 24 * HOUR,
        ttlMs: HOUR,
        address: null,
        userAgent: null,
      });
      expect(await pruneSessions(db, T0 + 40 * 24 * HOUR, 30 * 24 * HOUR)).toBe(1);
      const left = await db.selectFrom('sessions').select('id').execute();
      expect(left.map((r) => r.id)).toEqual([live.id]);
      expect(left.map((r) => r.id)).not.toContain(old.id);
    });

    it('finds a token by its whole secret until it expires or is revoked', async () => {
      const db = await fresh();
      const forever = await insertToken(db, {
        name: 'prometheus',
        role: 'viewer',
        area: null,
        createdBy: 'lin',
        now: T0,
        expiresAt: null,
      });
      const brief = await insertToken(db, {
        name: 'trial',
        role: 'admin',
        area: 'tw-a',
        createdBy: 'lin',
        now: T0,
        expiresAt: T0 + HOUR,
      });
      expect(forever.secret).toMatch(new RegExp(`^gwt_${forever.row.id}_`));
      expect(await findLiveToken(db, forever.secret, T0 + 1000 * HOUR)).toMatchObject({
        id: forever.row.id,
        role: 'viewer',
      });
      expect(await findLiveToken(db, brief.secret, T0 + HOUR - 1)).toMatchObject({ area: 'tw-a' });
      expect(await findLiveToken(db, brief.secret, T0 + HOUR)).toBeUndefined();
      expect(await findLiveToken(db, forever.secret.slice(0, -1), T0)).toBeUndefined();
      await revokeToken(db, forever.row.id, T0 + 1);
      expect(await findLiveToken(db, forever.secret, T0 + 2)).toBeUndefined();
      await expect(revokeToken(db, forever.row.id, T0 + 3)).rejects.toBeInstanceOf(TokenNotFoundError);
    });

    it('lists the audit log newest first, page by page, filtered, with its total, JSON as given', async () => {
      const db = await fresh();
      for (let i = 0; i < 5; i++)
        await appendAudit(db, {
          ts: T0 + i * 1000,
          actor: i % 2 === 0 ? 'lin' : 'cli',
          actorKind: i % 2 === 0 ? 'user' : 'cli',
          action: 'user.change',
          target: { kind: 'user', id: `u${i}` },
          before: { displayName: '王 "老" 五\u0000' },
          after: { displayName: `第${i}号` },
          address: '2001:db8::1',
        });
      const first = await listAudit(db, { limit: 2 });
      expect(first.total).toBe(5);
      expect(first.entries.map((e) => e.target.id)).toEqual(['u4', 'u3']);
      const second = await listAudit(db, { limit: 2, cursor: first.nextCursor ?? '' });
      expect(second.entries.map((e) => e.target.id)).toEqual(['u2', 'u1']);
      const last = await listAudit(db, { limit: 2, cursor: second.nextCursor ?? '' });
      expect([last.entries.map((e) => e.target.id), last.nextCursor]).toEqual([['u0'], null]);
      expect(first.entries[0]).toMatchObject({
        ts: new Date(T0 + 4000).toISOString(),
        actor: 'lin',
        actorKind: 'user',
        before: { displayName: '王 "老" 五\u0000' },
        after: { displayName: '第4号' },
        address: '2001:db8::1',
      });
      const byCli = await listAudit(db, { limit: 10, actor: 'cli' });
      expect([byCli.total, byCli.entries.map((e) => e.target.id)]).toEqual([2, ['u3', 'u1']]);
      expect((await listAudit(db, { limit: 10, targetKind: 'user', targetId: 'u2' })).entries).toHaveLength(
        1,
      );
    });
  });
}
