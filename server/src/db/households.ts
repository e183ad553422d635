import {
  type Household,
  type HouseholdContact,
  type HouseholdDetector,
  type HouseholdInput,
  type OccupantFlag,
  vulnerableFlags,
} from '@gaswatch/shared';
import { type Expression, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import { ServerError } from '../errors.js';
import { type Db, isPostgres } from './database.js';
import { inList, type Page } from './page.js';
import type { Database, HouseholdDetectorsTable, HouseholdsTable } from './schema.js';

export class HouseholdNotFoundError extends ServerError {
  constructor(id: string) {
    super('household_not_found', `no household ${id}`, { statusCode: 404 });
  }
}

export class HouseholdExistsError extends ServerError {
  constructor(id: string) {
    super('household_exists', `household ${id} exists already (PATCH /api/households/${id} changes it)`, {
      statusCode: 409,
    });
  }
}

/** A detector already installed in another home: moving it is a removal there first. */
export class DetectorElsewhereError extends ServerError {
  constructor(device: string, household: string) {
    super(
      'detector_in_other_household',
      `device ${device} is installed in household ${household}: remove it there first`,
      { statusCode: 409 },
    );
  }
}

const day = (ms: number) => new Date(ms).toISOString();

export function toHousehold(r: HouseholdsTable, detectors: readonly HouseholdDetectorsTable[]): Household {
  return {
    id: r.id,
    area: r.area,
    address: r.address,
    lat: r.lat,
    lon: r.lon,
    dwelling: r.dwelling as Household['dwelling'],
    occupants: { count: r.occupant_count, flags: JSON.parse(r.occupant_flags) as OccupantFlag[] },
    heating: JSON.parse(r.heating) as Household['heating'],
    contacts: JSON.parse(r.contacts) as HouseholdContact[],
    notes: r.notes,
    detectors: detectors.map(toDetector),
    createdAt: day(r.created_at),
    updatedAt: day(r.updated_at),
  };
}

const toDetector = (d: HouseholdDetectorsTable): Household['detectors'][number] => ({
  device: d.device,
  location: d.location,
  ...(d.installed_on === null ? {} : { installedOn: d.installed_on }),
  ...(d.expires_on === null ? {} : { expiresOn: d.expires_on }),
});

/** The row of a household as written: its vulnerable column follows its flags. */
function rowOf(h: Omit<HouseholdInput, 'id'>): Omit<HouseholdsTable, 'id' | 'created_at' | 'updated_at'> {
  return {
    area: h.area,
    address: h.address,
    lat: h.lat,
    lon: h.lon,
    dwelling: h.dwelling,
    occupant_count: h.occupants.count,
    occupant_flags: JSON.stringify(h.occupants.flags),
    vulnerable: vulnerableFlags(h.occupants.flags).length > 0 ? 1 : 0,
    heating: JSON.stringify(h.heating),
    contacts: JSON.stringify(h.contacts),
    notes: h.notes,
  };
}

export async function getHousehold(db: Db, id: string): Promise<Household | undefined> {
  const row = await db.selectFrom('households').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) return undefined;
  const detectors = await db
    .selectFrom('household_detectors')
    .selectAll()
    .where('household_id', '=', id)
    .orderBy('device')
    .execute();
  return toHousehold(row, detectors);
}

/** Creates a household (409 when its id exists). */
export async function insertHousehold(db: Db, h: HouseholdInput, now: number): Promise<void> {
  const exists = await db.selectFrom('households').select('id').where('id', '=', h.id).executeTakeFirst();
  if (exists !== undefined) throw new HouseholdExistsError(h.id);
  await db
    .insertInto('households')
    .values({ id: h.id, ...rowOf(h), created_at: now, updated_at: now })
    .execute();
}

export async function updateHousehold(db: Db, h: HouseholdInput, now: number): Promise<void> {
  const r = await db
    .updateTable('households')
    .set({ ...rowOf(h), updated_at: now })
    .where('id', '=', h.id)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new HouseholdNotFoundError(h.id);
}

/** Installs (or updates) a detector in a household; one installed elsewhere is refused. */
export async function putDetector(
  db: Db,
  household: string,
  d: HouseholdDetector,
  now: number,
): Promise<void> {
  const other = await db
    .selectFrom('household_detectors')
    .select('household_id')
    .where('device', '=', d.device)
    .executeTakeFirst();
  if (other !== undefined && other.household_id !== household)
    throw new DetectorElsewhereError(d.device, other.household_id);
  const row = {
    location: d.location,
    installed_on: d.installedOn ?? null,
    expires_on: d.expiresOn ?? null,
  };
  if (other === undefined)
    await db
      .insertInto('household_detectors')
      .values({ device: d.device, household_id: household, ...row, created_at: now })
      .execute();
  else await db.updateTable('household_detectors').set(row).where('device', '=', d.device).execute();
}

export async function removeDetector(db: Db, household: string, device: string): Promise<boolean> {
  const r = await db
    .deleteFrom('household_detectors')
    .where('device', '=', device)
    .where('household_id', '=', household)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Rows per statement of the bulk reads and writes: well under either database's bound parameters. */
const CHUNK = 500;

function chunks<T>(xs: readonly T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** The households of these ids that exist, with their detectors (an import's look-up). */
export async function householdsByIds(db: Db, ids: readonly string[]): Promise<Map<string, Household>> {
  const found = new Map<string, Household>();
  for (const part of chunks([...new Set(ids)])) {
    const rows = await db.selectFrom('households').selectAll().where('id', 'in', part).execute();
    if (rows.length === 0) continue;
    const detectors = await db
      .selectFrom('household_detectors')
      .selectAll()
      .where(
        'household_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('device')
      .execute();
    for (const r of rows)
      found.set(
        r.id,
        toHousehold(
          r,
          detectors.filter((d) => d.household_id === r.id),
        ),
      );
  }
  return found;
}

/** Where each of these devices is installed, for those that are. */
export async function detectorHouseholds(db: Db, devices: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const part of chunks([...new Set(devices)])) {
    const rows = await db
      .selectFrom('household_detectors')
      .select(['device', 'household_id'])
      .where('device', 'in', part)
      .execute();
    for (const r of rows) found.set(r.device, r.household_id);
  }
  return found;
}

/** Creates households known not to exist (an import checked), many rows a statement. */
export async function insertHouseholds(db: Db, hs: readonly HouseholdInput[], now: number): Promise<void> {
  for (const part of chunks(hs, 200))
    await db
      .insertInto('households')
      .values(part.map((h) => ({ id: h.id, ...rowOf(h), created_at: now, updated_at: now })))
      .execute();
}

/** Installs detectors known to be in no home (an import checked), many rows a statement. */
export async function insertDetectors(
  db: Db,
  ds: ReadonlyArray<{ household: string; detector: HouseholdDetector }>,
  now: number,
): Promise<void> {
  for (const part of chunks(ds, 200))
    await db
      .insertInto('household_detectors')
      .values(
        part.map(({ household, detector: d }) => ({
          device: d.device,
          household_id: household,
          location: d.location,
          installed_on: d.installedOn ?? null,
          expires_on: d.expiresOn ?? null,
          created_at: now,
        })),
      )
      .execute();
}

export interface HouseholdQuery {
  /** Area ids to list (a subtree); null: every area. */
  areas: string[] | null;
  /** Part of the address or of the id. */
  q?: string | undefined;
  vulnerable?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * A list over at most this many areas (a township and its villages) is read area by area: each
 * area's next rows from its index, merged. See listHouseholds.
 */
const PER_AREA_MAX = 64;
/** The shortest search the trigram indexes answer (0009-household-indexes); shorter ones read every home in scope. */
const INDEXED_SEARCH_MIN = 3;

/** `text` anywhere in the address or the id: case-insensitive for latin letters on both databases. */
function searchCondition(db: Db, text: string): Expression<SqlBool> {
  // The pattern characters escaped, so a search for "50%" finds "50%". PostgreSQL's LIKE escapes
  // with a backslash by itself (and the trigram index reads the pattern as it is); SQLite's is told.
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const cased = text.toLowerCase() !== text.toUpperCase();
  const match = !isPostgres(db)
    ? sql`like ${pattern} escape '\\'`
    : // ILIKE only for a search with letters that have a case: it folds every character of every
      // address it reads, 3 to 4 times the work of LIKE, for nothing when the search is 柳江 or 12.
      sql`${sql.raw(cased ? 'ilike' : 'like')} ${pattern}`;
  return sql<SqlBool>`(${sql.ref('h.address')} ${match} or ${sql.ref('h.id')} ${match})`;
}

/**
 * `column` is one of `areas`. On PostgreSQL as one array parameter: a county's thousand areas as
 * a thousand parameters cost milliseconds to bind and plan on every list.
 */
function areaIn(db: Db, column: string, areas: readonly string[], byIndex = true): Expression<SqlBool> {
  // `+area` keeps SQLite off the (area, id) index, which it would otherwise probe once per area
  // for every home its search index found (a county's thousand areas: seconds).
  if (!isPostgres(db))
    return sql<SqlBool>`${byIndex ? sql.ref(column) : sql`+${sql.ref(column)}`} in (${sql.join(areas)})`;
  return sql<SqlBool>`${sql.ref(column)} = any(${[...areas]}::text[])`;
}

/**
 * How many homes `areas` have (null: all), of the vulnerable flag given: a sum over the
 * counts migration 0009 keeps per area, not a count of the homes themselves.
 */
async function homesCounted(
  db: Db,
  areas: string[] | null,
  vulnerable: boolean | undefined,
): Promise<number> {
  let q = db
    .selectFrom('household_counts')
    .select((eb) => eb.fn.sum<number | string | null>('households').as('n'));
  if (areas !== null) q = q.where(areaIn(db, 'area', areas));
  if (vulnerable !== undefined) q = q.where('vulnerable', '=', vulnerable ? 1 : 0);
  return Number((await q.executeTakeFirst())?.n ?? 0);
}

type HouseholdsQuery<O> = SelectQueryBuilder<Database & { h: HouseholdsTable }, 'h', O>;

/**
 * A page of households by id, with their detectors, and how many match in all.
 *
 * Read so that a township's list costs what its own homes cost, however many homes the rest of
 * the registry holds (issue 13; server/bench/households.ts has the figures). The databases plan
 * `ORDER BY id LIMIT n` over a filter by walking the registry in id order until n rows pass,
 * expecting the matches spread evenly through it; a township's homes, or the homes whose id
 * starts with a village's code, sit together, so that walk can cross most of the registry:
 * - Over a few areas (a township's), each area's rows after the cursor come from the (area, id)
 *   index, at most a page of each, and the pages are merged.
 * - Over many areas (a county's), most homes are the caller's: the registry in id order, filtered.
 *   A search of 3 characters or more first asks the trigram index (0009-household-indexes) which
 *   homes hold the text, then sorts those: a search of the county reads the homes that match,
 *   not every home. The same LIKE decides in every case, so the index changes no answer.
 * - The total is a sum of the per-area counts (0009) when nothing is searched, else a count of
 *   the matches (found through the index where there is one).
 */
export async function listHouseholds(db: Db, q: HouseholdQuery): Promise<Page<Household>> {
  const text = q.q === undefined || q.q === '' ? null : q.q;
  const areas = q.areas === null ? null : inList(q.areas);
  const indexedSearch = text !== null && [...text].length >= INDEXED_SEARCH_MIN;
  const filtered = <O>(query: HouseholdsQuery<O>, only = areas, byIndex = true) => {
    let f = query;
    if (only !== null) f = f.where(areaIn(db, 'h.area', only, byIndex));
    if (q.vulnerable !== undefined) f = f.where('h.vulnerable', '=', q.vulnerable ? 1 : 0);
    if (text !== null) f = f.where(searchCondition(db, text));
    return f;
  };
  const after = <O>(query: HouseholdsQuery<O>) =>
    q.cursor === undefined ? query : query.where('h.id', '>', q.cursor);
  const page = <O>(query: HouseholdsQuery<O>) =>
    after(query)
      .selectAll('h')
      .orderBy('h.id')
      .limit(q.limit + 1);
  const households = db.selectFrom('households as h');
  // SQLite's FTS5 index, joined so that SQLite starts from it: CROSS JOIN keeps that order.
  const fts =
    text !== null && indexedSearch && !isPostgres(db)
      ? db
          .selectFrom(
            sql<{ id: string }>`(select k.household_id as id
              from household_search cross join household_search_keys as k
              where household_search match ${`"${text.replaceAll('"', '""')}"`} and k.n = household_search.rowid)`.as(
              'm',
            ),
          )
          .crossJoin('households as h')
          .whereRef('h.id', '=', 'm.id')
      : null;

  let rows: HouseholdsTable[];
  let counted: HouseholdsQuery<object> = filtered(households);
  if (areas !== null && areas.length <= PER_AREA_MAX) {
    const [first, ...others] = areas.map((area, i) =>
      db.selectFrom(page(filtered(households.where('h.area', '=', area), null)).as(`a${i}`)).selectAll(),
    );
    let merged = first as NonNullable<typeof first>;
    for (const o of others) merged = merged.unionAll(o);
    rows = await merged
      .orderBy('id')
      .limit(q.limit + 1)
      .execute();
  } else if (fts !== null) {
    counted = filtered(fts, areas, false);
    rows = await page(counted).execute();
  } else if (indexedSearch) {
    // PostgreSQL: the matches first (MATERIALIZED: planned on their own, with the trigram
    // index), then the page of them, then those rows.
    rows = await db
      .with(
        (w) => w('m').materialized(),
        () => filtered(households).select('h.id'),
      )
      .selectFrom('households as h')
      .selectAll('h')
      .where('h.id', 'in', (eb) => {
        let ids = eb.selectFrom('m').select('m.id');
        if (q.cursor !== undefined) ids = ids.where('m.id', '>', q.cursor);
        return ids.orderBy('m.id').limit(q.limit + 1);
      })
      .orderBy('h.id')
      .execute();
  } else rows = await page(filtered(households)).execute();

  const total =
    text === null
      ? await homesCounted(db, areas, q.vulnerable)
      : Number(
          (
            await counted
              .select((eb) => eb.fn.countAll<number | string>().as('total'))
              .executeTakeFirstOrThrow()
          ).total,
        );
  const shown = rows.slice(0, q.limit);
  const ids = shown.map((r) => r.id);
  const detectors =
    ids.length === 0
      ? []
      : await db.selectFrom('household_detectors').selectAll().where('household_id', 'in', ids).execute();
  const byHousehold = new Map<string, HouseholdDetectorsTable[]>();
  for (const d of detectors) byHousehold.set(d.household_id, [...(byHousehold.get(d.household_id) ?? []), d]);
  return {
    rows: shown.map((r) =>
      toHousehold(
        r,
        (byHousehold.get(r.id) ?? []).sort((a, b) => (a.device < b.device ? -1 : 1)),
      ),
    ),
    total,
    nextCursor: rows.length > q.limit ? (shown.at(-1)?.id ?? null) : null,
  };
}

/**
 * False on PostgreSQL when the household search's trigram indexes are missing (the migration
 * could not create `pg_trgm`): searches then read every home in the caller's areas.
 */
export async function householdSearchIndexed(db: Db): Promise<boolean> {
  if (!isPostgres(db)) return true;
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_indexes
    where tablename = 'households' and indexname in ('households_address_trgm_idx', 'households_id_trgm_idx')`.execute(
    db,
  );
  return rows[0]?.n === 2;
}

/** What the alarm side needs of a household, for every installed detector (loaded at start). */
export interface DetectorHome {
  device: string;
  household: string;
  area: string;
  address: string;
  flags: OccupantFlag[];
  location: string;
  /**
   * The contacts in call order (the escalation chain of its alarms starts with them), as stored:
   * JSON of HouseholdContact[], parsed when an alarm needs them (the index keeps them for every
   * detector of a county, issue 18).
   */
  contactsJson: string;
}

/**
 * Installed detectors with their homes: one household's (`household`), or a page of all of them in
 * device order (`after` the last device of the page before, at most `limit`).
 */
export async function detectorHomes(
  db: Db,
  which: { household: string } | { after: string | null; limit: number },
): Promise<DetectorHome[]> {
  let q = db
    .selectFrom('household_detectors as d')
    .innerJoin('households as h', 'h.id', 'd.household_id')
    .select([
      'd.device',
      'd.household_id',
      'd.location',
      'h.area',
      'h.address',
      'h.occupant_flags',
      'h.contacts',
    ]);
  if ('household' in which) q = q.where('h.id', '=', which.household);
  else {
    if (which.after !== null) q = q.where('d.device', '>', which.after);
    q = q.orderBy('d.device').limit(which.limit);
  }
  const rows = await q.execute();
  return rows.map((r) => ({
    device: r.device,
    household: r.household_id,
    area: r.area,
    address: r.address,
    flags: JSON.parse(r.occupant_flags) as OccupantFlag[],
    location: r.location,
    contactsJson: r.contacts,
  }));
}

/** An installed detector with its home, for the lists of detectors that need a visit. */
export interface InstalledDetector {
  device: string;
  household: string;
  area: string;
  address: string;
  location: string;
  installedOn: string | null;
  expiresOn: string | null;
}

/**
 * The detectors installed in `households`, read by household a chunk at a time. Joined to
 * `households` and filtered by area instead, PostgreSQL reads every detector of the registry
 * (its estimate prefers one pass over a township's thousand index look-ups): a township's list
 * would cost what the county's does.
 */
export async function detectorsOf(db: Db, households: readonly string[]): Promise<HouseholdDetectorsTable[]> {
  const out: HouseholdDetectorsTable[] = [];
  for (const part of chunks(households))
    out.push(
      ...(await db.selectFrom('household_detectors').selectAll().where('household_id', 'in', part).execute()),
    );
  return out;
}

/** Every detector installed in a home of `areas` (null: every area), by device id. */
export async function installedDetectors(db: Db, areas: string[] | null): Promise<InstalledDetector[]> {
  let homes = db.selectFrom('households').select(['id', 'area', 'address']);
  if (areas !== null) homes = homes.where('area', 'in', inList(areas));
  const byId = new Map((await homes.execute()).map((h) => [h.id, h]));
  const detectors =
    areas === null
      ? await db.selectFrom('household_detectors').selectAll().execute()
      : await detectorsOf(db, [...byId.keys()]);
  const out: InstalledDetector[] = [];
  for (const d of detectors) {
    const h = byId.get(d.household_id);
    if (h === undefined) continue; // registered after the homes were read
    out.push({
      device: d.device,
      household: d.household_id,
      area: h.area,
      address: h.address,
      location: d.location,
      installedOn: d.installed_on,
      expiresOn: d.expires_on,
    });
  }
  return out.sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
}

/** Households of `areas` (null: all) with a place, by id, at most `limit`, and how many there are. */
export async function householdsOnMap(
  db: Db,
  areas: string[] | null,
  limit: number,
): Promise<{
  households: { id: string; address: string; area: string; location: { lat: number; lon: number } }[];
  householdsTotal: number;
}> {
  let base = db.selectFrom('households').where('lat', 'is not', null).where('lon', 'is not', null);
  if (areas !== null) base = base.where('area', 'in', areas.length > 0 ? areas : ['']);
  const { total } = await base
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .executeTakeFirstOrThrow();
  const rows = await base
    .select(['id', 'address', 'area', 'lat', 'lon'])
    .orderBy('id')
    .limit(limit)
    .execute();
  return {
    households: rows.map((r) => ({
      id: r.id,
      address: r.address,
      area: r.area,
      location: { lat: r.lat ?? 0, lon: r.lon ?? 0 },
    })),
    householdsTotal: Number(total),
  };
}
