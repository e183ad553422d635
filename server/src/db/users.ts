import type { Role } from '@gaswatch/shared';
import { z } from 'zod';
import { ServerError } from '../errors.js';
import type { Db } from './database.js';
import type { UsersTable } from './schema.js';

/** Login names: ASCII, so they type the same on every keyboard; a person's name goes in displayName. */
export const UsernameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{1,63}$/,
    'a username is 2–64 of a-z, 0-9, ".", "_" and "-", starting with a letter or digit',
  )
  .describe('Login name: lowercase letters, digits, ".", "_" and "-"');

/** A user as the API and the audit log show it: never the password hash. */
export interface User {
  username: string;
  displayName: string;
  role: Role;
  /** Area subtree the user sees and acts in; null for every area. */
  area: string | null;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export function toUser(r: UsersTable): User {
  return {
    username: r.username,
    displayName: r.display_name,
    role: r.role,
    area: r.area,
    disabled: r.disabled_at !== null,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

export class UserExistsError extends ServerError {
  constructor(username: string) {
    super('user_exists', `a user named ${username} exists already`, { statusCode: 409 });
  }
}

export async function findUser(db: Db, username: string): Promise<UsersTable | undefined> {
  return db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
}

export interface NewUser {
  username: string;
  displayName: string;
  role: Role;
  area: string | null;
  passwordHash: string;
  now: number;
}

export async function insertUser(db: Db, u: NewUser): Promise<UsersTable> {
  if ((await findUser(db, u.username)) !== undefined) throw new UserExistsError(u.username);
  const row: UsersTable = {
    username: u.username,
    display_name: u.displayName,
    role: u.role,
    area: u.area,
    password_hash: u.passwordHash,
    created_at: u.now,
    updated_at: u.now,
    disabled_at: null,
  };
  await db.insertInto('users').values(row).execute();
  return row;
}

export type UserChange = Partial<
  Pick<UsersTable, 'display_name' | 'role' | 'area' | 'password_hash' | 'disabled_at'>
>;

export async function updateUser(
  db: Db,
  username: string,
  change: UserChange,
  now: number,
): Promise<UsersTable> {
  return db
    .updateTable('users')
    .set({ ...change, updated_at: now })
    .where('username', '=', username)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Every session of the user ends (a password change, a disabled account, a role change). */
export async function revokeSessionsOf(db: Db, username: string, now: number): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('username', '=', username)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Display names by username: who an alarm's actor was, for a person reading an export. */
export async function displayNames(db: Db): Promise<Map<string, string>> {
  const rows = await db.selectFrom('users').select(['username', 'display_name']).execute();
  return new Map(rows.map((r) => [r.username, r.display_name]));
}
