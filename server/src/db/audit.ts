import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import { timeOrderedId } from './page.js';
import type { AuditLogTable } from './schema.js';

/**
 * The audit log (SPEC §9): one append-only row per change, who made it, from where, and the
 * target before and after. Routes and commands write it in the same transaction as the change
 * (`db` may be a transaction), so a change is never without its row nor a row without its change.
 */
/** Who makes a change, as the audit log records it. */
export interface Actor {
  /** Username, token id, or `cli` / `system`. */
  actor: string;
  actorKind: AuditLogTable['actor_kind'];
  /** Client address of the request; null outside HTTP. */
  address: string | null;
}

export interface AuditEntry {
  ts: number;
  actor: string;
  actorKind: AuditLogTable['actor_kind'];
  action: string;
  target: { kind: string; id: string };
  /** The target before and after, without secrets (no hashes); null where there is none. */
  before?: unknown;
  after?: unknown;
  address?: string | null;
}

export interface AuditRecord {
  id: string;
  ts: string;
  actor: string;
  actorKind: AuditLogTable['actor_kind'];
  action: string;
  target: { kind: string; id: string };
  before: unknown;
  after: unknown;
  address: string | null;
}

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

export async function appendAudit(db: Db, e: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      id: timeOrderedId(e.ts),
      ts: e.ts,
      actor: e.actor,
      actor_kind: e.actorKind,
      action: e.action,
      target_kind: e.target.kind,
      target_id: e.target.id,
      before: json(e.before),
      after: json(e.after),
      address: e.address ?? null,
    })
    .execute();
}

export interface AuditQuery {
  limit: number;
  /** The last id of the previous page: the list goes on with older rows. */
  cursor?: string;
  targetKind?: string;
  targetId?: string;
  actor?: string;
}

/** A row of the audit log as the API answers it. */
function auditRecordOf(r: Selectable<AuditLogTable>): AuditRecord {
  return {
    id: r.id,
    ts: new Date(r.ts).toISOString(),
    actor: r.actor,
    actorKind: r.actor_kind,
    action: r.action,
    target: { kind: r.target_kind, id: r.target_id },
    before: r.before === null ? null : JSON.parse(r.before),
    after: r.after === null ? null : JSON.parse(r.after),
    address: r.address,
  };
}

/** Newest first, `limit` rows, the total matching and the cursor of the next page (null at the end). */
export async function listAudit(
  db: Db,
  q: AuditQuery,
): Promise<{ entries: AuditRecord[]; total: number; nextCursor: string | null }> {
  let base = db.selectFrom('audit_log');
  if (q.targetKind !== undefined) base = base.where('target_kind', '=', q.targetKind);
  if (q.targetId !== undefined) base = base.where('target_id', '=', q.targetId);
  if (q.actor !== undefined) base = base.where('actor', '=', q.actor);
  const { total } = await base.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  let page = base
    .selectAll()
    .orderBy('id', 'desc')
    .limit(q.limit + 1);
  if (q.cursor !== undefined) page = page.where('id', '<', q.cursor);
  const rows = await page.execute();
  const more = rows.length > q.limit;
  const shown = more ? rows.slice(0, q.limit) : rows;
  return {
    entries: shown.map(auditRecordOf),
    total: Number(total),
    nextCursor: more ? (shown.at(-1)?.id ?? null) : null,
  };
}

/**
 * The rows of `actions` about the targets `ids` of one kind, oldest first, at most `limit`
 * (a permit's sounder answers and evacuation acknowledgements, read for a page of permits at once).
 */
export async function auditOfTargets(
  db: Db,
  q: { targetKind: string; ids: readonly string[]; actions: readonly string[]; limit?: number },
): Promise<AuditRecord[]> {
  if (q.ids.length === 0 || q.actions.length === 0) return [];
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .where('target_kind', '=', q.targetKind)
    .where('target_id', 'in', [...q.ids])
    .where('action', 'in', [...q.actions])
    .orderBy('ts', 'asc')
    .orderBy('id', 'asc')
    .limit(q.limit ?? 5_000)
    .execute();
  return rows.map(auditRecordOf);
}
