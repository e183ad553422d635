import type { OccupantFlag } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { Notification, NotificationChannel } from '../notify/channel.js';
import { createChannels, createNotifier } from '../notify/notifier.js';
import type { Timers } from '../timers.js';
import type { Escalator, RecordTransition } from './alarm-book.js';
import type { GaswatchConfig, Tier } from './config-schema.js';
import type { AlarmMetrics } from './metrics.js';
import { type Alarm, unacked } from './model.js';
import { own } from './select.js';

/** Where an alarm's chain stands: every tier of its site, and the next notification if one is due. */
export interface EscalationState {
  tiers: { tier: number; name?: string; contacts: { name: string; to?: string }[] }[];
  /** The next tier and when it is notified; null when acknowledged or at the top of the chain. */
  next: { tier: number; at: number } | null;
}

export interface Escalation extends Escalator {
  /** Where the alarm's chain stands (for the response card). */
  state(a: Alarm): EscalationState;
  /** Stops the chain of one alarm (it was acknowledged). */
  cancel(alarmId: string): void;
  /** Stops every chain (the engine is stopping). */
  cancelAll(): void;
  /** Stops the notification channels (after the last transitions were recorded). */
  stop(): Promise<void>;
  /** Resolves when every notification handed over so far is delivered or given up. */
  idle(): Promise<void>;
}

export interface EscalationDeps {
  config: GaswatchConfig;
  /** Wall clock: escalation runs in wall time, not event time. */
  clock: () => number;
  timers: Timers;
  logger: Logger;
  metrics: AlarmMetrics;
  /** Notification channels by name; built from config.channels when absent. */
  channels?: Map<string, NotificationChannel> | undefined;
  /** The alarm as it is now (a timer fires long after it was set), and how to record a tier. */
  alarms: { get(id: string): Alarm | undefined; record: RecordTransition };
  running(): boolean;
  /** The vulnerable occupants of the registered home a device is in (none when it is in none). */
  vulnerableOf?: ((dev: string) => readonly OccupantFlag[]) | undefined;
}

/**
 * Escalation: tier 1 of the alarm's site at once, then the next tier after each ackTimeout, while
 * the alarm is unacknowledged (active or latched); resumed after a restart from the last tier
 * notified and its time. Owns the timers of every climbing chain and the notification channels.
 */
export function createEscalation(deps: EscalationDeps): Escalation {
  const { config, clock, timers, metrics, alarms, logger: log } = deps;
  const escalations = new Map<string, unknown>();
  const hooks = {
    sent: (c: string) => metrics.notificationsSent.inc({ channel: c }),
    failed: (c: string) => metrics.notificationsFailed.inc({ channel: c }),
    retried: (c: string) => metrics.notificationRetries.inc({ channel: c }),
  };
  const channels = deps.channels ?? createChannels(config.channels, { logger: log, timers, hooks });
  const notifier = createNotifier({ channels, logger: log, hooks });

  function tiersFor(site: string | null): Tier[] {
    const s = own(config.sites, site);
    return s !== undefined && s.tiers.length > 0 ? s.tiers : config.defaults.tiers;
  }

  /**
   * The site's delay (else the default), shortened for a home with someone who cannot get out
   * alone (defaults.vulnerableAckTimeout): the shortest that applies. Read when each timer is set,
   * so a household registered or changed while an alarm climbs counts from its next tier.
   */
  function ackTimeoutMs(a: Alarm): number {
    const s = own(config.sites, a.site);
    let seconds = s?.ackTimeout?.[a.severity] ?? config.defaults.ackTimeout[a.severity];
    for (const flag of deps.vulnerableOf?.(a.dev) ?? []) {
      const faster = config.defaults.vulnerableAckTimeout[flag]?.[a.severity];
      if (faster !== undefined) seconds = Math.min(seconds, faster);
    }
    return seconds * 1000;
  }

  function cancel(id: string): void {
    const h = escalations.get(id);
    if (h !== undefined) timers.clearTimeout(h);
    escalations.delete(id);
  }

  function notifyTier(a: Alarm, tierNo: number): void {
    const tier = tiersFor(a.site)[tierNo - 1];
    if (tier === undefined) return;
    const now = clock();
    a.tier = tierNo;
    a.lastNotifiedAt = now;
    metrics.escalations.inc({ tier: String(tierNo), severity: a.severity });
    const episode = a.episode ?? 1;
    // Receivers de-duplicate by delivery id: a new episode must not look like a retry of the last.
    const ep = episode > 1 ? `.e${episode}` : '';
    for (const [i, contact] of tier.contacts.entries()) {
      const n: Notification = {
        id: `${a.id}${ep}.t${tierNo}.c${i}`,
        reason: tierNo > 1 ? 'escalated' : episode > 1 ? 'reraised' : 'raised',
        alarmId: a.id,
        episode,
        tier: tierNo,
        ...(tier.name === undefined ? {} : { tierName: tier.name }),
        contact: { name: contact.name, ...(contact.to === undefined ? {} : { to: contact.to }) },
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
        sentAt: new Date(now).toISOString(),
      };
      notifier.notify(contact.channel, n);
    }
    alarms.record(a, 'escalated', now, { tier: tierNo, contacts: tier.contacts.map((c) => c.name) });
  }

  function escalate(a: Alarm): void {
    cancel(a.id);
    if (!deps.running() || !unacked(a)) return;
    const tiers = tiersFor(a.site);
    if (tiers.length === 0) {
      if (a.tier === 0)
        log.warn({ alarmId: a.id, site: a.site }, 'no contact tiers configured: nobody is notified');
      return;
    }
    const timeout = ackTimeoutMs(a);
    if (a.tier === 0) {
      // A new alarm (never notified) goes to tier 1 at once; a re-raised one (tier reset to 0) at
      // most once per ackTimeout, so a flapping condition cannot flood the first tier.
      if (a.lastNotifiedAt === null || a.lastNotifiedAt + timeout <= clock()) notifyTier(a, 1);
    }
    if (a.tier >= tiers.length) return;
    const due = (a.lastNotifiedAt ?? clock()) + timeout;
    const handle = timers.setTimeout(
      () => {
        escalations.delete(a.id);
        const cur = alarms.get(a.id);
        if (!deps.running() || cur === undefined || !unacked(cur)) return;
        log.warn({ alarmId: cur.id, tier: cur.tier + 1 }, 'alarm not acknowledged in time: escalating');
        try {
          notifyTier(cur, cur.tier + 1);
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

  function state(a: Alarm): EscalationState {
    const tiers = tiersFor(a.site);
    const timeout = ackTimeoutMs(a);
    const due = a.tier < tiers.length && unacked(a);
    return {
      tiers: tiers.map((t, i) => ({
        tier: i + 1,
        ...(t.name === undefined ? {} : { name: t.name }),
        contacts: t.contacts.map((c) => ({ name: c.name, ...(c.to === undefined ? {} : { to: c.to }) })),
      })),
      next: due
        ? { tier: a.tier + 1, at: (a.lastNotifiedAt ?? clock()) + (a.tier === 0 ? 0 : timeout) }
        : null,
    };
  }

  return {
    state,
    escalate,
    climbing: (id) => escalations.has(id),
    cancel,
    cancelAll() {
      for (const id of [...escalations.keys()]) cancel(id);
    },
    stop: () => notifier.stop(),
    idle: () => notifier.idle(),
  };
}
