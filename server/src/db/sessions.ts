import type { Role } from '@gaswatch/shared';
import type { Db } from './database.js';
import { newSecret, secretHash } from './secrets.js';

export interface NewSession {
  username: string;
  now: number;
  ttlMs: number;
  address: string | null;
  userAgent: string | null;
}

/** Opens a session; answers the cookie's secret and the CSRF token, neither stored as such. */
export async function createSession(
  db: Db,
  s: NewSession,
): Promise<{ secret: string; id: string; csrf: string; expiresAt: number }> {
  const secret = newSecret();
  const id = secretHash(secret);
  const csrf = newSecret();
  const expiresAt = s.now + s.ttlMs;
  await db
    .insertInto('sessions')
    .values({
      id,
      username: s.username,
      csrf,
      created_at: s.now,
      expires_at: expiresAt,
      last_seen_at: s.now,
      revoked_at: null,
      address: s.address,
      user_agent: s.userAgent?.slice(0, 256) ?? null,
    })
    .execute();
  return { secret, id, csrf, expiresAt };
}

export interface LiveSession {
  id: string;
  csrf: string;
  expiresAt: number;
  lastSeenAt: number;
  username: string;
  displayName: string;
  role: Role;
  area: string | null;
}

/** The session a cookie's secret opens, if it is neither expired, revoked nor of a disabled user. */
export async function findLiveSession(db: Db, secret: string, now: number): Promise<LiveSession | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.username', 'sessions.username')
    .select([
      'sessions.id',
      'sessions.csrf',
      'sessions.expires_at',
      'sessions.last_seen_at',
      'users.username',
      'users.display_name',
      'users.role',
      'users.area',
    ])
    .where('sessions.id', '=', secretHash(secret))
    .where('sessions.revoked_at', 'is', null)
    .where('sessions.expires_at', '>', now)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    id: row.id,
    csrf: row.csrf,
    expiresAt: row.expires_at,
    lastSeenAt: row.last_seen_at,
    username: row.username,
    displayName: row.display_name,
    role: row.role,
    area: row.area,
  };
}

export async function touchSession(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
}

export async function revokeSession(db: Db, id: string, now: number): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

/**
 * Deletes sessions that ended (expired or revoked) more than `keepMs` ago: the table would
 * otherwise grow by a row per login forever. Kept a while so an investigation can still see them.
 */
export async function pruneSessions(db: Db, now: number, keepMs: number): Promise<number> {
  const cutoff = now - keepMs;
  const result = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<', cutoff), eb('revoked_at', '<', cutoff)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
