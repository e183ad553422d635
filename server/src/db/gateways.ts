import { IdSchema, topics } from '@gaswatch/shared';
import { ServerError } from '../errors.js';
import type { Db } from './database.js';
import {
  hashMosquittoPassword,
  MOSQUITTO_ITERATIONS,
  verifyMosquittoPassword,
} from './mosquitto-password.js';
import type { GatewaysTable } from './schema.js';
import { generatePassword } from './secrets.js';

/**
 * Gateways and their MQTT credentials (SPEC §9): username = gateway id, a generated password
 * stored only as its Mosquitto `$7$` hash (mosquitto-password.ts). Plain functions over a
 * database or a transaction; gateways/service.ts adds the audit log and the broker's reaction.
 * A revoked gateway keeps its row (the audit log and its alarms name it); provisioning the same id
 * again gives it new credentials, as for a replaced Raspberry Pi that keeps its topics.
 */

/** `gaswatch/v1/time` is the time beacon: a gateway named `time` could publish it (Mosquitto's `%u/#`). */
const RESERVED_IDS = new Set([topics.time().split('/').at(-1)]);

export const GatewayIdSchema = IdSchema.refine((id) => !RESERVED_IDS.has(id), {
  message: 'is reserved: the time beacon uses this topic level',
}).describe('Gateway id, also its MQTT username: lowercase letters, digits, _ and -, 1 to 64 characters');

/** A gateway as the API and the audit log show it: never the password hash. */
export interface Gateway {
  id: string;
  /** The area its devices belong to when their site names none; null for none. */
  area: string | null;
  createdBy: string;
  createdAt: string;
  /** Last time its password was replaced (rotation or provisioning again); null if never. */
  rotatedAt: string | null;
  /** Set while revoked: it may not connect. */
  revokedAt: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toGateway(r: GatewaysTable): Gateway {
  return {
    id: r.id,
    area: r.area,
    createdBy: r.created_by,
    createdAt: new Date(r.created_at).toISOString(),
    rotatedAt: iso(r.rotated_at),
    revokedAt: iso(r.revoked_at),
  };
}

export class GatewayExistsError extends ServerError {
  constructor(id: string) {
    super('gateway_exists', `gateway ${id} is provisioned already; rotate its password instead`, {
      statusCode: 409,
    });
  }
}

export class GatewayNotFoundError extends ServerError {
  constructor(id: string) {
    super('gateway_not_found', `no gateway ${id} is provisioned`, { statusCode: 404 });
  }
}

export class GatewayRevokedError extends ServerError {
  constructor(id: string) {
    super('gateway_revoked', `gateway ${id} is revoked; provision it again to give it credentials`, {
      statusCode: 409,
    });
  }
}

export class InvalidGatewayIdError extends ServerError {
  constructor(id: string, why: string) {
    super('invalid_gateway_id', `"${id.slice(0, 80)}" cannot be a gateway id: it ${why}`, {
      statusCode: 400,
    });
  }
}

export class UnknownAreaError extends ServerError {
  constructor(area: string) {
    super('unknown_area', `no area ${area} exists`, { statusCode: 400 });
  }
}

export async function findGateway(db: Db, id: string): Promise<GatewaysTable | undefined> {
  return db.selectFrom('gateways').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Every gateway, revoked ones included, by id. */
export async function listGateways(db: Db): Promise<GatewaysTable[]> {
  return db.selectFrom('gateways').selectAll().orderBy('id').execute();
}

/** The gateways that may connect, by id (what `mqtt export` writes). */
export async function listActiveGateways(db: Db): Promise<GatewaysTable[]> {
  return db.selectFrom('gateways').selectAll().where('revoked_at', 'is', null).orderBy('id').execute();
}

export interface NewGateway {
  id: string;
  area: string | null;
  /** Username, token id, or `cli`. */
  createdBy: string;
  now: number;
}

/**
 * A new gateway with a generated password, returned once (only its hash is kept). Provisioning a
 * revoked gateway again replaces its password and lifts the revocation.
 */
export async function provisionGateway(
  db: Db,
  g: NewGateway,
): Promise<{ before: GatewaysTable | undefined; row: GatewaysTable; password: string }> {
  const parsed = GatewayIdSchema.safeParse(g.id);
  if (!parsed.success) throw new InvalidGatewayIdError(g.id, parsed.error.issues[0]?.message ?? 'is invalid');
  if (g.area !== null) {
    const area = await db.selectFrom('areas').select('id').where('id', '=', g.area).executeTakeFirst();
    if (area === undefined) throw new UnknownAreaError(g.area);
  }
  const before = await findGateway(db, g.id);
  if (before !== undefined && before.revoked_at === null) throw new GatewayExistsError(g.id);
  const password = generatePassword();
  const password_hash = await hashMosquittoPassword(password);
  if (before !== undefined) {
    const row = await db
      .updateTable('gateways')
      .set({ area: g.area, password_hash, rotated_at: g.now, revoked_at: null })
      .where('id', '=', g.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { before, row, password };
  }
  const row: GatewaysTable = {
    id: g.id,
    area: g.area,
    password_hash,
    created_by: g.createdBy,
    created_at: g.now,
    rotated_at: null,
    revoked_at: null,
  };
  try {
    await db.insertInto('gateways').values(row).execute();
  } catch (err) {
    // Two admins provisioning the same id at once: the second insert meets the first one's row.
    if (isUniqueViolation(err)) throw new GatewayExistsError(g.id);
    throw err;
  }
  return { before, row, password };
}

/** PostgreSQL's unique_violation, SQLite's primary key constraint. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A new generated password for a gateway; the old one stops working. Returned once. */
export async function rotateGateway(
  db: Db,
  id: string,
  now: number,
): Promise<{ before: GatewaysTable; row: GatewaysTable; password: string }> {
  const before = await findGateway(db, id);
  if (before === undefined) throw new GatewayNotFoundError(id);
  if (before.revoked_at !== null) throw new GatewayRevokedError(id);
  const password = generatePassword();
  const row = await db
    .updateTable('gateways')
    .set({ password_hash: await hashMosquittoPassword(password), rotated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { before, row, password };
}

/**
 * The gateway may no longer connect. Revoking a revoked gateway changes nothing (`changed` false),
 * so a repeated DELETE is harmless and leaves no second audit row.
 */
export async function revokeGateway(
  db: Db,
  id: string,
  now: number,
): Promise<{ before: GatewaysTable; row: GatewaysTable; changed: boolean }> {
  const before = await findGateway(db, id);
  if (before === undefined) throw new GatewayNotFoundError(id);
  if (before.revoked_at !== null) return { before, row: before, changed: false };
  const row = await db
    .updateTable('gateways')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { before, row, changed: true };
}

/** A well-formed hash of a password nobody has (an all-zero digest, which PBKDF2 does not yield). */
const DECOY_HASH = `$7$${MOSQUITTO_ITERATIONS}$${Buffer.alloc(12).toString('base64')}$${Buffer.alloc(64).toString('base64')}`;

/** True when `id` is a provisioned, not revoked gateway and `password` is its password. */
export async function verifyGateway(db: Db, id: string, password: string): Promise<boolean> {
  const row = await findGateway(db, id);
  if (row === undefined || row.revoked_at !== null) {
    // The same work as for a real gateway, so the answer time does not tell which ids exist.
    await verifyMosquittoPassword(DECOY_HASH, password);
    return false;
  }
  return verifyMosquittoPassword(row.password_hash, password);
}

/** True when `id` is a provisioned, not revoked gateway (a client certificate's CN). */
export async function isGatewayActive(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom('gateways').select('revoked_at').where('id', '=', id).executeTakeFirst();
  return row !== undefined && row.revoked_at === null;
}
