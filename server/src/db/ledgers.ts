import { ServerError } from '../errors.js';
import type { Db } from './database.js';
import { inList, type Page } from './page.js';
import type { LedgersTable } from './schema.js';

export class LedgerNotFoundError extends ServerError {
  constructor(id: string) {
    super('ledger_not_found', `no ledger ${id}`, { statusCode: 404 });
  }
}

/** Every area with its parent, name, kind and creation time: areas are few (a county's hundreds). */
export async function allAreas(
  db: Db,
): Promise<Array<{ id: string; parent: string | null; name: string; kind: string; createdAt: number }>> {
  const rows = await db.selectFrom('areas').select(['id', 'parent', 'name', 'kind', 'created_at']).execute();
  return rows.map((r) => ({
    id: r.id,
    parent: r.parent,
    name: r.name,
    kind: r.kind,
    createdAt: Number(r.created_at),
  }));
}

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
  if (q.areas !== null) base = base.where('area', 'in', inList(q.areas));
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
