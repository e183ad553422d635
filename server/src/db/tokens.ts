import { randomBytes } from 'node:crypto';
import type { Role } from '@gaswatch/shared';
import { ServerError } from '../errors.js';
import type { Db } from './database.js';
import type { ApiTokensTable } from './schema.js';
import { newSecret, secretHash } from './secrets.js';

/** An API token as lists and the audit log show it: never its secret nor the secret's hash. */
export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  area: string | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revoked: boolean;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toApiToken(r: ApiTokensTable): ApiToken {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    area: r.area,
    createdBy: r.created_by,
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: iso(r.expires_at),
    lastUsedAt: iso(r.last_used_at),
    revoked: r.revoked_at !== null,
  };
}

export class TokenNotFoundError extends ServerError {
  constructor(id: string) {
    super('token_not_found', `no API token with id ${id}`, { statusCode: 404 });
  }
}

export interface NewToken {
  name: string;
  role: Role;
  area: string | null;
  createdBy: string;
  now: number;
  expiresAt: number | null;
}

/**
 * Makes a token. Its secret, `gwt_<id>_<256 random bits>`, is answered once and kept only as a
 * hash; the prefix lets secret scanners and people recognise a leaked one.
 */
export async function insertToken(db: Db, t: NewToken): Promise<{ row: ApiTokensTable; secret: string }> {
  const id = `tok_${randomBytes(6).toString('hex')}`;
  const secret = `gwt_${id}_${newSecret()}`;
  const row: ApiTokensTable = {
    id,
    name: t.name,
    secret_hash: secretHash(secret),
    role: t.role,
    area: t.area,
    created_by: t.createdBy,
    created_at: t.now,
    expires_at: t.expiresAt,
    last_used_at: null,
    revoked_at: null,
  };
  await db.insertInto('api_tokens').values(row).execute();
  return { row, secret };
}

/** The token a bearer secret names, if neither revoked nor expired. */
export async function findLiveToken(
  db: Db,
  secret: string,
  now: number,
): Promise<ApiTokensTable | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .selectAll()
    .where('secret_hash', '=', secretHash(secret))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (row === undefined || (row.expires_at !== null && row.expires_at <= now)) return undefined;
  return row;
}

export async function touchToken(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}

export async function findToken(db: Db, id: string): Promise<ApiTokensTable | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function revokeToken(db: Db, id: string, now: number): Promise<ApiTokensTable> {
  const row = await db
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw new TokenNotFoundError(id);
  return row;
}

/** Token names by id (`tok_…`): an alarm's actor when a script acted with a token. */
export async function tokenNames(db: Db): Promise<Map<string, string>> {
  const rows = await db.selectFrom('api_tokens').select(['id', 'name']).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}
