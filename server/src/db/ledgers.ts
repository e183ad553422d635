import type { InspectionItemId, InspectionItemInput } from '@gaswatch/shared';
import { ServerError } from '../errors.js';
import type { LedgerArea, LedgerSources } from '../reports/ledger.js';
import type { Db } from './database.js';
import type { Page } from './page.js';
import type { LedgersTable } from './schema.js';

export class LedgerNotFoundError extends ServerError {
  constructor(id: string) {
    super('ledger_not_found', `no ledger ${id}`, { statusCode: 404 });
  }
}

/** Every area with its parent, name, kind and creation time: areas are few (a county's hundreds). */
export async function allAreas(db: Db): Promise<Array<LedgerArea & { kind: string; createdAt: number }>> {
  const rows = await db.selectFrom('areas').select(['id', 'parent', 'name', 'kind', 'created_at']).execute();
  return rows.map((r) => ({
    id: r.id,
    parent: r.parent,
    name: r.name,
    kind: r.kind,
    createdAt: Number(r.created_at),
  }));
}

const some = (ids: readonly string[]) => (ids.length > 0 ? [...ids] : ['']);

/**
 * The records a ledger counts (reports/ledger.ts LedgerSources, but for the alarms and the
 * devices, which are in memory): the households and detectors of `areas` (a subtree), its visits
 * dated from `from` (null: ever) to `to` inclusive, and the advisories of those days for `areas`
 * and `above` (the areas over it). Only the columns counted are read, and a visit's checklist
 * only when it found something.
 */
export async function ledgerSources(
  db: Db,
  q: { areas: readonly string[]; above: readonly string[]; from: string | null; to: string },
): Promise<Omit<LedgerSources, 'alarms' | 'deviceStatus'>> {
  const households = await db
    .selectFrom('households')
    .select(['id', 'area', 'created_at', 'vulnerable'])
    .where('area', 'in', some(q.areas))
    .execute();
  const detectors = await db
    .selectFrom('household_detectors as d')
    .innerJoin('households as h', 'h.id', 'd.household_id')
    .select(['d.device', 'd.household_id', 'd.installed_on', 'd.expires_on', 'd.created_at', 'h.area'])
    .where('h.area', 'in', some(q.areas))
    .execute();
  let visits = db
    .selectFrom('inspections')
    .select((eb) => [
      'household_id',
      'area',
      'date',
      'rectify_outcome',
      'rectified_on',
      'rectify_deadline',
      eb.case().when('found_count', '>', 0).then(eb.ref('items')).else(null).end().as('items'),
    ])
    .where('area', 'in', some(q.areas))
    .where('date', '<=', q.to);
  if (q.from !== null) visits = visits.where('date', '>=', q.from);
  let advisories = db
    .selectFrom('advisories')
    .select(['area', 'day', 'grade'])
    .where('area', 'in', some([...q.areas, ...q.above]))
    .where('day', '<=', q.to);
  if (q.from !== null) advisories = advisories.where('day', '>=', q.from);

  return {
    households: households.map((h) => ({
      id: h.id,
      area: h.area,
      createdAt: Number(h.created_at),
      vulnerable: Number(h.vulnerable) === 1,
    })),
    detectors: detectors.map((d) => ({
      device: d.device,
      household: d.household_id,
      area: d.area,
      installedOn: d.installed_on,
      expiresOn: d.expires_on,
      createdAt: Number(d.created_at),
    })),
    inspections: (await visits.execute()).map((v) => ({
      household: v.household_id,
      area: v.area,
      date: v.date,
      found:
        v.items === null
          ? []
          : (JSON.parse(v.items) as InspectionItemInput[])
              .filter((x) => x.result === 'found')
              .map((x) => x.item as InspectionItemId),
      outcome: v.rectify_outcome,
      rectifiedOn: v.rectified_on,
      deadline: v.rectify_deadline,
    })),
    advisories: (await advisories.execute()).map((a) => ({
      area: a.area,
      day: a.day,
      grade: Number(a.grade),
    })),
  };
}

/**
 * Stores a ledger. One of the schedule (a `schedule_key`) is written only if no ledger of that
 * key is: false when another run (another server sharing the database) wrote it first.
 */
export async function insertLedger(db: Db, row: LedgersTable): Promise<boolean> {
  const r = await db
    .insertInto('ledgers')
    .values(row)
    .onConflict((oc) => oc.column('schedule_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return r !== undefined;
}

/** True when the scheduled run of this key has written its ledger. */
export async function scheduledLedgerExists(db: Db, key: string): Promise<boolean> {
  const r = await db.selectFrom('ledgers').select('id').where('schedule_key', '=', key).executeTakeFirst();
  return r !== undefined;
}

export async function getLedger(db: Db, id: string): Promise<LedgersTable | undefined> {
  return db.selectFrom('ledgers').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A ledger without its numbers. */
export type LedgerHeadRow = Omit<LedgersTable, 'numbers' | 'schedule_key'>;

/**
 * Ledgers of `areas` (null: every area), newest made first, without their numbers (tens of kB
 * each: a list does not read them).
 */
export async function listLedgers(
  db: Db,
  q: { areas: string[] | null; limit: number; cursor?: string | undefined },
): Promise<Page<LedgerHeadRow>> {
  let base = db.selectFrom('ledgers');
  if (q.areas !== null) base = base.where('area', 'in', some(q.areas));
  const { total } = await base
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .executeTakeFirstOrThrow();
  let page = base
    .select(['id', 'area', 'week_start', 'week_end', 'generated_at', 'generated_by'])
    .orderBy('id', 'desc')
    .limit(q.limit + 1);
  if (q.cursor !== undefined) page = page.where('id', '<', q.cursor);
  const rows = await page.execute();
  const shown = rows.slice(0, q.limit).map((r) => ({ ...r, generated_at: Number(r.generated_at) }));
  return {
    rows: shown,
    total: Number(total),
    nextCursor: rows.length > q.limit ? (shown.at(-1)?.id ?? null) : null,
  };
}
