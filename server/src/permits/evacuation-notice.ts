/**
 * The evacuation alert by message (issue 14): when the server stops work in progress, the people
 * who must get the crew out are told wherever they are, not only the consoles and the sounder at
 * the site: the permit's attendant (监护人) and applicant by their mobile numbers on the permit, on
 * `notify.evacuation.channels` (else the channels of the site's first chain step), then the
 * contacts of the first step of the site's chain (the safety office, the duty room). Through the
 * notification dispatcher, so each message is a record (under `permit:<id>`, GET
 * /api/permits/:id/notifications), falls over to the person's next channel when it fails, and a
 * reply "1" (or key 1 on the call) acknowledges the evacuation as that person, as a console's
 * acknowledgement does (evacuation-ack.ts: an audit row `permit.evacuation_ack`, a live `permit`
 * event of kind `evacuation_ack`). Once it is acknowledged, either way, no message of that stop
 * falls over to another channel.
 */

import type { ChainContact, ChainResolver } from '../alarms/chain.js';
import type { Dispatcher } from '../alarms/dispatcher.js';
import type { PermitLiveEvent } from '../bus.js';
import { appendAudit } from '../db/audit.js';
import type { PermitsTable } from '../db/schema.js';
import { normalAddress, phoneE164 } from '../notify/address.js';
import { renderEvacuation } from '../notify/evacuation-text.js';
import type { Lang } from '../notify/templates.js';
import type { PermitCore } from './core.js';
import { createEvacuationAcks } from './evacuation-ack.js';

/** The record key of a permit's messages (the notifications table's `alarm_id`). */
export const permitRecord = (permitId: string): string => `permit:${permitId}`;

export interface EvacuationNotice {
  /** Follows acknowledgements of evacuations (on the bus): a stop taken in needs no more messages. */
  start(): void;
  stop(): void;
  /**
   * Tells whom the alert goes to of this stop (`seq`: the suspension's record), in the background;
   * never throws. Who was told, or that nobody could be, is in the audit log
   * (`permit.evacuation_notice`).
   */
  send(permit: PermitsTable, seq: number, why: Record<Lang, string>): void;
}

export interface EvacuationNoticeDeps {
  dispatcher: Pick<Dispatcher, 'tell'>;
  chains: Pick<ChainResolver, 'firstStepOf'>;
}

interface PersonOnPermit {
  name: string;
  phone?: string;
}

export function createEvacuationNotice(core: PermitCore, deps: EvacuationNoticeDeps): EvacuationNotice {
  const { db, bus, clock, logger, config } = core.deps;
  const notify = config.notify;
  const acks = createEvacuationAcks(core);
  /** The seq of the latest stop told of and not yet acknowledged, per permit (dropped on ack). */
  const stops = new Map<string, number>();

  function recipients(p: PermitsTable): { contacts: ChainContact[]; why: string[] } {
    const step = deps.chains.firstStepOf(p.site, p.area);
    const stepChannels = [...new Set(step?.contacts.flatMap((c) => c.channels) ?? [])];
    const channels = notify.evacuation.channels.length > 0 ? notify.evacuation.channels : stepChannels;
    const out: ChainContact[] = [];
    const missing: string[] = [];
    const seen = new Set<string>();
    const add = (c: ChainContact) => {
      const key = c.to ?? `name:${c.name}`;
      if (seen.has(key) || c.channels.length === 0) return;
      seen.add(key);
      out.push(c);
    };
    for (const [relation, json] of [
      ['attendant', p.attendant],
      ['applicant', p.applicant],
    ] as const) {
      const person = JSON.parse(json) as PersonOnPermit;
      if (person.phone === undefined || person.phone === '') {
        missing.push(`${relation} ${person.name} has no mobile number on the permit`);
        continue;
      }
      if (channels.length === 0) {
        missing.push(`no channel to tell the ${relation} on (notify.evacuation.channels)`);
        continue;
      }
      add({
        name: person.name,
        relation,
        to: phoneE164(person.phone) ?? normalAddress(person.phone) ?? person.phone,
        channels,
        lang: notify.lang,
      });
    }
    for (const c of step?.contacts ?? []) add(c);
    if (step === undefined) missing.push(`site ${p.site ?? '(none)'} has no chain to tell`);
    return { contacts: out, why: missing };
  }

  const onPermit = (e: PermitLiveEvent) => {
    if (e.kind !== 'evacuation_ack') return;
    if (stops.get(e.permitId) === e.seq) stops.delete(e.permitId);
  };

  return {
    send(p, seq, why) {
      stops.set(p.id, seq);
      const { contacts, why: missing } = recipients(p);
      if (missing.length > 0)
        logger.warn({ permit: p.id, missing }, 'evacuation alert: not everyone could be told by message');
      const record = permitRecord(p.id);
      const link =
        notify.consoleUrl === undefined
          ? null
          : `${notify.consoleUrl.replace(/\/?$/, '/')}#/permits/${encodeURIComponent(p.id)}`;
      const at = clock();
      deps.dispatcher.tell(
        {
          record,
          render: (opts) => renderEvacuation({ permitId: p.id, place: p.location, why, at, link }, opts),
          pending: () => stops.get(p.id) === seq,
          acknowledge: async (reply) => {
            const ok = await acks.acknowledgeByReply(p.id, seq, reply);
            if (ok) logger.warn({ permit: p.id, seq, by: reply.actor }, 'evacuation acknowledged by reply');
            return ok;
          },
        },
        `${record}.s${seq}`,
        contacts,
      );
      appendAudit(db, {
        ts: at,
        actor: 'system',
        actorKind: 'system',
        address: null,
        action: 'permit.evacuation_notice',
        target: { kind: 'permit', id: p.id },
        after: {
          seq,
          contacts: contacts.map((c) => ({
            name: c.name,
            relation: c.relation ?? null,
            channels: c.channels,
          })),
          missing,
        },
      }).catch((err: unknown) =>
        logger.error({ err, permit: p.id }, 'could not record the evacuation alert'),
      );
    },
    start() {
      bus.on('permit', onPermit);
    },
    stop() {
      bus.off('permit', onPermit);
    },
  };
}
