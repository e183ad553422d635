import { ServerError } from '../errors.js';
import type { Db } from './database.js';
import { type Page, pageByKey, timeOrderedId } from './page.js';
import type { Database, ShiftsTable } from './schema.js';

/** A shift with no previous handover in its area starts this long before its own handover. */
export const FIRST_SHIFT_MS = 12 * 3_600_000;

export class ShiftNotFoundError extends ServerError {
  constructor(id: string) {
    super('shift_not_found', `no shift handover with id ${id}`, { statusCode: 404 });
  }
}

/**
 * The latest handover of exactly this area, if any: each area's duty room hands over on its own
 * (a county's shifts are not its townships'), and null is the room of every area.
 */
export async function lastShift(db: Db, area: string | null): Promise<ShiftsTable | undefined> {
  const all = db.selectFrom('shifts').selectAll();
  return (area === null ? all.where('area', 'is', null) : all.where('area', '=', area))
    .orderBy('ended_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/**
 * Where the shift in progress in `area` began: the area's last handover, else FIRST_SHIFT_MS
 * before `now` (never after `now`: a handover stamped by another instance's faster clock).
 */
export function shiftStart(last: ShiftsTable | undefined, now: number): number {
  return Math.min(last?.ended_at ?? now - FIRST_SHIFT_MS, now);
}

export interface NewShift {
  area: string | null;
  startedAt: number;
  endedAt: number;
  handedOverBy: string;
  note: string;
  /** The shift's report, kept as JSON (reports/shift-report.ts ShiftReport). */
  report: object;
}

export async function insertShift(db: Db, s: NewShift): Promise<ShiftsTable> {
  const row: ShiftsTable = {
    id: timeOrderedId(s.endedAt),
    area: s.area,
    started_at: s.startedAt,
    ended_at: s.endedAt,
    handed_over_by: s.handedOverBy,
    note: s.note,
    report: JSON.stringify(s.report),
    confirmed_by: null,
    confirmed_at: null,
    confirm_note: null,
  };
  await db.insertInto('shifts').values(row).execute();
  return row;
}

export async function findShift(db: Db, id: string): Promise<ShiftsTable | undefined> {
  return db.selectFrom('shifts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Confirms the handover; undefined when it was confirmed already (by then, or just now by another). */
export async function confirmShift(
  db: Db,
  id: string,
  c: { by: string; at: number; note: string },
): Promise<ShiftsTable | undefined> {
  return db
    .updateTable('shifts')
    .set({ confirmed_by: c.by, confirmed_at: c.at, confirm_note: c.note })
    .where('id', '=', id)
    .where('confirmed_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export interface ShiftQuery {
  limit: number;
  /** The last id of the previous page: the list goes on with older handovers. */
  cursor?: string | undefined;
  /** Only shifts of these areas (the caller's subtree); null: every shift. */
  areas: string[] | null;
}

/** Handovers, newest first, the total matching and the next page's cursor. */
export async function listShifts(db: Db, q: ShiftQuery): Promise<Page<ShiftsTable>> {
  let base = db.selectFrom('shifts');
  if (q.areas !== null) base = base.where('area', 'in', q.areas.length > 0 ? q.areas : ['']);
  return pageByKey<ShiftsTable, 'id', Database, 'shifts'>(base, 'id', { ...q, order: 'desc' });
}

/** A shift without its note and report: what a breakdown by shift needs. */
export type ShiftSpan = Pick<ShiftsTable, 'id' | 'area' | 'started_at' | 'ended_at' | 'handed_over_by'>;

/**
 * The newest `limit` shifts of `areas` (null: every area) whose (started_at, ended_at] meets
 * [from, to), without their reports, and how many there are in all.
 */
export async function shiftsOverlapping(
  db: Db,
  q: { from: number; to: number; areas: string[] | null; limit: number },
): Promise<{ shifts: ShiftSpan[]; total: number }> {
  // Whole ms: the shift's first is started_at + 1, its last ended_at; the range's last is to − 1.
  let base = db
    .selectFrom('shifts')
    .where('started_at', '<', q.to - 1)
    .where('ended_at', '>=', q.from);
  if (q.areas !== null) base = base.where('area', 'in', q.areas.length > 0 ? q.areas : ['']);
  const { total } = await base.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  const shifts = await base
    .select(['id', 'area', 'started_at', 'ended_at', 'handed_over_by'])
    .orderBy('id', 'desc')
    .limit(q.limit)
    .execute();
  return { shifts, total: Number(total) };
}
