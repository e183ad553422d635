/**
 * The evacuation alert as the permit keeps it (issue 14): which evacuation it is in, who at a
 * console took it in, and what became of the work site's sounder. The acknowledgement is the
 * server's, not a browser's: one person acknowledging stops the banner and the critical sound on
 * every console of the area at once (a `permit` live event of kind `evacuation_ack`), and a console
 * opened later finds it acknowledged. It answers for the console only: the sounder at the site
 * stays on until a `silence` (docs/permits.md "During the work").
 */
import type { Permit, SounderStatus } from '@gaswatch/shared';
import { type AuditRecord, appendAudit, auditOfTargets } from '../db/audit.js';
import { currentEvacuations } from '../db/permits.js';
import type { PermitEventsTable, PermitsTable } from '../db/schema.js';
import { HttpError } from '../errors.js';
import { auditActorOf, type Caller, type PermitCore } from './core.js';

/** What a permit says of its evacuation alert (Permit.evacuation, Permit.sounder). */
export interface PermitAlert {
  evacuation: Permit['evacuation'];
  sounder: Permit['sounder'];
}

const ACK = 'permit.evacuation_ack';
const SOUNDER = 'permit.sounder';
const iso = (ms: number) => new Date(ms).toISOString();
const afterOf = (r: AuditRecord) => (r.after ?? {}) as Record<string, unknown>;

/** The reason an evacuation record gives: the suspension's, or the expiry while work went on. */
function reasonOf(e: PermitEventsTable): string {
  if (e.action === 'expire') return 'permit_expired';
  const data = JSON.parse(e.data) as { reason?: unknown };
  return typeof data.reason === 'string' ? data.reason : 'alarm';
}

/**
 * The sounder's latest word from its audit rows (oldest first): the last command's, and of that
 * command the gateway's answer before the broker's `sent` — the answer may come back before the
 * PUBACK, so `sent` can be written after it.
 */
export function latestSounder(rows: readonly AuditRecord[]): Permit['sounder'] {
  const last = rows.at(-1);
  if (last === undefined) return null;
  const command = afterOf(last).command;
  const ofCommand = rows.filter((r) => afterOf(r).command === command);
  const answered = (r: AuditRecord) => ['sounding', 'refused'].includes(String(afterOf(r).status));
  const row = ofCommand.filter(answered).at(-1) ?? ofCommand.at(-1) ?? last;
  const a = afterOf(row);
  return {
    status: String(a.status) as SounderStatus,
    message: typeof a.message === 'string' ? a.message : '',
    at: row.ts,
  };
}

/** The alerts of a page of permits, read in three queries. */
export async function permitAlerts(
  db: PermitCore['deps']['db'],
  rows: readonly PermitsTable[],
): Promise<Map<string, PermitAlert>> {
  const ids = rows.map((r) => r.id);
  const [evacuations, audit] = await Promise.all([
    currentEvacuations(db, rows),
    auditOfTargets(db, { targetKind: 'permit', ids, actions: [ACK, SOUNDER] }),
  ]);
  const out = new Map<string, PermitAlert>();
  for (const id of ids) {
    const mine = audit.filter((r) => r.target.id === id);
    const e = evacuations.get(id);
    const ack = e === undefined ? undefined : mine.find((r) => r.action === ACK && afterOf(r).seq === e.seq);
    out.set(id, {
      evacuation:
        e === undefined
          ? null
          : {
              seq: e.seq,
              at: iso(e.at),
              reason: reasonOf(e),
              acknowledged:
                ack === undefined
                  ? null
                  : { by: ack.actor, name: String(afterOf(ack).name ?? ack.actor), at: ack.ts },
            },
      sounder: latestSounder(mine.filter((r) => r.action === SOUNDER)),
    });
  }
  return out;
}

/** Who took in an evacuation: a caller of the API, or a person who answered its message. */
export type Acknowledger = Caller | { reply: { actor: string; name: string; note: string } };

export interface EvacuationAcks {
  /**
   * The caller took in the evacuation whose record is `seq`: an audit row and a live event, once
   * (a second acknowledgement of the same evacuation changes nothing). 409 `stale_evacuation` when
   * the permit is not in that evacuation now.
   */
  acknowledge(id: string, seq: number, caller: Caller): Promise<PermitsTable>;
  /**
   * A person told of it by message answered "1" (permits/evacuation-notice.ts): the same, as that
   * person (`sms:+86… (name)`). False when it was acknowledged already or is no longer current.
   */
  acknowledgeByReply(
    id: string,
    seq: number,
    reply: { actor: string; name: string; note: string },
  ): Promise<boolean>;
}

export function createEvacuationAcks(core: PermitCore): EvacuationAcks {
  const { db, clock } = core.deps;

  /** Inside the permit's queue: true when this wrote the acknowledgement. */
  async function acknowledgeNow(p: PermitsTable, seq: number, who: Acknowledger): Promise<boolean> {
    const id = p.id;
    const e = (await currentEvacuations(db, [p])).get(id);
    if (e === undefined)
      throw new HttpError(
        409,
        'stale_evacuation',
        `permit ${id} is ${p.state} and in no evacuation now (a new test or the close-out ended it): nothing to acknowledge`,
      );
    if (e.seq !== seq)
      throw new HttpError(
        409,
        'stale_evacuation',
        `record ${seq} is not the evacuation permit ${id} is in now (record ${e.seq}): read the permit again and acknowledge that one`,
      );
    const acks = await auditOfTargets(db, { targetKind: 'permit', ids: [id], actions: [ACK] });
    if (acks.some((r) => afterOf(r).seq === seq)) return false;
    const by =
      'reply' in who
        ? {
            id: who.reply.actor,
            name: who.reply.name,
            audit: { actor: who.reply.actor, actorKind: 'system' as const, address: null },
          }
        : { id: who.principal.id, name: who.principal.name, audit: auditActorOf(who) };
    await appendAudit(db, {
      ts: clock(),
      ...by.audit,
      action: ACK,
      target: { kind: 'permit', id },
      after: { seq, reason: reasonOf(e), name: by.name, ...('reply' in who ? { note: who.reply.note } : {}) },
    });
    core.emit(p, { kind: 'evacuation_ack', seq, by: by.id, name: by.name });
    return true;
  }

  return {
    acknowledge(id, seq, caller) {
      return core.serial(id, async () => {
        const p = await core.load(id);
        await acknowledgeNow(p, seq, caller);
        return p;
      });
    },
    acknowledgeByReply(id, seq, reply) {
      return core.serial(id, async () => {
        try {
          return await acknowledgeNow(await core.load(id), seq, { reply });
        } catch (err) {
          // Tested again or closed since the message went out: nothing left to take in.
          if (err instanceof HttpError) return false;
          throw err;
        }
      });
    },
  };
}
