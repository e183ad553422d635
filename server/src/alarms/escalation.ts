import type { OccupantFlag } from '@gaswatch/shared';
import type { Logger } from 'pino';
import { type Channel, createChannels } from '../notify/channels.js';
import type { Timers } from '../timers.js';
import type { Escalator, RecordTransition } from './alarm-book.js';
import { type AreaLookup, type Chain, createChainResolver } from './chain.js';
import type { GaswatchConfig } from './config-schema.js';
import { createDispatcher, type Dispatcher, type NotificationStore } from './dispatcher.js';
import type { AlarmHome } from './facts.js';
import type { AlarmMetrics } from './metrics.js';
import { type Alarm, unacked } from './model.js';
import { own } from './select.js';

/** Where an alarm's chain stands: every step with its contacts, and the next notification if one is due. */
export interface EscalationState {
  tiers: { tier: number; name?: string; contacts: { name: string; to?: string }[] }[];
  /** The next step and when it is notified (the top step again when it repeats); null when none is due. */
  next: { tier: number; at: number } | null;
}

export interface Escalation extends Escalator {
  /** Where the alarm's chain stands (for the response card). */
  state(a: Alarm): EscalationState;
  /** Stops the chain of one alarm (it was acknowledged). */
  cancel(alarmId: string): void;
  /** Stops every chain (the engine is stopping). */
  cancelAll(): void;
  /** Sends what storm control holds, then stops the channels (after the last transitions were recorded). */
  stop(): Promise<void>;
  /** Resolves when every notification handed over so far is delivered or given up. */
  idle(): Promise<void>;
  /** Delivery, records and the providers' callbacks. */
  readonly notify: Dispatcher;
}

export interface EscalationDeps {
  config: GaswatchConfig;
  /** Wall clock: escalation runs in wall time, not event time. */
  clock: () => number;
  timers: Timers;
  logger: Logger;
  metrics: AlarmMetrics;
  /** Notification channels by name; built from config.channels when absent. */
  channels?: Map<string, Channel> | undefined;
  /** Where notifications are recorded (none: not recorded). */
  store?: NotificationStore | undefined;
  /** The alarm as it is now (a timer fires long after it was set), and how to record a step. */
  alarms: { get(id: string): Alarm | undefined; record: RecordTransition };
  running(): boolean;
  /** The vulnerable occupants of the registered home a device is in (none when it is in none). */
  vulnerableOf?: ((dev: string) => readonly OccupantFlag[]) | undefined;
  /** The registered home a device is in: its contacts, address and occupants. */
  homeOf?: ((dev: string) => AlarmHome | undefined) | undefined;
  /** The alarm's area (SPEC §9), for duty contacts and storm control. */
  areaOf?: ((a: Alarm) => string | null) | undefined;
  areas?: (AreaLookup & { nameOf(id: string): string | undefined }) | undefined;
  /** TIME_ZONE (default Asia/Shanghai): the zone of the times messages say. */
  timeZone?: string | undefined;
  /** Acknowledges an alarm as a contact who replied "1" (the engine's acknowledge). */
  acknowledge(alarmId: string, actor: string, note: string): Promise<boolean>;
  /** A notification record of these alarms changed. */
  notificationsChanged?: ((alarmIds: readonly string[]) => void) | undefined;
}

/**
 * Escalation (SPEC §12): step 1 of the alarm's chain at once, the next after each step's wait
 * while the alarm is unacknowledged (active or latched), and then the top step again and again
 * until someone acknowledges — never silent (legacy `tiers` configs stop at the top unless they
 * set repeatS); resumed after a restart from the last step notified and its time. Owns the timers
 * of every climbing chain; delivery is the dispatcher's.
 */
export function createEscalation(deps: EscalationDeps): Escalation {
  const { config, clock, timers, metrics, alarms, logger: log } = deps;
  const escalations = new Map<string, unknown>();
  const channels =
    deps.channels ??
    createChannels(config.channels, {
      logger: log,
      timers,
      clock,
      hooks: { retried: (c) => metrics.notificationRetries.inc({ channel: c }) },
      maxSockets: config.notify.maxInFlight,
    });
  const areaOf = deps.areaOf ?? ((a: Alarm) => own(config.sites, a.site)?.area ?? null);
  const chains = createChainResolver({ config, homeOf: deps.homeOf, areaOf, areas: deps.areas });
  const dispatcher = createDispatcher({
    config,
    channels,
    store: deps.store,
    clock,
    timers,
    logger: log,
    metrics,
    timeZone: deps.timeZone ?? 'Asia/Shanghai',
    alarmOf: (id) => alarms.get(id),
    homeOf: (dev) => deps.homeOf?.(dev),
    areaOf,
    areaName: (id) => deps.areas?.nameOf(id),
    acknowledge: deps.acknowledge,
    ...(deps.notificationsChanged === undefined ? {} : { changed: deps.notificationsChanged }),
  });

  /**
   * How long step `n` waits for an acknowledgement: its waitS, else the site's ackTimeout (else the
   * default), shortened for a home with someone who cannot get out alone
   * (defaults.vulnerableAckTimeout): the shortest that applies. Read when each timer is set, so a
   * household registered or changed while an alarm climbs counts from its next step.
   */
  function waitMs(a: Alarm, chain: Chain, n: number): number {
    const s = own(config.sites, a.site);
    let seconds =
      chain.steps[n - 1]?.waitS ?? s?.ackTimeout?.[a.severity] ?? config.defaults.ackTimeout[a.severity];
    for (const flag of deps.vulnerableOf?.(a.dev) ?? []) {
      const faster = config.defaults.vulnerableAckTimeout[flag]?.[a.severity];
      if (faster !== undefined) seconds = Math.min(seconds, faster);
    }
    return seconds * 1000;
  }

  /** Seconds between repeats of the top step: its wait, or what repeatS says (vulnerable shortening too). */
  function repeatMs(a: Alarm, chain: Chain): number | null {
    if (chain.repeatS === null) return null;
    const top = waitMs(a, chain, chain.steps.length);
    return chain.repeatS === 'wait' ? top : Math.min(chain.repeatS * 1000, top);
  }

  function cancel(id: string): void {
    const h = escalations.get(id);
    if (h !== undefined) timers.clearTimeout(h);
    escalations.delete(id);
  }

  function notifyStep(a: Alarm, chain: Chain, n: number, repeat: boolean): void {
    const step = chain.steps[n - 1];
    if (step === undefined) return;
    const now = clock();
    a.tier = n;
    a.lastNotifiedAt = now;
    metrics.escalations.inc({ tier: String(n), severity: a.severity });
    const episode = a.episode ?? 1;
    // Receivers de-duplicate by delivery id: a new episode or a repeat must not look like a retry.
    const ep = episode > 1 ? `.e${episode}` : '';
    const again = repeat ? `.r${now.toString(36)}` : '';
    const snapshot = { ...a };
    for (const [i, contact] of step.contacts.entries())
      dispatcher.deliver({
        id: `${a.id}${ep}.t${n}.c${i}${again}`,
        alarm: snapshot,
        reason: repeat ? 'repeated' : n > 1 ? 'escalated' : episode > 1 ? 'reraised' : 'raised',
        step: n,
        stepName: step.name,
        contact,
      });
    alarms.record(a, 'escalated', now, { tier: n, contacts: step.contacts.map((c) => c.name) });
  }

  function schedule(a: Alarm, due: number, fire: (cur: Alarm) => void): void {
    const handle = timers.setTimeout(
      () => {
        escalations.delete(a.id);
        const cur = alarms.get(a.id);
        if (!deps.running() || cur === undefined || !unacked(cur)) return;
        try {
          fire(cur);
          escalate(cur);
        } catch (err) {
          // From a timer: never an uncaught exception.
          log.error({ err, alarmId: cur.id }, 'escalation failed');
        }
      },
      Math.max(0, due - clock()),
    );
    escalations.set(a.id, handle);
  }

  function escalate(a: Alarm): void {
    cancel(a.id);
    if (!deps.running() || !unacked(a)) return;
    const chain = chains.chainOf(a);
    if (chain.steps.length === 0) {
      if (a.tier === 0)
        log.warn({ alarmId: a.id, site: a.site }, 'no escalation chain configured: nobody is notified');
      return;
    }
    if (a.tier === 0) {
      // A new alarm (never notified) goes to step 1 at once; a re-raised one (step reset to 0) at
      // most once per wait, so a flapping condition cannot flood the first step.
      if (a.lastNotifiedAt === null || a.lastNotifiedAt + waitMs(a, chain, 1) <= clock())
        notifyStep(a, chain, 1, false);
    }
    const last = a.lastNotifiedAt ?? clock();
    if (a.tier < chain.steps.length) {
      schedule(a, last + waitMs(a, chain, Math.max(1, a.tier)), (cur) => {
        log.warn({ alarmId: cur.id, step: cur.tier + 1 }, 'alarm not acknowledged in time: escalating');
        notifyStep(cur, chains.chainOf(cur), cur.tier + 1, false);
      });
      return;
    }
    const every = repeatMs(a, chain);
    if (every === null) return;
    schedule(a, last + every, (cur) => {
      const now = chains.chainOf(cur);
      log.warn(
        { alarmId: cur.id, step: now.steps.length },
        'alarm still not acknowledged: telling the top step again',
      );
      notifyStep(cur, now, now.steps.length, true);
    });
  }

  function state(a: Alarm): EscalationState {
    const chain = chains.chainOf(a);
    const tiers = chain.steps.map((t, i) => ({
      tier: i + 1,
      ...(t.name === undefined ? {} : { name: t.name }),
      contacts: t.contacts.map((c) => ({ name: c.name, ...(c.to === undefined ? {} : { to: c.to }) })),
    }));
    if (!unacked(a) || chain.steps.length === 0) return { tiers, next: null };
    const last = a.lastNotifiedAt ?? clock();
    if (a.tier === 0) return { tiers, next: { tier: 1, at: last } };
    if (a.tier < chain.steps.length)
      return { tiers, next: { tier: a.tier + 1, at: last + waitMs(a, chain, a.tier) } };
    const every = repeatMs(a, chain);
    return { tiers, next: every === null ? null : { tier: chain.steps.length, at: last + every } };
  }

  return {
    state,
    escalate,
    climbing: (id) => escalations.has(id),
    cancel,
    cancelAll() {
      for (const id of [...escalations.keys()]) cancel(id);
    },
    stop: () => dispatcher.stop(),
    idle: () => dispatcher.idle(),
    notify: dispatcher,
  };
}
