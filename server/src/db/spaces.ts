import type { GasIdentity, Space, SpaceHazard, SpaceInput, SpaceKind } from '@gaswatch/shared';
import { sql } from 'kysely';
import { ServerError } from '../errors.js';
import type { Db } from './database.js';
import { type Page, pageByKey } from './page.js';
import type { Database, SpacesTable } from './schema.js';

export class SpaceNotFoundError extends ServerError {
  constructor(id: string) {
    super('space_not_found', `no confined space ${id}`, { statusCode: 404 });
  }
}

export class SpaceExistsError extends ServerError {
  constructor(id: string) {
    super('space_exists', `space ${id} exists already (PATCH /api/spaces/${id} changes it)`, {
      statusCode: 409,
    });
  }
}

/** A space with permits is part of their record: it stays in the register. */
export class SpaceInUseError extends ServerError {
  constructor(id: string, permits: number) {
    super('space_in_use', `space ${id} has ${permits} permit(s): it stays in the register as their place`, {
      statusCode: 409,
    });
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A space as the API answers it; `effectiveRuleSet` is the caller's to give (it comes from the config). */
export function toSpace(r: SpacesTable, effectiveRuleSet: Space['effectiveRuleSet']): Space {
  return {
    id: r.id,
    name: r.name,
    area: r.area,
    site: r.site,
    location: r.location,
    kind: r.kind as SpaceKind,
    hazards: JSON.parse(r.hazards) as SpaceHazard[],
    gases: JSON.parse(r.gases) as GasIdentity[],
    large: r.large === 1,
    oxygenEnriched: r.oxygen_enriched === 1,
    ruleSet: r.rule_set as Space['ruleSet'],
    notes: r.notes,
    effectiveRuleSet,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

function columns(s: Omit<SpaceInput, 'id'>): Omit<SpacesTable, 'id' | 'created_at' | 'updated_at'> {
  return {
    name: s.name,
    area: s.area,
    site: s.site,
    location: s.location,
    kind: s.kind,
    hazards: JSON.stringify(s.hazards),
    gases: JSON.stringify(s.gases),
    large: s.large ? 1 : 0,
    oxygen_enriched: s.oxygenEnriched ? 1 : 0,
    rule_set: s.ruleSet,
    notes: s.notes,
  };
}

export async function insertSpace(db: Db, s: SpaceInput, now: number): Promise<SpacesTable> {
  if ((await getSpace(db, s.id)) !== undefined) throw new SpaceExistsError(s.id);
  const row: SpacesTable = { id: s.id, ...columns(s), created_at: now, updated_at: now };
  await db.insertInto('spaces').values(row).execute();
  return row;
}

export async function getSpace(db: Db, id: string): Promise<SpacesTable | undefined> {
  return db.selectFrom('spaces').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The spaces of these ids (a page of permits names them). */
export async function spacesByIds(db: Db, ids: readonly string[]): Promise<Map<string, SpacesTable>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('spaces')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** Writes every field of the space (the caller merged the change into what it read). */
export async function updateSpace(db: Db, s: SpaceInput, now: number): Promise<SpacesTable> {
  const row = await db
    .updateTable('spaces')
    .set({ ...columns(s), updated_at: now })
    .where('id', '=', s.id)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw new SpaceNotFoundError(s.id);
  return row;
}

/** Removes a space no permit names. */
export async function deleteSpace(db: Db, id: string): Promise<void> {
  const { n } = await db
    .selectFrom('permits')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('space_id', '=', id)
    .executeTakeFirstOrThrow();
  if (Number(n) > 0) throw new SpaceInUseError(id, Number(n));
  const r = await db.deleteFrom('spaces').where('id', '=', id).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw new SpaceNotFoundError(id);
}

export interface SpaceQuery {
  /** Areas to list (a subtree); null: every area. */
  areas: string[] | null;
  /** Part of the name, id or location. */
  q?: string | undefined;
  kind?: SpaceKind | undefined;
  site?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** A page of spaces by id. */
export async function listSpaces(db: Db, q: SpaceQuery): Promise<Page<SpacesTable>> {
  let base = db.selectFrom('spaces');
  if (q.areas !== null) base = base.where('area', 'in', q.areas.length > 0 ? q.areas : ['']);
  if (q.kind !== undefined) base = base.where('kind', '=', q.kind);
  if (q.site !== undefined) base = base.where('site', '=', q.site);
  if (q.q !== undefined && q.q !== '') {
    // The pattern characters escaped, with the escape said (SQLite has no default one).
    const like = sql<string>`${`%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`;
    base = base.where((eb) =>
      eb.or([eb('id', 'like', like), eb('name', 'like', like), eb('location', 'like', like)]),
    );
  }
  return pageByKey<SpacesTable, 'id', Database, 'spaces'>(base, 'id', q);
}
