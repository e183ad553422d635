import {
  type Household,
  type HouseholdContact,
  type HouseholdDetector,
  type HouseholdInput,
  type OccupantFlag,
  vulnerableFlags,
} from '@gaswatch/shared';
import { ServerError } from '../errors.js';
import type { Db } from './database.js';
import { type Page, pageByKey } from './page.js';
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

/** A page of households by id, with their detectors. */
export async function listHouseholds(db: Db, q: HouseholdQuery): Promise<Page<Household>> {
  let base = db.selectFrom('households');
  if (q.areas !== null) base = base.where('area', 'in', q.areas.length > 0 ? q.areas : ['']);
  if (q.vulnerable !== undefined) base = base.where('vulnerable', '=', q.vulnerable ? 1 : 0);
  if (q.q !== undefined && q.q !== '') {
    // LIKE with the pattern characters escaped: a search for "50%" finds "50%".
    const like = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    base = base.where((eb) => eb.or([eb('address', 'like', eb.val(like)), eb('id', 'like', eb.val(like))]));
  }
  const page = await pageByKey<HouseholdsTable, 'id', Database, 'households'>(base, 'id', q);
  const ids = page.rows.map((r) => r.id);
  const detectors =
    ids.length === 0
      ? []
      : await db.selectFrom('household_detectors').selectAll().where('household_id', 'in', ids).execute();
  const byHousehold = new Map<string, HouseholdDetectorsTable[]>();
  for (const d of detectors) byHousehold.set(d.household_id, [...(byHousehold.get(d.household_id) ?? []), d]);
  return {
    rows: page.rows.map((r) =>
      toHousehold(
        r,
        (byHousehold.get(r.id) ?? []).sort((a, b) => (a.device < b.device ? -1 : 1)),
      ),
    ),
    total: page.total,
    nextCursor: page.nextCursor,
  };
}

/** What the alarm side needs of a household, for every installed detector (loaded at start). */
export interface DetectorHome {
  device: string;
  household: string;
  area: string;
  address: string;
  flags: OccupantFlag[];
  location: string;
  /** In call order: the escalation chain of its alarms starts with them. */
  contacts: HouseholdContact[];
}

export async function detectorHomes(db: Db, household?: string): Promise<DetectorHome[]> {
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
  if (household !== undefined) q = q.where('h.id', '=', household);
  const rows = await q.execute();
  return rows.map((r) => ({
    device: r.device,
    household: r.household_id,
    area: r.area,
    address: r.address,
    flags: JSON.parse(r.occupant_flags) as OccupantFlag[],
    location: r.location,
    contacts: JSON.parse(r.contacts) as HouseholdContact[],
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

/** Every detector installed in a home of `areas` (null: every area), by device id. */
export async function installedDetectors(db: Db, areas: string[] | null): Promise<InstalledDetector[]> {
  let q = db
    .selectFrom('household_detectors as d')
    .innerJoin('households as h', 'h.id', 'd.household_id')
    .select([
      'd.device',
      'd.household_id',
      'd.location',
      'd.installed_on',
      'd.expires_on',
      'h.area',
      'h.address',
    ])
    .orderBy('d.device');
  if (areas !== null) q = q.where('h.area', 'in', areas.length > 0 ? areas : ['']);
  return (await q.execute()).map((r) => ({
    device: r.device,
    household: r.household_id,
    area: r.area,
    address: r.address,
    location: r.location,
    installedOn: r.installed_on,
    expiresOn: r.expires_on,
  }));
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
