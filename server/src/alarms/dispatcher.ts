import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { reachable } from '../notify/address.js';
import type { Notification } from '../notify/channel.js';
import { type Channel, stopChannels } from '../notify/channels.js';
import {
  type CallbackAnswer,
  CallbackRefused,
  type ProviderCallback,
  type ProviderMessage,
} from '../notify/provider.js';
import {
  FAILED_OUTCOMES,
  type NotificationOutcome,
  type NotificationPatch,
  type NotificationRow,
  PROGRESS,
} from '../notify/record.js';
import {
  type Lang,
  type RenderedMessage,
  type RenderOptions,
  renderAlarm,
  renderGroup,
} from '../notify/templates.js';
import type { Timers } from '../timers.js';
import type { ChainContact } from './chain.js';
import type { GaswatchConfig } from './config-schema.js';
import { type AlarmHome, alarmFacts, boardLink } from './facts.js';
import type { AlarmMetrics } from './metrics.js';
import { type Alarm, type AlarmKind, alarmKind, unacked } from './model.js';
import { own } from './select.js';

/**
 * Delivery (issue 15): how one step's message reaches one contact. The chain (alarms/escalation.ts)
 * decides whom to tell and when; this renders the message for the channel's medium and the
 * contact's language, records it (db/notifications.ts), sends it, falls over to the contact's next
 * channel at once when a send or a receipt fails, holds messages of a storm to send one grouped
 * message per contact, keeps a person under the hourly cap, and reads the providers' callbacks:
 * receipts update the records, a reply "1" or key 1 acknowledges the alarm as that contact.
 *
 * One file of ~850 lines, on purpose: the records written behind, the per-person cap, the
 * per-channel slots, storm buckets, failover and callbacks all act on the same in-flight state
 * (a receipt may arrive before its record is stored; a failover must see the cap and the slots);
 * split apart, each piece would need the others' internals. Its sections are marked below.
 */

/**
 * A message about something other than one alarm: a stopped permit's evacuation alert
 * (permits/evacuation-notice.ts). It goes the way an alarm's does (the contact's channels in
 * failover order, records, receipts, a reply "1"), but is never grouped, held or capped, and a
 * webhook (which carries alarms) skips it.
 */
export interface Notice {
  /** What its records are kept under (their `alarm_id`), e.g. `permit:<id>`. */
  record: string;
  render(opts: RenderOptions): RenderedMessage;
  /** Still to be told: false once someone acknowledged it (no failover, no more messages). */
  pending(): boolean;
  /**
   * A contact replied "1" or pressed 1: true when that acknowledged it. `actor` names the number
   * and the person (`sms:+8613800000102 (郑伟)`), `name` the person as the record has them.
   */
  acknowledge(reply: { actor: string; name: string; note: string }): Promise<boolean>;
}

interface DeliveryBase {
  /** `<alarm>[.e<episode>].t<step>.c<contact>[.r<time>]`: the record's id on the first channel. */
  id: string;
  reason: Notification['reason'];
  step: number;
  stepName?: string | undefined;
  contact: ChainContact;
}

/** One contact to tell of one alarm at one step (the alarm as it was when the step was reached). */
export type AlarmDelivery = DeliveryBase & { alarm: Alarm; notice?: undefined };
/** One contact to tell of a notice. */
export type NoticeDelivery = DeliveryBase & { notice: Notice; alarm?: undefined };
export type DeliveryRequest = AlarmDelivery | NoticeDelivery;

/** What a request's records are kept under: its alarm's id, or the notice's record. */
const recordOf = (q: DeliveryRequest): string => (q.notice === undefined ? q.alarm.id : q.notice.record);

/** Notices whose receipts and replies are still followed, the oldest dropped beyond this. */
const MAX_NOTICES = 1_000;

/** Where the records are kept (SQL in the server: db/notifications.ts sqlNotificationStore). */
export interface NotificationStore {
  /** Writes the rows as they are: new ones inserted, known ones overwritten (the chain's own). */
  save(rows: readonly NotificationRow[]): Promise<void>;
  update(ids: readonly string[], patch: NotificationPatch): Promise<void>;
  byProvider(channel: string, providerId: string): Promise<NotificationRow[]>;
  /** Newest first, queued at or after `since`. */
  sentTo(address: string, since: number): Promise<NotificationRow[]>;
}

export interface DispatcherDeps {
  config: GaswatchConfig;
  channels: Map<string, Channel>;
  /** None: nothing is recorded, and callbacks find nothing (an engine built in code). */
  store?: NotificationStore | undefined;
  clock: () => number;
  timers: Timers;
  logger: Logger;
  metrics: AlarmMetrics;
  /** TIME_ZONE: the zone of the times messages say. */
  timeZone: string;
  /** The alarm as it is now. */
  alarmOf(id: string): Alarm | undefined;
  homeOf(dev: string): AlarmHome | undefined;
  areaOf(a: Alarm): string | null;
  areaName(id: string): string | undefined;
  /** Acknowledges the alarm as `actor`; false when it was not awaiting acknowledgement. */
  acknowledge(alarmId: string, actor: string, note: string): Promise<boolean>;
  /** A record of these alarms' notifications changed (the console's card reloads its log). */
  changed?(alarmIds: readonly string[]): void;
}

/** A callback for a channel that is not configured, or takes none (robots, SMTP, webhooks). */
export class NoCallbacksError extends Error {
  override readonly name = 'NoCallbacksError';
  constructor(
    readonly reason: 'unknown_channel' | 'no_callbacks',
    message: string,
  ) {
    super(message);
  }
}

/** An alarm a contact acknowledged by reply: for the audit log (the route writes it). */
export interface AcknowledgedByReply {
  alarmId: string;
  actor: string;
  note: string;
  /** The alarm's state before and after. */
  before: string;
  after: string;
}

/** What a callback did: the provider's answer, and the alarms it acknowledged. */
export interface CallbackOutcome {
  answer: CallbackAnswer;
  acknowledged: AcknowledgedByReply[];
}

/** A callback as the route received it. */
export interface ReceivedCallback {
  method: string;
  /** Path and query as received. */
  url: string;
  /** scheme://host the request came to (what a proxy in front says, when trusted). */
  origin: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

/** How far back an SMS reply looks for the message it answers. */
export const REPLY_WINDOW_MS = 24 * 3_600_000;
const HOUR_MS = 3_600_000;

/** "1", "１", "1 收到", "1确认": a one that is not the start of a longer number. */
export const isAcknowledgement = (text: string): boolean => /^\s*[1１](?![0-9０-９])/.test(text);

/** Where a delivery stands: the channels still to try, and this attempt's number. */
interface Route {
  channels: readonly string[];
  attempt: number;
}

const rowId = (q: DeliveryRequest, attempt: number) => (attempt === 1 ? q.id : `${q.id}.a${attempt}`);
const baseOf = (id: string) => id.replace(/\.a\d+$/, '');
const progress = (o: string) => PROGRESS[o as NotificationOutcome] ?? -1;
const failed = (o: string) => FAILED_OUTCOMES.includes(o as NotificationOutcome);

export function createDispatcher(deps: DispatcherDeps) {
  const { config, channels, store, clock, timers, metrics } = deps;
  const notify = config.notify;
  const log = deps.logger.child({ part: 'notify' });
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;

  function track(p: Promise<unknown>): void {
    const q = p
      .catch((err: unknown) => log.error({ err }, 'notification delivery failed unexpectedly'))
      .finally(() => inFlight.delete(q));
    inFlight.add(q);
  }

  // ------------------------------------------------------------ records

  /**
   * The chain's own records, written behind: each change of a row marks it, and once per turn of
   * the event loop every marked row goes to the database in one statement (an upsert of the rows
   * as they are now). A storm's thousand messages are a few statements, not two thousand, and the
   * database is never on the way from a raise to the provider. Resolves when the row is stored (or
   * could not be: the message matters more than its record, it goes on all the same).
   */
  const dirty = new Map<string, NotificationRow>();
  let waiting: Array<() => void> = [];
  let flushing = false;

  function save(rows: readonly NotificationRow[]): Promise<void> {
    if (store === undefined || rows.length === 0) return Promise.resolve();
    for (const row of rows) dirty.set(row.id, row);
    const done = new Promise<void>((resolve) => waiting.push(resolve));
    if (!flushing) {
      flushing = true;
      setImmediate(() => void flushRows());
    }
    return done;
  }

  async function flushRows(): Promise<void> {
    // Bounded: each round takes what is marked now; rows marked meanwhile go in the next.
    for (let round = 0; round < 10_000 && dirty.size > 0; round++) {
      const rows = [...dirty.values()];
      const resolve = waiting;
      dirty.clear();
      waiting = [];
      try {
        await (store as NotificationStore).save(rows);
        announce(rows.map((r) => r.alarm_id));
      } catch (err) {
        log.error({ err, notifications: rows.length }, 'notification records not stored');
      }
      for (const r of resolve) r();
    }
    flushing = false;
  }

  function announce(alarmIds: readonly string[]): void {
    try {
      deps.changed?.([...new Set(alarmIds)]);
    } catch (err) {
      log.error({ err }, 'a notification listener threw');
    }
  }

  function newRow(
    q: DeliveryRequest,
    ch: Channel,
    r: Route,
    text: string,
    outcome: NotificationOutcome,
    extra: Partial<NotificationRow> = {},
  ): NotificationRow {
    return {
      id: rowId(q, r.attempt),
      alarm_id: recordOf(q),
      episode: q.notice === undefined ? (q.alarm.episode ?? 1) : 1,
      step: q.step,
      contact: q.contact.name,
      relation: q.contact.relation ?? null,
      address: q.contact.to ?? null,
      channel: ch.name,
      medium: ch.medium,
      lang: q.contact.lang,
      attempt: r.attempt,
      failover_of: r.attempt > 1 ? rowId(q, r.attempt - 1) : null,
      fallback: JSON.stringify(r.channels.slice(1)),
      batch: null,
      text,
      queued_at: clock(),
      sent_at: null,
      delivered_at: null,
      answered_at: null,
      failed_at: null,
      provider_id: null,
      outcome,
      detail: null,
      reply: null,
      ...extra,
    };
  }

  // ------------------------------------------------------------ cap per contact

  /** When each person was last sent to, within the hour (by address, else name). */
  const sentAt = new Map<string, number[]>();
  const personOf = (c: ChainContact) => c.to ?? `name:${c.name}`;

  function capped(person: string, now: number): boolean {
    const list = (sentAt.get(person) ?? []).filter((t) => t > now - HOUR_MS);
    if (list.length === 0) sentAt.delete(person);
    else sentAt.set(person, list);
    return list.length >= notify.maxPerContactHour;
  }

  function countSent(person: string, now: number): void {
    const list = sentAt.get(person) ?? [];
    list.push(now);
    sentAt.set(person, list);
  }

  // ------------------------------------------------------------ per-channel slots
  // At most notify.maxInFlight requests per channel at once; the rest wait their turn, in order.

  const slots = new Map<string, { active: number; waiting: Array<() => void> }>();

  async function slot(channel: string): Promise<() => void> {
    let s = slots.get(channel);
    if (s === undefined) {
      s = { active: 0, waiting: [] };
      slots.set(channel, s);
    }
    const state = s;
    if (state.active >= notify.maxInFlight) await new Promise<void>((resolve) => state.waiting.push(resolve));
    state.active += 1;
    return () => {
      state.active -= 1;
      state.waiting.shift()?.();
    };
  }

  // ------------------------------------------------------------ rendering

  function renderOptions(ch: Extract<Channel, { kind: 'provider' }>, lang: Lang): RenderOptions {
    return {
      medium: ch.medium,
      lang,
      timeZone: deps.timeZone,
      sign: ch.sign === null ? null : ch.sign.kind === 'provider' ? ch.sign.name : notify.smsSign[lang],
      ...(ch.paramMaxChars === undefined ? {} : { paramMaxChars: ch.paramMaxChars }),
    };
  }

  function factsOf(a: Alarm) {
    return alarmFacts(a, {
      home: deps.homeOf(a.dev),
      site: own(config.sites, a.site),
      consoleUrl: notify.consoleUrl,
      areaName: deps.areaName,
    });
  }

  function render(reqs: DeliveryRequest[], opts: RenderOptions): RenderedMessage {
    const first = reqs[0] as DeliveryRequest;
    if (first.notice !== undefined) return first.notice.render(opts);
    if (reqs.length === 1) return renderAlarm(factsOf(first.alarm), opts);
    const area = deps.areaOf(first.alarm);
    return renderGroup(
      {
        kind: alarmKind(first.alarm),
        count: reqs.length,
        place:
          (area === null ? undefined : deps.areaName(area)) ?? factsOf(first.alarm).place ?? first.alarm.dev,
        since: Math.min(...(reqs as AlarmDelivery[]).map((q) => q.alarm.raisedAt)),
        link: boardLink(notify.consoleUrl),
      },
      opts,
    );
  }

  // ------------------------------------------------------------ sending

  /** Tries the route's first channel; on failure (or no usable address) the next, at once. */
  async function route(reqs: DeliveryRequest[], r: Route, stormCheck = true): Promise<void> {
    const name = r.channels[0];
    const first = reqs[0];
    if (name === undefined || first === undefined || stopped) return;
    const ch = channels.get(name);
    const next: Route = { channels: r.channels.slice(1), attempt: r.attempt + 1 };
    if (ch === undefined) {
      // The config's check makes this a bug: said loudly, and the next channel tried.
      log.error({ channel: name, alarmId: recordOf(first) }, 'notification for an unknown channel');
      return route(reqs, next, stormCheck);
    }
    if (ch.kind === 'webhook') {
      if (first.notice !== undefined) {
        const detail = 'a webhook carries alarms, not this notice';
        await save(reqs.map((q) => newRow(q, ch, r, '', 'skipped', { detail, failed_at: clock() })));
        return route(reqs, next, stormCheck);
      }
      await Promise.all((reqs as AlarmDelivery[]).map((q) => sendWebhook(q, ch, r, next)));
      return;
    }
    if (!reachable(ch.medium, first.contact.to)) {
      const detail =
        ch.medium === 'email' ? 'no e-mail address for this channel' : 'no phone number for this channel';
      await save(reqs.map((q) => newRow(q, ch, r, '', 'skipped', { detail, failed_at: clock() })));
      metrics.notificationOutcomes.inc({ channel: ch.name, outcome: 'skipped' });
      return route(reqs, next, stormCheck);
    }
    if (
      stormCheck &&
      reqs.length === 1 &&
      first.notice === undefined &&
      notify.storm.kinds.includes(alarmKind(first.alarm))
    ) {
      hold(first, r, ch);
      return;
    }
    await sendProvider(reqs, ch, r, next);
  }

  async function sendProvider(
    reqs: DeliveryRequest[],
    ch: Extract<Channel, { kind: 'provider' }>,
    r: Route,
    next: Route,
  ): Promise<void> {
    const first = reqs[0] as DeliveryRequest;
    const contact = first.contact;
    const rendered = render(reqs, renderOptions(ch, contact.lang));
    const group = reqs.length > 1;
    const batch = group ? `grp.${clock().toString(36)}.${randomBytes(4).toString('hex')}` : null;
    const cut = rendered.cut.filter((k) => !k.startsWith('param:'));
    const rows = reqs.map((q) =>
      newRow(q, ch, r, rendered.text, 'queued', {
        batch,
        detail: cut.length === 0 ? null : `cut to fit: ${cut.join(', ')}`,
      }),
    );
    const ids = rows.map((row) => row.id);
    const person = personOf(contact);
    // A notice (an evacuation) is never held back by the cap: it is rare and it must arrive.
    if (first.notice === undefined && capped(person, clock())) {
      for (const row of rows) {
        row.outcome = 'capped';
        row.detail = `${notify.maxPerContactHour} messages to ${contact.name} within the hour already`;
      }
      await save(rows);
      metrics.notificationOutcomes.inc({ channel: ch.name, outcome: 'capped' });
      log.warn(
        { channel: ch.name, contact: contact.name, alarmIds: reqs.map(recordOf) },
        'notification capped',
      );
      return;
    }
    countSent(person, clock());
    // Stored while it is sent, not before: the database is not on the way from raise to provider.
    const queued = save(rows);
    if (cut.length > 0) log.info({ notification: ids[0], cut }, 'message shortened to fit the length rules');
    const message: ProviderMessage = {
      id: batch ?? (ids[0] as string),
      to: contact.to ?? '',
      lang: contact.lang,
      text: rendered.text,
      ...(rendered.subject === undefined ? {} : { subject: rendered.subject }),
      params: rendered.params,
    };
    const release = await slot(ch.name);
    let accepted: Awaited<ReturnType<typeof ch.adapter.send>>;
    try {
      accepted = await ch.adapter.send(message);
    } catch (err) {
      release();
      const why = err instanceof Error ? err.message : String(err);
      metrics.notificationsFailed.inc({ channel: ch.name });
      metrics.notificationOutcomes.inc({ channel: ch.name, outcome: 'failed' });
      log.error(
        { channel: ch.name, notification: message.id, alarmIds: reqs.map(recordOf), reason: why },
        next.channels.length > 0
          ? 'notification failed: falling over to the next channel'
          : 'notification failed',
      );
      for (const row of rows)
        Object.assign(row, { outcome: 'failed', failed_at: clock(), detail: why.slice(0, 500) });
      await Promise.all([queued, save(rows)]);
      await route(reqs.filter(stillNeeded), next, false);
      return;
    }
    release();
    const at = clock();
    metrics.notificationsSent.inc({ channel: ch.name });
    metrics.notificationOutcomes.inc({
      channel: ch.name,
      outcome: group ? 'grouped' : accepted.delivered === true ? 'delivered' : 'sent',
    });
    log.info(
      {
        channel: ch.name,
        notification: message.id,
        providerId: accepted.providerId,
        alarmId: recordOf(first),
        step: first.step,
        ...(group ? { alarms: reqs.length } : {}),
      },
      'notified',
    );
    for (const row of rows)
      Object.assign(row, {
        sent_at: at,
        provider_id: accepted.providerId,
        outcome: accepted.delivered === true ? 'delivered' : 'sent',
        ...(accepted.delivered === true ? { delivered_at: at } : {}),
      });
    // A receipt may come back before this is stored: it waits for it (receipt()).
    const stored = Promise.all([queued, save(rows)]).then(() => undefined);
    const key = accepted.providerId === null ? null : `${ch.name}\n${accepted.providerId}`;
    if (key !== null) pendingSent.set(key, stored);
    await stored;
    if (key !== null) pendingSent.delete(key);
  }

  async function sendWebhook(
    q: AlarmDelivery,
    ch: Extract<Channel, { kind: 'webhook' }>,
    r: Route,
    next: Route,
  ): Promise<void> {
    const a = q.alarm;
    const id = rowId(q, r.attempt);
    const subject = renderAlarm(factsOf(a), {
      medium: 'webhook',
      lang: q.contact.lang,
      timeZone: deps.timeZone,
    });
    const n: Notification = {
      id,
      reason: q.reason,
      alarmId: a.id,
      episode: a.episode ?? 1,
      tier: q.step,
      ...(q.stepName === undefined ? {} : { tierName: q.stepName }),
      contact: { name: q.contact.name, ...(q.contact.to === undefined ? {} : { to: q.contact.to }) },
      site: a.site,
      gw: a.gw,
      dev: a.dev,
      state: a.state,
      severity: a.severity,
      rule: a.rule,
      key: a.key,
      ...(a.gas === undefined ? {} : { gas: a.gas }),
      value: a.value,
      threshold: a.threshold,
      ...(a.unit === undefined ? {} : { unit: a.unit }),
      message: a.message,
      raisedAt: new Date(a.raisedAt).toISOString(),
      late: a.late,
      sentAt: new Date(clock()).toISOString(),
      text: subject.subject ?? subject.text,
    };
    const row = newRow(q, ch, r, n.text ?? '', 'queued');
    const queued = save([row]);
    try {
      await ch.webhook.send(n);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      metrics.notificationsFailed.inc({ channel: ch.name });
      metrics.notificationOutcomes.inc({ channel: ch.name, outcome: 'failed' });
      log.error({ err, channel: ch.name, notification: id, alarmId: a.id }, 'notification failed');
      Object.assign(row, { outcome: 'failed', failed_at: clock(), detail: why.slice(0, 500) });
      await Promise.all([queued, save([row])]);
      if (awaiting(a.id)) await route([q], next, false);
      return;
    }
    const at = clock();
    metrics.notificationsSent.inc({ channel: ch.name });
    metrics.notificationOutcomes.inc({ channel: ch.name, outcome: 'delivered' });
    log.info({ channel: ch.name, notification: id, alarmId: a.id, tier: q.step }, 'notified');
    // The receiver answered 2xx: the other system has it.
    Object.assign(row, { outcome: 'delivered', sent_at: at, delivered_at: at });
    await Promise.all([queued, save([row])]);
  }

  /** The alarm still waits for someone to acknowledge it (else its messages stop). */
  function awaiting(alarmId: string): boolean {
    const a = deps.alarmOf(alarmId);
    return a !== undefined && unacked(a);
  }

  /** Notices told, by record: their receipts may fall over, their replies acknowledge. */
  const notices = new Map<string, Notice>();

  /** Whether the records kept under `id` still wait for someone: an alarm's, or a notice's. */
  function open(id: string): boolean {
    return awaiting(id) || notices.get(id)?.pending() === true;
  }

  const stillNeeded = (q: DeliveryRequest): boolean =>
    q.notice === undefined ? awaiting(q.alarm.id) : q.notice.pending();

  // ------------------------------------------------------------ storm control

  interface Bucket {
    items: AlarmDelivery[];
    route: Route;
    handle: unknown;
  }
  const buckets = new Map<string, Bucket>();

  /**
   * Holds a message of a storm-prone kind for notify.storm.windowS: every other one for the same
   * contact, channel, kind and area in that window joins it, and at its end they go out as one
   * message (or each alone, when fewer than minAlarms came).
   */
  function hold(q: AlarmDelivery, r: Route, ch: Channel): void {
    const kind: AlarmKind = alarmKind(q.alarm);
    const area = deps.areaOf(q.alarm) ?? '';
    const key = [
      ch.name,
      r.channels.join(','),
      r.attempt,
      personOf(q.contact),
      q.contact.lang,
      kind,
      area,
    ].join('\n');
    const b = buckets.get(key);
    if (b !== undefined) {
      b.items.push(q);
      return;
    }
    const bucket: Bucket = {
      items: [q],
      route: r,
      handle: timers.setTimeout(() => flush(key), notify.storm.windowS * 1000),
    };
    buckets.set(key, bucket);
  }

  function flush(key: string): void {
    const b = buckets.get(key);
    if (b === undefined) return;
    buckets.delete(key);
    // Acknowledged meanwhile (in the console, by another's reply): nobody needs telling.
    const items = b.items.filter((q) => awaiting(q.alarm.id));
    if (items.length === 0) return;
    if (items.length < notify.storm.minAlarms) for (const q of items) track(route([q], b.route, false));
    else track(route(items, b.route, false));
  }

  // ------------------------------------------------------------ callbacks

  /** Sent-records still being written, by channel and provider id: a fast receipt waits for them. */
  const pendingSent = new Map<string, Promise<void>>();

  async function receipt(channel: string, r: Extract<ProviderCallback, { type: 'receipt' }>): Promise<void> {
    if (store === undefined) return;
    await pendingSent.get(`${channel}\n${r.providerId}`);
    const rows = await store.byProvider(channel, r.providerId);
    if (rows.length === 0) {
      log.warn(
        { channel, providerId: r.providerId, status: r.status },
        'receipt for a message not sent from here',
      );
      return;
    }
    const row = rows[0] as NotificationRow;
    const patch: NotificationPatch = {};
    let fellThrough = false;
    switch (r.status) {
      case 'sent':
        if (row.sent_at === null) patch.sent_at = r.at;
        break;
      case 'delivered':
        if (row.delivered_at === null) patch.delivered_at = r.at;
        if (progress(row.outcome) >= 0 && progress(row.outcome) < 2) patch.outcome = 'delivered';
        break;
      case 'answered':
        if (row.answered_at === null) patch.answered_at = r.at;
        if (progress(row.outcome) >= 0 && progress(row.outcome) < 3) patch.outcome = 'answered';
        break;
      default:
        // failed, no_answer, busy: a message not yet answered fails; the same receipt twice does
        // nothing the second time (no second failover).
        if (!failed(row.outcome) && progress(row.outcome) < 3) {
          patch.outcome = r.status;
          patch.failed_at = r.at;
          if (r.detail !== undefined) patch.detail = r.detail.slice(0, 500);
          fellThrough = true;
        }
    }
    await store.update(
      rows.map((x) => x.id),
      patch,
    );
    announce(rows.map((x) => x.alarm_id));
    if (!fellThrough) return;
    metrics.notificationOutcomes.inc({ channel, outcome: r.status });
    const fallback = JSON.parse(row.fallback) as string[];
    const reqs = rows.flatMap((x) => {
      const a = deps.alarmOf(x.alarm_id);
      if (a !== undefined) return unacked(a) ? [fromRow(x, a, fallback)] : [];
      const notice = notices.get(x.alarm_id);
      return notice?.pending() === true ? [fromRow(x, notice, fallback)] : [];
    });
    if (reqs.length === 0 || fallback.length === 0) return;
    log.warn(
      { channel, providerId: r.providerId, status: r.status, next: fallback[0] },
      'undelivered: falling over to the next channel',
    );
    track(route(reqs, { channels: fallback, attempt: Number(row.attempt) + 1 }, false));
  }

  function fromRow(x: NotificationRow, about: Alarm | Notice, fallback: string[]): DeliveryRequest {
    const step = Number(x.step);
    const base = {
      id: baseOf(x.id),
      reason:
        'record' in about
          ? ('raised' as const)
          : step > 1
            ? ('escalated' as const)
            : (about.episode ?? 1) > 1
              ? ('reraised' as const)
              : ('raised' as const),
      step,
      contact: {
        name: x.contact,
        ...(x.address === null ? {} : { to: x.address }),
        ...(x.relation === null ? {} : { relation: x.relation }),
        channels: fallback,
        lang: x.lang === 'en' ? ('en' as const) : ('zh-CN' as const),
      },
    };
    return 'record' in about ? { ...base, notice: about } : { ...base, alarm: { ...about } };
  }

  /** The message a reply answers: the call it was pressed on, else the latest sent to that number. */
  async function answered(channel: string, r: Extract<ProviderCallback, { type: 'reply' }>) {
    const s = store as NotificationStore;
    if (r.providerId !== null) {
      const rows = await s.byProvider(channel, r.providerId);
      if (rows.length > 0) return rows;
    }
    const recent = await s.sentTo(r.from, clock() - REPLY_WINDOW_MS);
    // Newest message first; among those, the first that still has an alarm waiting for someone.
    const messages = new Map<string, NotificationRow[]>();
    for (const x of recent) {
      if (x.sent_at === null) continue;
      const k = x.batch ?? x.id;
      messages.set(k, [...(messages.get(k) ?? []), x]);
    }
    const all = [...messages.values()];
    return all.find((rows) => rows.some((x) => open(x.alarm_id))) ?? all[0] ?? [];
  }

  async function reply(
    ch: Extract<Channel, { kind: 'provider' }>,
    r: Extract<ProviderCallback, { type: 'reply' }>,
    done: AcknowledgedByReply[],
  ) {
    if (store === undefined) return;
    const text = r.text.trim().slice(0, 200);
    const rows = await answered(ch.name, r);
    if (rows.length === 0) {
      metrics.replies.inc({ channel: ch.name, result: 'unmatched' });
      log.warn({ channel: ch.name, from: r.from }, 'a reply from a number nothing was sent to');
      return;
    }
    const ack = isAcknowledgement(text);
    const acked = new Set<string>();
    if (ack)
      for (const id of new Set(rows.map((x) => x.alarm_id))) {
        const row = rows.find((x) => x.alarm_id === id) as NotificationRow;
        const medium = row.medium === 'voice' ? 'voice' : 'sms';
        const note =
          row.lang === 'en'
            ? medium === 'voice'
              ? 'pressed 1 on the call'
              : 'replied "1" by SMS'
            : medium === 'voice'
              ? '电话按1确认'
              : '短信回复“1”确认';
        const actor = `${medium}:${r.from} (${row.contact})`;
        const notice = notices.get(id);
        if (notice !== undefined) {
          if (notice.pending() && (await notice.acknowledge({ actor, name: row.contact, note })))
            acked.add(id);
          continue;
        }
        const before = deps.alarmOf(id)?.state;
        if (before !== undefined && awaiting(id) && (await deps.acknowledge(id, actor, note))) {
          acked.add(id);
          done.push({ alarmId: id, actor, note, before, after: deps.alarmOf(id)?.state ?? before });
        }
      }
    for (const x of rows) {
      const patch: NotificationPatch = { reply: text };
      if (x.answered_at === null) patch.answered_at = r.at;
      if (acked.has(x.alarm_id)) patch.outcome = 'acknowledged';
      else if (progress(x.outcome) < progress('replied')) patch.outcome = 'replied';
      await store.update([x.id], patch);
    }
    announce(rows.map((x) => x.alarm_id));
    metrics.replies.inc({ channel: ch.name, result: acked.size > 0 ? 'acknowledged' : 'replied' });
    log.info(
      { channel: ch.name, from: r.from, reply: text, acknowledged: [...acked] },
      acked.size > 0 ? 'alarm acknowledged by reply' : 'reply received',
    );
  }

  function callbackUrl(ch: Extract<Channel, { kind: 'provider' }>, req: ReceivedCallback): string {
    const q = req.url.indexOf('?');
    const query = q < 0 ? '' : req.url.slice(q);
    if (ch.callbackUrl !== undefined) {
      // Twilio signs the URL as configured at Twilio: its scheme, host and path, with the query
      // this request carries (a call's keypress adds ?lang=…).
      return `${ch.callbackUrl.split('?')[0]}${query}`;
    }
    return `${req.origin}${req.url}`;
  }

  return {
    /** Starts delivering in the background; never throws, never blocks the chain. */
    deliver(q: AlarmDelivery): void {
      if (stopped) return;
      track(route([q], { channels: q.contact.channels, attempt: 1 }));
    },

    /**
     * Tells each contact of a notice, on its channels in failover order, in the background
     * (never throws). `id` is the base of the records' ids: `<id>.c<contact index>`.
     */
    tell(notice: Notice, id: string, contacts: readonly ChainContact[]): void {
      if (stopped) return;
      notices.delete(notice.record);
      notices.set(notice.record, notice);
      if (notices.size > MAX_NOTICES) {
        const oldest = notices.keys().next().value;
        if (oldest !== undefined) notices.delete(oldest);
      }
      for (const [i, contact] of contacts.entries())
        track(
          route([{ id: `${id}.c${i}`, notice, reason: 'raised', step: 1, contact }], {
            channels: contact.channels,
            attempt: 1,
          }),
        );
    },

    /**
     * A provider's callback to POST /api/notify/callback/:channel: verified by the channel's
     * adapter (a refusal is counted and thrown), then each receipt and reply applied. Answers what
     * the provider expects back.
     */
    async callback(channelName: string, req: ReceivedCallback): Promise<CallbackOutcome> {
      const ch = channels.get(channelName);
      if (ch === undefined) {
        metrics.callbacksRefused.inc({ channel: 'unknown', reason: 'unknown_channel' });
        throw new NoCallbacksError('unknown_channel', `no channel ${channelName} is configured`);
      }
      if (ch.kind !== 'provider' || ch.adapter.callback === undefined) {
        metrics.callbacksRefused.inc({ channel: ch.name, reason: 'no_callbacks' });
        throw new NoCallbacksError(
          'no_callbacks',
          `channel ${ch.name} (${ch.kind === 'webhook' ? 'webhook' : ch.adapter.type}) takes no callbacks`,
        );
      }
      const request = {
        method: req.method,
        url: callbackUrl(ch, req),
        headers: req.headers,
        rawBody: req.rawBody,
      };
      let callbacks: ProviderCallback[];
      try {
        callbacks = await ch.adapter.callback(request);
      } catch (err) {
        if (err instanceof CallbackRefused)
          metrics.callbacksRefused.inc({ channel: ch.name, reason: err.reason });
        throw err;
      }
      const acknowledged: AcknowledgedByReply[] = [];
      for (const c of callbacks) {
        if (c.type === 'receipt') await receipt(ch.name, c);
        else await reply(ch, c, acknowledged);
      }
      return {
        answer: ch.adapter.callbackAnswer?.(request, callbacks) ?? {
          status: 204,
          contentType: 'text/plain',
          body: '',
        },
        acknowledged,
      };
    },

    /** Resolves when every delivery started so far has finished (held storm messages aside). */
    async idle(): Promise<void> {
      for (let i = 0; i < 1000 && inFlight.size > 0; i++) await Promise.allSettled([...inFlight]);
    },

    /**
     * Sends what storm control holds, then stops: the channels' pending retries end at once (a
     * webhook backing off for minutes does not hold up a shutdown), and nothing new starts.
     */
    async stop(): Promise<void> {
      for (const [key, b] of [...buckets]) {
        timers.clearTimeout(b.handle);
        flush(key);
      }
      stopped = true;
      await stopChannels(channels);
      for (let i = 0; i < 1000 && inFlight.size > 0; i++) await Promise.allSettled([...inFlight]);
    },
  };
}
export type Dispatcher = ReturnType<typeof createDispatcher>;
