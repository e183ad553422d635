import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { ServerError } from '../errors.js';
import type { Db } from './database.js';
import { type Page, timeOrderedId } from './page.js';
import type {
  PermitEventsTable,
  PermitMonitoringTable,
  PermitsTable,
  PermitTestReadingsTable,
  PermitTestsTable,
} from './schema.js';

/**
 * The permit records (migrations/0011-permits.ts): permits, their signed state changes, gas
 * tests and their readings, monitoring records. Plain functions over the database; the rules that
 * decide what may be written are in server/src/permits/.
 */

export class PermitNotFoundError extends ServerError {
  constructor(id: string) {
    super('permit_not_found', `no permit ${id}`, { statusCode: 404 });
  }
}

/** Someone else changed the permit between reading it and writing the change: read it again. */
export class PermitChangedError extends ServerError {
  constructor(id: string) {
    super('permit_changed', `permit ${id} was changed meanwhile: read it again and retry`, {
      statusCode: 409,
    });
  }
}

export class TestNotFoundError extends ServerError {
  constructor(permit: string, test: string) {
    super('test_not_found', `permit ${permit} has no gas test ${test}`, { statusCode: 404 });
  }
}

/** A permit's records are kept until its keep_until (SPEC §7 "records"): no deletion before. */
export class RecordsKeptError extends ServerError {
  constructor(id: string, until: number | null) {
    super(
      'records_kept',
      until === null
        ? `permit ${id} is not closed, cancelled or expired: it cannot be deleted`
        : `permit ${id} must be kept until ${new Date(until).toISOString()}`,
      { statusCode: 409 },
    );
  }
}

/** Who signs a change: the caller (user or token) with the role they have, or the server itself. */
export interface Signer {
  by: string;
  kind: 'user' | 'token' | 'system';
  name: string;
  /** A role of SPEC §9, or `system`. */
  role: string;
}

export const SYSTEM_SIGNER: Signer = { by: 'system', kind: 'system', name: 'gaswatch', role: 'system' };

/** States a permit may expire in (PERMIT_TRANSITIONS' `expire`). */
const EXPIRABLE = ['approved', 'testing', 'ready', 'in_progress', 'suspended'];

export async function insertPermit(db: Db, row: PermitsTable): Promise<void> {
  await db.insertInto('permits').values(row).execute();
}

export async function getPermit(db: Db, id: string): Promise<PermitsTable | undefined> {
  return db.selectFrom('permits').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Writes fields of a permit that are not its state (a draft's form, a confirmed measure, the
 * monitor). Only while it is in `state` and still at `seq`: a change taken meanwhile wins.
 */
export async function updatePermit(
  db: Db,
  id: string,
  at: { state: string; seq: number },
  change: Partial<Omit<PermitsTable, 'id' | 'state' | 'seq'>>,
): Promise<PermitsTable> {
  const row = await db
    .updateTable('permits')
    .set(change)
    .where('id', '=', id)
    .where('state', '=', at.state)
    .where('seq', '=', at.seq)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw new PermitChangedError(id);
  return row;
}

/** The text a record's hash covers: every field, in one order, the previous hash first. */
function hashedText(prev: string, e: Omit<PermitEventsTable, 'hash'>): string {
  return JSON.stringify([
    prev,
    e.permit_id,
    e.seq,
    e.at,
    e.action,
    e.from_state,
    e.to_state,
    e.actor,
    e.actor_kind,
    e.actor_name,
    e.actor_role,
    e.note,
    e.data,
  ]);
}

/** SHA-256 of the previous record's hash (empty for the first) and this record. */
export function eventHash(prev: string, e: Omit<PermitEventsTable, 'hash'>): string {
  return createHash('sha256').update(hashedText(prev, e)).digest('hex');
}

/** The first record whose hash does not follow from its predecessor's, or null when the chain holds. */
export function brokenLink(events: readonly PermitEventsTable[]): number | null {
  let prev = '';
  for (const e of events) {
    const { hash, ...rest } = e;
    if (eventHash(prev, rest) !== hash) return e.seq;
    prev = hash;
  }
  return null;
}

export interface Transition {
  permit: PermitsTable;
  action: string;
  to: string;
  at: number;
  signer: Signer;
  note: string;
  data?: Record<string, unknown>;
  /** Other columns the change sets (closed_at, keep_until, the monitor). */
  set?: Partial<Omit<PermitsTable, 'id' | 'state' | 'seq'>>;
}

/**
 * Moves a permit from the state it was read in to `to`, with the signed record of it; `db`
 * should be a transaction (the audit row goes with it). A permit changed since it was read (its
 * seq moved on) is refused with PermitChangedError, so two changes taken at once never both
 * land: the row update and the record's (permit, seq) key both stop the second.
 */
export async function transitionPermit(
  db: Db,
  t: Transition,
): Promise<{ permit: PermitsTable; event: PermitEventsTable }> {
  const p = t.permit;
  const prev =
    p.seq === 0
      ? ''
      : ((
          await db
            .selectFrom('permit_events')
            .select('hash')
            .where('permit_id', '=', p.id)
            .where('seq', '=', p.seq)
            .executeTakeFirst()
        )?.hash ?? '');
  const row = await db
    .updateTable('permits')
    .set({ ...t.set, state: t.to, seq: p.seq + 1, updated_at: t.at })
    .where('id', '=', p.id)
    .where('state', '=', p.state)
    .where('seq', '=', p.seq)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw new PermitChangedError(p.id);
  const body: Omit<PermitEventsTable, 'hash'> = {
    permit_id: p.id,
    seq: p.seq + 1,
    at: t.at,
    action: t.action,
    from_state: p.state,
    to_state: t.to,
    actor: t.signer.by,
    actor_kind: t.signer.kind,
    actor_name: t.signer.name,
    actor_role: t.signer.role,
    note: t.note,
    data: JSON.stringify(t.data ?? {}),
  };
  const event = { ...body, hash: eventHash(prev, body) };
  await db.insertInto('permit_events').values(event).execute();
  return { permit: row, event };
}

export async function permitEvents(db: Db, permitId: string): Promise<PermitEventsTable[]> {
  return db
    .selectFrom('permit_events')
    .selectAll()
    .where('permit_id', '=', permitId)
    .orderBy('seq')
    .execute();
}

/**
 * The suspension each suspended permit is in: its last record (a suspended permit's last record is
 * always the suspend that stopped it), read for a page of permits in one query.
 */
export async function currentSuspensions(
  db: Db,
  permits: readonly Pick<PermitsTable, 'id' | 'state' | 'seq'>[],
): Promise<Map<string, PermitEventsTable>> {
  const suspended = permits.filter((p) => p.state === 'suspended');
  if (suspended.length === 0) return new Map();
  const rows = await db
    .selectFrom('permit_events')
    .selectAll()
    .where(
      'permit_id',
      'in',
      suspended.map((p) => p.id),
    )
    .where('action', '=', 'suspend')
    .execute();
  const last = new Map(suspended.map((p) => [p.id, p.seq]));
  return new Map(rows.filter((e) => last.get(e.permit_id) === e.seq).map((e) => [e.permit_id, e]));
}

/**
 * The record each permit's evacuation rests on, for those in one now: its last record (`seq`) is
 * the server's suspension with a re-test (`suspend` by `system`, `retest`), or its expiry while the
 * work went on (`expire`, `wasInProgress`).
 */
export async function currentEvacuations(
  db: Db,
  permits: readonly Pick<PermitsTable, 'id' | 'state' | 'seq'>[],
): Promise<Map<string, PermitEventsTable>> {
  const candidates = permits.filter((p) => p.state === 'suspended' || p.state === 'expired');
  if (candidates.length === 0) return new Map();
  const rows = await db
    .selectFrom('permit_events')
    .selectAll()
    .where(
      'permit_id',
      'in',
      candidates.map((p) => p.id),
    )
    .where('action', 'in', ['suspend', 'expire'])
    .where('actor', '=', 'system')
    .execute();
  const last = new Map(candidates.map((p) => [p.id, p.seq]));
  const evacuation = (e: PermitEventsTable) => {
    const data = JSON.parse(e.data) as { retest?: unknown; wasInProgress?: unknown };
    return e.action === 'suspend' ? data.retest === true : data.wasInProgress === true;
  };
  return new Map(
    rows.filter((e) => last.get(e.permit_id) === e.seq && evacuation(e)).map((e) => [e.permit_id, e]),
  );
}

export interface PermitQuery {
  /** Areas to list; null: every area. */
  areas: string[] | null;
  space?: string | undefined;
  states?: readonly string[] | undefined;
  kind?: string | undefined;
  /** Planned window overlapping [from, to), ms. */
  from?: number | undefined;
  to?: number | undefined;
  /** Part of the name (or username) of anyone named on the permit or who signed it. */
  person?: string | undefined;
  limit: number;
  /** nextCursor of the previous page: the last id shown. */
  cursor?: string | undefined;
}

/** A page of permits, newest drawn up first, the total matching and the next page's cursor. */
export async function listPermits(db: Db, q: PermitQuery): Promise<Page<PermitsTable>> {
  let base = db.selectFrom('permits');
  if (q.areas !== null) base = base.where('area', 'in', q.areas.length > 0 ? q.areas : ['']);
  if (q.space !== undefined) base = base.where('space_id', '=', q.space);
  if (q.states !== undefined && q.states.length > 0) base = base.where('state', 'in', [...q.states]);
  if (q.kind !== undefined) base = base.where('kind', '=', q.kind);
  if (q.from !== undefined) base = base.where('planned_end', '>=', q.from);
  if (q.to !== undefined) base = base.where('planned_start', '<', q.to);
  if (q.person !== undefined && q.person !== '') {
    // The pattern characters escaped, with the escape said (SQLite has no default one).
    const like = `%${q.person.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    base = base.where('people', 'like', sql<string>`${like} escape '\\'`);
  }
  const { total } = await base
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .executeTakeFirstOrThrow();
  let page = base
    .selectAll()
    .orderBy('id', 'desc')
    .limit(q.limit + 1);
  if (q.cursor !== undefined) page = page.where('id', '<', q.cursor);
  const rows = await page.execute();
  const shown = rows.slice(0, q.limit);
  return {
    rows: shown,
    total: Number(total),
    nextCursor: rows.length > q.limit ? (shown.at(-1)?.id ?? null) : null,
  };
}

/** Permits whose validity ended before `now` and that are not closed, cancelled or expired yet. */
export async function permitsPastValidity(db: Db, now: number): Promise<PermitsTable[]> {
  return db
    .selectFrom('permits')
    .selectAll()
    .where('state', 'in', EXPIRABLE)
    .where('valid_until', '<', now)
    .execute();
}

/** Permits whose work goes on (or is suspended) with a detector watching it. */
export async function monitoredPermits(db: Db): Promise<PermitsTable[]> {
  return db
    .selectFrom('permits')
    .selectAll()
    .where('state', 'in', ['in_progress', 'suspended'])
    .where('monitor_device', 'is not', null)
    .execute();
}

/**
 * Deletes a permit with its records: only a closed, cancelled or expired one whose keeping time
 * has passed (RecordsKeptError otherwise). `db` should be a transaction.
 */
export async function deletePermit(db: Db, id: string, now: number): Promise<void> {
  const p = await getPermit(db, id);
  if (p === undefined) throw new PermitNotFoundError(id);
  if (p.keep_until === null || p.keep_until > now) throw new RecordsKeptError(id, p.keep_until);
  const tests = (await testsOf(db, id)).map((t) => t.id);
  if (tests.length > 0) await db.deleteFrom('permit_test_readings').where('test_id', 'in', tests).execute();
  await db.deleteFrom('permit_tests').where('permit_id', '=', id).execute();
  await db.deleteFrom('permit_monitoring').where('permit_id', '=', id).execute();
  await db.deleteFrom('permit_events').where('permit_id', '=', id).execute();
  await db.deleteFrom('permits').where('id', '=', id).execute();
}

// ---------------------------------------------------------------------------------------------
// Gas tests

/** A new test (its id from timeOrderedId, so a permit's tests sort by when they started). */
export async function insertTest(db: Db, row: PermitTestsTable): Promise<void> {
  await db.insertInto('permit_tests').values(row).execute();
}

export async function getTest(db: Db, permitId: string, id: string): Promise<PermitTestsTable | undefined> {
  return db
    .selectFrom('permit_tests')
    .selectAll()
    .where('id', '=', id)
    .where('permit_id', '=', permitId)
    .executeTakeFirst();
}

/** The permit's tests, oldest first. */
export async function testsOf(db: Db, permitId: string): Promise<PermitTestsTable[]> {
  return db.selectFrom('permit_tests').selectAll().where('permit_id', '=', permitId).orderBy('id').execute();
}

/** Changes a test that is still as it was read (`status`); false when it changed meanwhile. */
export async function updateTest(
  db: Db,
  id: string,
  status: string,
  change: Partial<Pick<PermitTestsTable, 'status' | 'placements' | 'completed_at'>>,
): Promise<boolean> {
  const r = await db
    .updateTable('permit_tests')
    .set(change)
    .where('id', '=', id)
    .where('status', '=', status)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Ends the tests of a permit that are still open (in progress or failed): a new test replaces them. */
export async function abandonOpenTests(db: Db, permitId: string, now: number): Promise<number> {
  const r = await db
    .updateTable('permit_tests')
    .set({ status: 'abandoned', completed_at: now })
    .where('permit_id', '=', permitId)
    .where('completed_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function insertReadings(db: Db, rows: Omit<PermitTestReadingsTable, 'id'>[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('permit_test_readings')
    .values(rows.map((r) => ({ id: timeOrderedId(r.read_at), ...r })))
    .execute();
}

/** The readings of these tests, by test, in the order taken. */
export async function readingsOf(
  db: Db,
  testIds: readonly string[],
): Promise<Map<string, PermitTestReadingsTable[]>> {
  const by = new Map<string, PermitTestReadingsTable[]>();
  if (testIds.length === 0) return by;
  const rows = await db
    .selectFrom('permit_test_readings')
    .selectAll()
    .where('test_id', 'in', [...testIds])
    .orderBy('read_at')
    .orderBy('id')
    .execute();
  for (const r of rows) by.set(r.test_id, [...(by.get(r.test_id) ?? []), r]);
  return by;
}

// ---------------------------------------------------------------------------------------------
// Monitoring

export async function insertMonitoring(
  db: Db,
  row: Omit<PermitMonitoringTable, 'id'>,
): Promise<PermitMonitoringTable> {
  const m = { id: timeOrderedId(row.at), ...row };
  await db.insertInto('permit_monitoring').values(m).execute();
  return m;
}

/** The newest `limit` monitoring records of a permit, newest first, and how many it has. */
export async function monitoringOf(
  db: Db,
  permitId: string,
  limit: number,
): Promise<{ rows: PermitMonitoringTable[]; total: number }> {
  const { n } = await db
    .selectFrom('permit_monitoring')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('permit_id', '=', permitId)
    .executeTakeFirstOrThrow();
  const rows = await db
    .selectFrom('permit_monitoring')
    .selectAll()
    .where('permit_id', '=', permitId)
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return { rows, total: Number(n) };
}

/** Every monitoring record of a permit, oldest first (the PDF). */
export async function allMonitoringOf(db: Db, permitId: string): Promise<PermitMonitoringTable[]> {
  return db
    .selectFrom('permit_monitoring')
    .selectAll()
    .where('permit_id', '=', permitId)
    .orderBy('at')
    .orderBy('id')
    .execute();
}
