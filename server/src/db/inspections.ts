import {
  INSPECTION_ITEMS,
  type Inspection,
  type InspectionInput,
  type InspectionItemInput,
  type InspectionPhoto,
  PHOTOS_PER_INSPECTION,
  PHOTOS_PER_ITEM,
  type PhotoType,
  type Rectification,
} from '@gaswatch/shared';
import { sql } from 'kysely';
import { ServerError } from '../errors.js';
import type { Db } from './database.js';
import { type Page, timeOrderedId } from './page.js';
import type { InspectionPhotosTable, InspectionsTable } from './schema.js';

export class InspectionNotFoundError extends ServerError {
  constructor(id: string) {
    super('inspection_not_found', `no inspection ${id}`, { statusCode: 404 });
  }
}

export class PhotoNotFoundError extends ServerError {
  constructor(inspection: string, photo: string) {
    super('photo_not_found', `inspection ${inspection} has no photo ${photo}`, { statusCode: 404 });
  }
}

/** A checklist item, or the inspection, has as many photos as it may. */
export class TooManyPhotosError extends ServerError {
  constructor(message: string) {
    super('too_many_photos', message, { statusCode: 409 });
  }
}

/** The literal the partial index of pending rectifications is defined with (0006-inspections.ts). */
const PENDING = sql.lit('pending');

const iso = (ms: number): string => new Date(ms).toISOString();
const ORDER = new Map<string, number>(INSPECTION_ITEMS.map((id, n) => [id, n]));

/** A photo without its bytes: what an inspection lists. */
export type PhotoMeta = InspectionPhoto & { item: string };

export function rectificationOf(r: InspectionsTable): Rectification | null {
  if (r.rectify_deadline === null || r.rectify_outcome === null) return null;
  return {
    deadline: r.rectify_deadline,
    outcome: r.rectify_outcome as Rectification['outcome'],
    rectifiedOn: r.rectified_on,
    note: r.rectify_note,
  };
}

/** Pending and past its deadline on `today` (the server's local day): the deadline day itself is not. */
export function isOverdue(r: Pick<InspectionsTable, 'rectify_outcome' | 'rectify_deadline'>, today: string) {
  return r.rectify_outcome === 'pending' && r.rectify_deadline !== null && r.rectify_deadline < today;
}

export function toInspection(r: InspectionsTable, photos: readonly PhotoMeta[], today: string): Inspection {
  const items = JSON.parse(r.items) as InspectionItemInput[];
  return {
    id: r.id,
    household: r.household_id,
    area: r.area,
    date: r.date,
    inspectors: JSON.parse(r.inspectors) as string[],
    items: items.map((x) => ({
      ...x,
      photos: photos
        .filter((p) => p.item === x.item)
        .map(({ id, contentType, size }) => ({ id, contentType, size })),
    })),
    foundCount: r.found_count,
    rectification: rectificationOf(r),
    overdue: isOverdue(r, today),
    note: r.note,
    createdBy: r.created_by,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/** Records a visit (the household's existence and area are the caller's to check). */
export async function insertInspection(
  db: Db,
  i: InspectionInput & { area: string; createdBy: string },
  now: number,
): Promise<InspectionsTable> {
  // Checklist order, whatever order the form sent: the card and the ledger read it down.
  const items = [...i.items].sort((a, b) => (ORDER.get(a.item) ?? 0) - (ORDER.get(b.item) ?? 0));
  const r = i.rectification;
  const row: InspectionsTable = {
    id: timeOrderedId(now),
    household_id: i.household,
    area: i.area,
    date: i.date,
    inspectors: JSON.stringify(i.inspectors),
    items: JSON.stringify(items),
    found_count: items.filter((x) => x.result === 'found').length,
    rectify_deadline: r?.deadline ?? null,
    rectify_outcome: r?.outcome ?? null,
    rectified_on: r?.rectifiedOn ?? null,
    rectify_note: r?.note ?? '',
    note: i.note,
    created_by: i.createdBy,
    created_at: now,
    updated_at: now,
  };
  await db.insertInto('inspections').values(row).execute();
  return row;
}

export async function getInspection(db: Db, id: string): Promise<InspectionsTable | undefined> {
  return db.selectFrom('inspections').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Changes the rectification and the visit's note; the row as it is after. */
export async function updateInspection(
  db: Db,
  id: string,
  change: { rectification: Rectification | null; note: string },
  now: number,
): Promise<InspectionsTable> {
  const r = change.rectification;
  const row = await db
    .updateTable('inspections')
    .set({
      rectify_deadline: r?.deadline ?? null,
      rectify_outcome: r?.outcome ?? null,
      rectified_on: r?.rectifiedOn ?? null,
      rectify_note: r?.note ?? '',
      note: change.note,
      updated_at: now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw new InspectionNotFoundError(id);
  return row;
}

/** The photos of these inspections, without their bytes, oldest first. */
export async function photosOf(db: Db, inspections: readonly string[]): Promise<Map<string, PhotoMeta[]>> {
  const by = new Map<string, PhotoMeta[]>();
  if (inspections.length === 0) return by;
  const rows = await db
    .selectFrom('inspection_photos')
    .select(['id', 'inspection_id', 'item', 'content_type', 'size'])
    .where('inspection_id', 'in', inspections)
    .orderBy('id')
    .execute();
  for (const p of rows)
    by.set(p.inspection_id, [
      ...(by.get(p.inspection_id) ?? []),
      { id: p.id, item: p.item, contentType: p.content_type as PhotoType, size: Number(p.size) },
    ]);
  return by;
}

/**
 * Adds a photo of a checklist item, unless the item or the inspection has as many as it may.
 * Touching the inspection first takes its row lock (PostgreSQL) or the write lock (SQLite), so
 * two uploads at once cannot both pass the count; `db` should be a transaction.
 */
export async function insertPhoto(
  db: Db,
  p: { inspection: string; item: string; contentType: PhotoType; bytes: Buffer; createdBy: string },
  now: number,
): Promise<PhotoMeta> {
  const touched = await db
    .updateTable('inspections')
    .set({ updated_at: now })
    .where('id', '=', p.inspection)
    .executeTakeFirst();
  if (Number(touched.numUpdatedRows) === 0) throw new InspectionNotFoundError(p.inspection);
  const counts = await db
    .selectFrom('inspection_photos')
    .select(['item', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('inspection_id', '=', p.inspection)
    .groupBy('item')
    .execute();
  const total = counts.reduce((sum, c) => sum + Number(c.n), 0);
  if (total >= PHOTOS_PER_INSPECTION)
    throw new TooManyPhotosError(`inspection ${p.inspection} has ${total} photos, the most it may`);
  if (Number(counts.find((c) => c.item === p.item)?.n ?? 0) >= PHOTOS_PER_ITEM)
    throw new TooManyPhotosError(`${p.item} has ${PHOTOS_PER_ITEM} photos, the most one item may`);
  const row: InspectionPhotosTable = {
    id: timeOrderedId(now),
    inspection_id: p.inspection,
    item: p.item,
    content_type: p.contentType,
    size: p.bytes.length,
    bytes: p.bytes,
    created_by: p.createdBy,
    created_at: now,
  };
  await db.insertInto('inspection_photos').values(row).execute();
  return { id: row.id, item: row.item, contentType: p.contentType, size: row.size };
}

export async function getPhoto(
  db: Db,
  inspection: string,
  photo: string,
): Promise<InspectionPhotosTable | undefined> {
  return db
    .selectFrom('inspection_photos')
    .selectAll()
    .where('id', '=', photo)
    .where('inspection_id', '=', inspection)
    .executeTakeFirst();
}

export interface InspectionQuery {
  /** Area ids to list (a subtree); null: every area. */
  areas: string[] | null;
  household?: string | undefined;
  /** Visits on or after this day, and on or before `to`. */
  from?: string | undefined;
  to?: string | undefined;
  /**
   * With `today`: true lists only pending rectifications past their deadline, oldest deadline
   * first; false only the others. Absent: every visit, newest day first.
   */
  overdue?: { today: string; is: boolean } | undefined;
  limit: number;
  /** nextCursor of the previous page. */
  cursor?: string | undefined;
}

/** A cursor: the sort day and the id of the last row of a page. */
export const CURSOR_PATTERN = /^(\d{4}-\d{2}-\d{2})_([0-9a-z-]{1,40})$/;

/**
 * A page of inspections: newest visit first (ties: newest recorded first), or for the overdue
 * list the oldest deadline first; the total matching and the next page's cursor.
 */
export async function listInspections(db: Db, q: InspectionQuery): Promise<Page<InspectionsTable>> {
  let base = db.selectFrom('inspections');
  if (q.areas !== null) base = base.where('area', 'in', q.areas.length > 0 ? q.areas : ['']);
  if (q.household !== undefined) base = base.where('household_id', '=', q.household);
  if (q.from !== undefined) base = base.where('date', '>=', q.from);
  if (q.to !== undefined) base = base.where('date', '<=', q.to);
  const overdueList = q.overdue?.is === true;
  if (q.overdue !== undefined) {
    const { today } = q.overdue;
    base = overdueList
      ? base.where('rectify_outcome', '=', PENDING).where('rectify_deadline', '<', today)
      : base.where((eb) =>
          eb.or([
            eb('rectify_outcome', 'is', null),
            eb('rectify_outcome', '<>', PENDING),
            eb('rectify_deadline', '>=', today),
          ]),
        );
  }
  const { total } = await base
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .executeTakeFirstOrThrow();

  const key = overdueList ? 'rectify_deadline' : 'date';
  const dir = overdueList ? 'asc' : 'desc';
  let page = base
    .selectAll()
    .orderBy(key, dir)
    .orderBy('id', dir)
    .limit(q.limit + 1);
  const at = q.cursor === undefined ? null : CURSOR_PATTERN.exec(q.cursor);
  if (at !== null) {
    const [, day = '', id = ''] = at;
    const op = dir === 'asc' ? '>' : '<';
    page = page.where((eb) => eb.or([eb(key, op, day), eb.and([eb(key, '=', day), eb('id', op, id)])]));
  }
  const rows = await page.execute();
  const shown = rows.slice(0, q.limit);
  const last = shown.at(-1);
  return {
    rows: shown,
    total: Number(total),
    nextCursor:
      rows.length > q.limit && last !== undefined
        ? `${overdueList ? last.rectify_deadline : last.date}_${last.id}`
        : null,
  };
}

/**
 * Moves a household's visits to its new area, so they stay where the household is seen (for the
 * household's PATCH, in its transaction). The number of visits moved.
 */
export async function moveInspections(db: Db, household: string, area: string): Promise<number> {
  const r = await db
    .updateTable('inspections')
    .set({ area })
    .where('household_id', '=', household)
    .where('area', '<>', area)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
