import { randomUUID } from 'node:crypto';
import {
  ALARM_PROFILE_IDS,
  type AlarmCondition,
  type AlarmProfileId,
  type AlarmSample,
  type Command,
  type CommandResult,
  createRuleSet,
  type DeviceKind,
  type DeviceState,
  type GasId,
  offlineTimeoutMs,
  type RuleSet,
} from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DeviceInfo, ReadingAccepted, SendCommand, ServerBus } from '../bus.js';
import { ConfigError } from '../errors.js';
import { LATE_AFTER_MS } from '../ingest/clock-limits.js';
import type { Notification, NotificationChannel } from '../notify/channel.js';
import { createChannels, createNotifier, type Notifier } from '../notify/notifier.js';
import { withReadingExtras } from '../store/reading-extras.js';
import type { AlarmEventRecord, ReadingRow, Store } from '../store/types.js';
import { realTimers, sleep, type Timers } from '../timers.js';
import type { GaswatchConfig, Tier } from './config-schema.js';
import { AlarmError } from './errors.js';
import { createAlarmMetrics } from './metrics.js';
import {
  type Alarm,
  type AlarmEventData,
  type AlarmEventType,
  type AlarmLifecycleState,
  alarmIdFor,
  conditionOn,
  isOpen,
  rebuildAlarms,
  unacked,
} from './model.js';
import { checkRuleConfig, inferKind, own, selectRules, unappliedKeys } from './select.js';

/** Condition key of the wall-clock offline alarm (the rule sets never use it). */
export const OFFLINE_KEY = 'offline';

/** Rule state this far ahead of the server clock, when a live reading arrives, is a clock error. */
const CLOCK_JUMP_MS = 60_000;

/**
 * A reading older than the device's last one (a gateway resend after a lost PUBACK) is evaluated by
 * replaying the device's recent samples with it in place: they are kept this long (event time) ...
 */
export const REPLAY_WINDOW_MS = 15 * 60_000;
/** ... and at most this many per device (bounds memory, ~200 bytes each, and the cost of one replay: 300 steps). */
export const REPLAY_MAX_SAMPLES = 300;
/**
 * The rule state after every this-many kept samples is kept too, so samples leaving the replay
 * buffer are folded into its base without being stepped through the rules a second time.
 */
const REPLAY_CHECKPOINT_EVERY = 32;
/** How long the gateway has to answer a silence command before the alarm says `unanswered`. */
export const SILENCE_ANSWER_MS = 30_000;

/** Gases some alarm profile has a rule for (a channel of one of them that a device's profile ignores is reported). */
const ALARM_GASES: ReadonlySet<GasId> = new Set(
  ALARM_PROFILE_IDS.flatMap((p) =>
    createRuleSet(p).conditions.flatMap((c) => (c.gas === undefined ? [] : [c.gas])),
  ),
);

/** How far back the rule state is rebuilt from stored readings: the 8-h TWA window plus margin. */
export const DEFAULT_HISTORY_MS = 8 * 3_600_000 + 15 * 60_000;

export interface AlarmEngineDeps {
  store: Store;
  bus: ServerBus;
  sendCommand: SendCommand;
  config: GaswatchConfig;
  /** Wall clock, ms since epoch (offline detection, escalation, acknowledgement times). */
  clock: () => number;
  logger: Logger;
  /** Notification channels by name; built from config.channels when absent. */
  channels?: Map<string, NotificationChannel>;
  /** prom-client registry for the engine's metrics (a private one when absent). */
  metrics?: Registry;
  /** Timers for escalation, offline sweeps and webhook backoff (real timers when absent). */
  timers?: Timers;
  /** Devices known at start (core's registry), so a device silent since a restart still goes offline. */
  devices?: { list(): DeviceInfo[] };
  /** Stored readings replayed into the rules on a device's first reading; default 8 h 15 min. */
  historyMs?: number;
  /** How often offline detection looks at every device; default 1 s. */
  offlineSweepMs?: number;
}

export interface AckInput {
  actor: string;
  note: string;
}

export interface AckResult {
  alarm: Alarm;
  /** The acknowledgement reached the store before the answer (otherwise it is queued and retried). */
  stored: boolean;
  /**
   * The sounder silence: the command id and whether it was handed to the broker; or, while other
   * alarms of the device are still active and unacknowledged, `held` (no command, id null) with
   * their ids — the last acknowledgement sends it.
   */
  silence: { id: string | null; sent: boolean; error?: string; held?: boolean; heldBy?: string[] };
}

export interface AlarmHistoryEntry {
  id: string;
  seq: number;
  ts: number;
  type: AlarmEventType;
  state: AlarmLifecycleState;
  actor?: string;
  note?: string;
  tier?: number;
  contacts?: string[];
  ok?: boolean;
  late?: boolean;
  /** Silence events: command id, message (why held, why it failed, the gateway's answer), what held it. */
  command?: string;
  message?: string;
  heldBy?: string[];
}

export interface AlarmEngine {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Alarms, newest raise first. `open` = every state but cleared. */
  list(filter?: { state?: AlarmLifecycleState | 'open'; dev?: string; limit?: number }): Alarm[];
  get(id: string): Alarm | undefined;
  /** The alarm's events in order (kept in memory; rebuilt from the store at start). */
  history(id: string): Promise<AlarmHistoryEntry[]>;
  /** False until the alarm state has been rebuilt from the store (it retries while the store is down). */
  ready(): boolean;
  acknowledge(id: string, input: AckInput): Promise<AckResult>;
  /** Resolves when every reading handed over so far is processed and its events stored. */
  idle(): Promise<void>;
}

type RuleStepOf = ReturnType<RuleSet<unknown>['step']>;

interface DeviceRuntime {
  gw: string;
  dev: string;
  kind: DeviceKind | null;
  site: string | null;
  pollIntervalS: number | undefined;
  profile: AlarmProfileId | null;
  /** Gases the device's rules watch, and channels already reported as not watched (once each). */
  watched: Set<GasId>;
  unwatchedWarned: Set<GasId>;
  rules: RuleSet<unknown> | null;
  state: unknown;
  /** Event time of the last sample fed to the rules. */
  lastTs: number;
  /**
   * Highest reading seq the rules have seen (-1: none). The gateway's seq is per device and
   * persisted: a reading stamped before `lastTs` whose seq is beyond this one is not a resend
   * but a gateway clock that went back.
   */
  maxSeq: number;
  /** How far the gateway clock was behind when it was last found reset backwards (ms; 0: not). */
  clockBehindMs: number;
  warmed: boolean;
  /** Event time each currently raised condition was raised at (alarm ids derive from it). */
  raisedAt: Map<string, number>;
  /**
   * Out-of-order replay: the rule state before the oldest kept sample, its time, the raise times
   * at that point, and the samples since (in time order, each accepted by the rules).
   */
  replayBase: unknown;
  replayBaseTs: number;
  replayRaisedAt: Map<string, number>;
  replay: AlarmSample[];
  /** Per kept sample: the events its step reported, and at checkpoints the rule state after it. */
  replayMeta: { events: RuleStepOf['events']; state?: unknown }[];
  /**
   * How many samples at the front of `replay` are already out of the replay window (kept only until
   * a checkpoint lets them be folded into the base without stepping); samples remembered so far.
   */
  replayHead: number;
  replayCount: number;
  queue: Promise<void>;
  /** Readings of this device waiting in `queue` (0: the next one may take the synchronous path). */
  queued: number;
  /** Wall clock of the last reading (offline detection). */
  lastSeenWall: number;
}

const NONE_CLEARED: ReadonlyMap<string, number> = new Map();

function isRawRow(r: object): r is ReadingRow {
  return 'values' in r;
}

/**
 * Stored readings in time order as the rules should see them. After a gateway clock was set back
 * the store holds two timelines over the same span: the one from before the reset (its tail
 * stamped after the reset's first reading) and the one after. Walking the rows in seq order, a
 * reading stamped before its predecessor but after the earliest earlier-seq row marks such a reset
 * (the timelines overlap), and the earlier-seq rows stamped at or after it are left out, as the
 * live engine left them out when it rebuilt at that reading. Rows without a seq, and an earlier-seq
 * run lying wholly after a later-seq one (a gateway whose seq store was wiped starts again at 0),
 * are kept and ordered by time as before.
 */
export function currentTimeline(rows: readonly ReadingRow[]): ReadingRow[] {
  const bySeq = [...rows].sort((x, y) => (x.seq ?? -1) - (y.seq ?? -1) || x.ts - y.ts);
  let kept: ReadingRow[] = [];
  let minTs = Number.POSITIVE_INFINITY;
  let prev: ReadingRow | undefined;
  for (const row of bySeq) {
    if (
      prev?.seq !== undefined &&
      row.seq !== undefined &&
      row.seq > prev.seq &&
      row.ts < prev.ts &&
      minTs <= row.ts
    ) {
      const at = row.ts;
      kept = kept.filter((r) => r.ts < at);
    }
    kept.push(row);
    if (row.ts < minTs) minTs = row.ts;
    prev = row;
  }
  return kept.sort((x, y) => x.ts - y.ts);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/**
 * The server's alarm engine (SPEC §6). Rules run per device in event time on bus 'reading'
 * events, using the shared rule sets; offline detection uses the wall clock. Every lifecycle
 * transition is stored with store.appendAlarmEvents and announced on bus 'alarm'. At start the
 * alarms are rebuilt from the stored events; each device's rule state (dose, STEL/TWA windows)
 * is rebuilt from its stored readings of the last `historyMs` before its first reading is
 * evaluated. One alarm per (device, condition key) at a time; alarm ids derive from the raise's
 * event time, so a replayed episode finds the alarm it already raised.
 */
export function createAlarmEngine(deps: AlarmEngineDeps): AlarmEngine {
  const { store, bus, config, clock } = deps;
  const log = deps.logger.child({ part: 'alarms' });
  const timers = deps.timers ?? realTimers;
  const historyMs = deps.historyMs ?? DEFAULT_HISTORY_MS;
  const sweepMs = deps.offlineSweepMs ?? 1_000;

  const alarms = new Map<string, Alarm>();
  /**
   * Open alarms: device → condition key → alarm id. Per device, because every reading looks up
   * its device's open alarms (a scan of all open alarms there grew with the whole estate).
   */
  const openIndex = new Map<string, Map<string, string>>();
  const setOpen = (a: Alarm) => {
    let byKey = openIndex.get(a.dev);
    if (byKey === undefined) {
      byKey = new Map();
      openIndex.set(a.dev, byKey);
    }
    byKey.set(a.key, a.id);
  };
  const deleteOpen = (a: Alarm) => {
    const byKey = openIndex.get(a.dev);
    if (byKey === undefined) return;
    byKey.delete(a.key);
    if (byKey.size === 0) openIndex.delete(a.dev);
  };
  const devices = new Map<string, DeviceRuntime>();
  const escalations = new Map<string, unknown>();
  let running = false;
  /** Alarm state has been rebuilt from the store (until then readings wait in their queues). */
  let loaded = false;
  let whenLoaded: Promise<void> = Promise.resolve();
  let sweepHandle: unknown = null;
  /** Each alarm's events, kept in memory so history does not depend on the store being up. */
  const historyById = new Map<string, AlarmHistoryEntry[]>();
  let pendingWrites: AlarmEventRecord[] = [];
  let flushing: Promise<void> | null = null;
  let inQueue = 0;

  const metrics = createAlarmMetrics(deps.metrics, () => alarms.values());
  const hooks = {
    sent: (c: string) => metrics.notificationsSent.inc({ channel: c }),
    failed: (c: string) => metrics.notificationsFailed.inc({ channel: c }),
    retried: (c: string) => metrics.notificationRetries.inc({ channel: c }),
  };
  const channels = deps.channels ?? createChannels(config.channels, { logger: log, timers, hooks });
  const notifier: Notifier = createNotifier({ channels, logger: log, hooks });

  // ---------------------------------------------------------------- storage

  async function writeWithRetry(batch: AlarmEventRecord[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await store.appendAlarmEvents(batch);
        return;
      } catch (err) {
        metrics.storeErrors.inc();
        if (!running && attempt >= 2) {
          log.error({ err, events: batch.length }, 'alarm events could not be stored before stop');
          throw err;
        }
        log.error(
          { err, events: batch.length, attempt: attempt + 1 },
          'storing alarm events failed; retrying',
        );
        await sleep(realTimers, Math.min(100 * 2 ** attempt, 5_000));
      }
    }
  }

  /** Queues records for the store; resolves when the queue (including them) is written. */
  function flush(): Promise<void> {
    if (flushing !== null) return flushing;
    if (pendingWrites.length === 0) return Promise.resolve();
    const run = async () => {
      // Yield first so `flushing` is assigned before the loop can finish.
      await Promise.resolve();
      try {
        while (pendingWrites.length > 0) {
          const batch = pendingWrites;
          pendingWrites = [];
          await writeWithRetry(batch);
        }
      } finally {
        flushing = null;
      }
    };
    flushing = run();
    return flushing;
  }

  // ---------------------------------------------------------------- transitions

  function addHistory(r: AlarmEventRecord): void {
    const d = r.data as AlarmEventData;
    if (typeof d.type !== 'string' || typeof d.seq !== 'number') return;
    const e: AlarmHistoryEntry = { id: r.id, seq: d.seq, ts: r.ts, type: d.type, state: d.state };
    if (d.actor !== undefined) e.actor = d.actor;
    if (d.note !== undefined) e.note = d.note;
    if (d.tier !== undefined) e.tier = d.tier;
    if (d.contacts !== undefined) e.contacts = d.contacts;
    if (d.ok !== undefined) e.ok = d.ok;
    if (d.late === true) e.late = true;
    if (typeof d.command === 'string') e.command = d.command;
    if (typeof d.message === 'string') e.message = d.message;
    if (Array.isArray(d.heldBy)) e.heldBy = d.heldBy;
    let list = historyById.get(r.alarmId);
    if (list === undefined) {
      list = [];
      historyById.set(r.alarmId, list);
    }
    if (list.some((x) => x.seq === e.seq)) return;
    list.push(e);
    if (list.length > 1 && (list.at(-2)?.seq ?? 0) > e.seq) list.sort((x, y) => x.seq - y.seq);
  }

  function record(a: Alarm, type: AlarmEventType, ts: number, extra: Partial<AlarmEventData> = {}): void {
    a.seq += 1;
    const data: AlarmEventData = { ...extra, type, seq: a.seq, state: a.state, alarm: { ...a } };
    const rec: AlarmEventRecord = { id: `${a.id}#${a.seq}`, alarmId: a.id, ts, data };
    pendingWrites.push(rec);
    addHistory(rec);
    flush().catch((err: unknown) => log.error({ err }, 'alarm event write failed'));
    metrics.transitions.inc({ type });
    try {
      bus.emit('alarm', {
        alarmId: a.id,
        gw: a.gw,
        dev: a.dev,
        state: a.state,
        ts,
        type,
        site: a.site,
        key: a.key,
        rule: a.rule,
        gas: a.gas,
        severity: a.severity,
        message: a.message,
        value: a.value,
        threshold: a.threshold,
        unit: a.unit,
        raisedAt: a.raisedAt,
        late: a.late,
        episode: a.episode ?? 1,
        ...(extra.actor === undefined ? {} : { actor: extra.actor, note: extra.note }),
        ...(extra.tier === undefined ? {} : { tier: extra.tier }),
        ...(a.silence === undefined || (type !== 'silence' && type !== 'silence_result')
          ? {}
          : { silence: { ...a.silence } }),
      });
    } catch (err) {
      log.error({ err, alarmId: a.id }, 'a bus alarm listener threw');
    }
  }

  function raise(rt: DeviceRuntime, c: AlarmCondition, raisedAt: number, late: boolean): Alarm {
    const a: Alarm = {
      id: alarmIdFor(rt.dev, c.key, raisedAt),
      gw: rt.gw,
      dev: rt.dev,
      site: rt.site,
      key: c.key,
      rule: c.rule,
      profile: c.key === OFFLINE_KEY ? 'offline' : (rt.profile ?? 'unknown'),
      ...(c.gas === undefined ? {} : { gas: c.gas }),
      severity: c.severity,
      state: 'active',
      message: c.message,
      value: c.value,
      threshold: c.threshold,
      ...(c.unit === undefined ? {} : { unit: c.unit }),
      raisedAt,
      detectedAt: clock(),
      late,
      clearedAt: null,
      ack: null,
      tier: 0,
      lastNotifiedAt: null,
      seq: 0,
      episode: 1,
    };
    alarms.set(a.id, a);
    setOpen(a);
    log.warn(
      { alarmId: a.id, dev: a.dev, key: a.key, severity: a.severity, value: a.value, late },
      `alarm raised: ${a.message}`,
    );
    record(a, 'raised', raisedAt, late ? { late } : {});
    escalate(a);
    return a;
  }

  /**
   * A latched (cleared_unacked) alarm whose condition came back: a new episode. While escalation
   * is still climbing the chain it carries on (the next tier hears of the new episode on time);
   * once it has stopped at the top, the chain starts again at tier 1 — at once, or, if the last
   * notification is less than an ackTimeout old (a flapping condition), when it is one old.
   */
  function reraise(a: Alarm, ts: number, c: AlarmCondition | null, late: boolean): void {
    a.state = 'active';
    a.clearedAt = null;
    a.episode = (a.episode ?? 1) + 1;
    if (c !== null) {
      a.value = c.value;
      a.message = c.message;
    }
    const climbing = escalations.has(a.id);
    if (!climbing) a.tier = 0;
    log.warn(
      { alarmId: a.id, dev: a.dev, key: a.key, episode: a.episode },
      'latched alarm raised again before acknowledgement',
    );
    record(a, 'reraised', ts, late ? { late } : {});
    if (!climbing) escalate(a);
  }

  function clear(a: Alarm, ts: number): void {
    a.clearedAt = ts;
    a.state = a.state === 'acknowledged' ? 'cleared' : 'cleared_unacked';
    if (a.state === 'cleared') deleteOpen(a);
    log.info({ alarmId: a.id, dev: a.dev, key: a.key, state: a.state }, 'alarm condition ended');
    record(a, 'cleared', ts);
  }

  function openAlarm(dev: string, key: string): Alarm | undefined {
    const id = openIndex.get(dev)?.get(key);
    return id === undefined ? undefined : alarms.get(id);
  }

  function openAlarmsOf(dev: string): Alarm[] {
    const out: Alarm[] = [];
    const byKey = openIndex.get(dev);
    if (byKey === undefined) return out;
    for (const id of byKey.values()) {
      const a = alarms.get(id);
      if (a !== undefined) out.push(a);
    }
    return out;
  }

  // ---------------------------------------------------------------- escalation

  function tiersFor(site: string | null): Tier[] {
    const s = own(config.sites, site);
    return s !== undefined && s.tiers.length > 0 ? s.tiers : config.defaults.tiers;
  }

  function ackTimeoutMs(site: string | null, severity: Alarm['severity']): number {
    const s = own(config.sites, site);
    return (s?.ackTimeout?.[severity] ?? config.defaults.ackTimeout[severity]) * 1000;
  }

  function cancelEscalation(id: string): void {
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
    record(a, 'escalated', now, { tier: tierNo, contacts: tier.contacts.map((c) => c.name) });
  }

  /**
   * Tier 1 at once, then the next tier after each ackTimeout, while the alarm is unacknowledged
   * (active or latched). Resumes after a restart from the last tier notified and its time.
   */
  function escalate(a: Alarm): void {
    cancelEscalation(a.id);
    if (!running || !unacked(a)) return;
    const tiers = tiersFor(a.site);
    if (tiers.length === 0) {
      if (a.tier === 0)
        log.warn({ alarmId: a.id, site: a.site }, 'no contact tiers configured: nobody is notified');
      return;
    }
    const timeout = ackTimeoutMs(a.site, a.severity);
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
        if (!running || cur === undefined || !unacked(cur)) return;
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

  // ---------------------------------------------------------------- devices and rules

  function runtimeFor(gw: string, dev: string, state: DeviceState | null): DeviceRuntime {
    let rt = devices.get(dev);
    if (rt === undefined) {
      rt = {
        gw,
        dev,
        kind: null,
        site: own(config.devices, dev)?.site ?? null,
        pollIntervalS: undefined,
        profile: null,
        rules: null,
        state: undefined,
        lastTs: Number.NEGATIVE_INFINITY,
        maxSeq: -1,
        clockBehindMs: 0,
        warmed: false,
        raisedAt: new Map(),
        watched: new Set(),
        unwatchedWarned: new Set(),
        replayBase: undefined,
        replayBaseTs: Number.POSITIVE_INFINITY,
        replayRaisedAt: new Map(),
        replay: [],
        replayMeta: [],
        replayHead: 0,
        replayCount: 0,
        queue: Promise.resolve(),
        queued: 0,
        lastSeenWall: clock(),
      };
      devices.set(dev, rt);
    }
    rt.gw = gw;
    if (state !== null) applyState(rt, state);
    return rt;
  }

  function applyState(rt: DeviceRuntime, s: DeviceState): void {
    const site = s.site || (own(config.devices, rt.dev)?.site ?? null);
    rt.pollIntervalS = s.pollIntervalS;
    if (rt.kind === s.kind && rt.site === site) return;
    rt.kind = s.kind;
    rt.site = site;
    if (rt.rules !== null && selectRules(config, rt.dev, s.kind, site).profile !== rt.profile) {
      // Kind or site now implies another profile: rebuild its state from history on the next reading.
      log.info({ dev: rt.dev, kind: s.kind, site }, 'device kind or site changed: alarm rules reselected');
      rt.rules = null;
      rt.warmed = false;
      rt.lastTs = Number.NEGATIVE_INFINITY;
      rt.raisedAt.clear();
    }
  }

  function ensureRules(rt: DeviceRuntime, values: Partial<Record<GasId, number>>): RuleSet<unknown> {
    if (rt.rules !== null) return rt.rules;
    const kind = rt.kind ?? inferKind(values);
    const sel = selectRules(config, rt.dev, kind, rt.site);
    let rules: ReturnType<typeof createRuleSet>;
    try {
      rules = createRuleSet(sel.profile, sel.options);
    } catch (err) {
      // Options checked at start build under every profile; should a combination still fail,
      // the device runs its profile's defaults rather than no rules at all.
      log.error(
        { err, dev: rt.dev, kind, profile: sel.profile },
        `alarm options of ${rt.dev} refused by profile ${sel.profile}: running its default set points`,
      );
      rules = createRuleSet(sel.profile);
    }
    const unapplied = unappliedKeys(sel.options, new Set(rules.conditions.map((c) => c.key)));
    if (unapplied.length > 0)
      log.warn(
        { dev: rt.dev, kind, profile: sel.profile, unapplied },
        `${rt.dev} runs alarm profile ${sel.profile} (kind ${kind}), which has no condition for ${unapplied.join(', ')}: not applied (give the device a profile in GASWATCH_CONFIG devices.${rt.dev}.profile, or check its kind)`,
      );
    rt.rules = rules as RuleSet<unknown>;
    rt.profile = sel.profile;
    rt.watched = new Set(rules.conditions.flatMap((c) => (c.gas === undefined ? [] : [c.gas])));
    rt.unwatchedWarned.clear();
    rt.state = rt.rules.initial();
    log.debug({ dev: rt.dev, kind, profile: sel.profile }, 'alarm rules selected');
    return rt.rules;
  }

  /** Notes raise/clear times; returns when each condition cleared (shared empty map: none did). */
  function noteEvents(
    rt: DeviceRuntime,
    events: { type: 'raised' | 'cleared'; ts: number; condition: AlarmCondition }[],
  ): ReadonlyMap<string, number> {
    let cleared: Map<string, number> | undefined;
    for (const ev of events) {
      if (ev.type === 'raised') rt.raisedAt.set(ev.condition.key, ev.ts);
      else {
        rt.raisedAt.delete(ev.condition.key);
        cleared ??= new Map();
        cleared.set(ev.condition.key, ev.ts);
      }
    }
    return cleared ?? NONE_CLEARED;
  }

  /** Replays the device's stored readings before `beforeTs` into fresh rule state, silently. */
  async function warm(rt: DeviceRuntime, rules: RuleSet<unknown>, beforeTs: number): Promise<void> {
    let rows: ReadingRow[] = [];
    try {
      const got = await store.queryReadings({ dev: rt.dev, from: beforeTs - historyMs, to: beforeTs });
      rows = currentTimeline(got.filter(isRawRow));
    } catch (err) {
      log.error({ err, dev: rt.dev }, 'could not load recent readings: rule state starts empty');
    }
    let state = rules.initial();
    for (const row of rows) {
      if (row.ts <= rt.lastTs) continue;
      try {
        const sample: AlarmSample = { ts: row.ts, values: row.values, status: row.status ?? 'ok' };
        const step = rules.step(state, withReadingExtras(sample, row));
        state = step.state;
        noteEvents(rt, step.events);
        rt.lastTs = row.ts;
        if (row.seq !== undefined && row.seq > rt.maxSeq) rt.maxSeq = row.seq;
      } catch (err) {
        log.warn({ err, dev: rt.dev, ts: row.ts }, 'stored reading rejected by the rules during rebuild');
      }
    }
    rt.state = state;
    rt.warmed = true;
    resetReplay(rt);
    if (rows.length > 0)
      log.info({ dev: rt.dev, readings: rows.length }, 'alarm rule state rebuilt from stored readings');
  }

  /**
   * A gas channel the device's rules do not watch (a combustible channel on a device run as
   * household CO, say) would be silently ignored: say so once per device and gas.
   */
  function warnUnwatched(rt: DeviceRuntime, values: Partial<Record<GasId, number>>): void {
    for (const gas of Object.keys(values) as GasId[]) {
      if (rt.watched.has(gas) || rt.unwatchedWarned.has(gas) || !ALARM_GASES.has(gas)) continue;
      rt.unwatchedWarned.add(gas);
      log.warn(
        { dev: rt.dev, gas, profile: rt.profile, kind: rt.kind },
        `${rt.dev} reports ${gas} but its alarm profile ${rt.profile} has no rule for it: ${gas} raises no alarm on the server (check the device kind or its profile override)`,
      );
    }
  }

  /** The replay buffer starts at the current rule state (after a rebuild). */
  function resetReplay(rt: DeviceRuntime): void {
    rt.replayBase = rt.state;
    rt.replayBaseTs = rt.lastTs;
    rt.replayRaisedAt = new Map(rt.raisedAt);
    rt.replay = [];
    rt.replayMeta = [];
    rt.replayHead = 0;
  }

  /** The time of the rule state the replay starts from (samples at or before it cannot be replayed). */
  function replayFromTs(rt: DeviceRuntime): number {
    return rt.replayHead > 0 ? (rt.replay[rt.replayHead - 1]?.ts ?? rt.replayBaseTs) : rt.replayBaseTs;
  }

  function noteRaised(raisedAt: Map<string, number>, events: RuleStepOf['events']): void {
    for (const ev of events) {
      if (ev.type === 'raised') raisedAt.set(ev.condition.key, ev.ts);
      else raisedAt.delete(ev.condition.key);
    }
  }

  /** Keeps an in-order sample for out-of-order replay; drops (folds into the base) what is too old. */
  function remember(rt: DeviceRuntime, rules: RuleSet<unknown>, sample: AlarmSample, step: RuleStepOf): void {
    rt.replay.push(sample);
    const checkpoint = rt.replayCount++ % REPLAY_CHECKPOINT_EVERY === REPLAY_CHECKPOINT_EVERY - 1;
    rt.replayMeta.push(checkpoint ? { events: step.events, state: step.state } : { events: step.events });
    trimReplay(rt, rules, sample.ts);
  }

  /**
   * Moves the replay window: samples too old (event time) or too many leave it. They are folded
   * into the base at the latest checkpoint among them (no rule steps); until one comes they stay
   * behind `replayHead`, outside the window.
   */
  function trimReplay(rt: DeviceRuntime, rules: RuleSet<unknown>, newestTs: number): void {
    const buf = rt.replay;
    for (let i = 0; i < 10_000 && rt.replayHead < buf.length; i++) {
      const first = buf[rt.replayHead] as AlarmSample;
      if (buf.length - rt.replayHead <= REPLAY_MAX_SAMPLES && first.ts >= newestTs - REPLAY_WINDOW_MS) break;
      rt.replayHead++;
    }
    let j = rt.replayHead - 1;
    while (j >= 0 && rt.replayMeta[j]?.state === undefined) j--;
    if (j >= 0) foldInto(rt, j + 1, (rt.replayMeta[j] as { state: unknown }).state);
    // Without a checkpoint (right after a replay): step them in, so the buffer stays bounded.
    if (rt.replayHead > 2 * REPLAY_CHECKPOINT_EVERY) foldHead(rt, rules);
  }

  /** Drops the first `n` kept samples, whose state after them is `state`, into the base. */
  function foldInto(rt: DeviceRuntime, n: number, state: unknown): void {
    for (let i = 0; i < n; i++) noteRaised(rt.replayRaisedAt, rt.replayMeta[i]?.events ?? []);
    rt.replayBase = state;
    rt.replayBaseTs = (rt.replay[n - 1] as AlarmSample).ts;
    rt.replay.splice(0, n);
    rt.replayMeta.splice(0, n);
    rt.replayHead -= n;
  }

  /** Folds every sample outside the window into the base (stepping those after the last checkpoint). */
  function foldHead(rt: DeviceRuntime, rules: RuleSet<unknown>): void {
    while (rt.replayHead > 0) {
      const first = rt.replay[0] as AlarmSample;
      const meta = rt.replayMeta[0];
      if (meta?.state !== undefined) {
        foldInto(rt, 1, meta.state);
        continue;
      }
      try {
        const st = rules.step(rt.replayBase, first);
        foldInto(rt, 1, st.state);
      } catch {
        // Cannot happen (the sample was accepted before); start the buffer afresh if it does.
        resetReplay(rt);
        return;
      }
    }
  }

  /**
   * A reading older than the last one the rules saw, inside the replay window: the kept samples
   * are replayed with it in place. Episodes the replay finds that no alarm covers are raised
   * (marked late) — and, if the replay also ends them, cleared, so they stay latched until
   * acknowledged; then the alarms are reconciled with the replayed final state. Episodes already
   * known (same condition, same raise time) and alarms already open are left alone, so a resent
   * reading that changes nothing adds no transition. False when the reading is too old to replay.
   */
  function replayLate(rt: DeviceRuntime, rules: RuleSet<unknown>, sample: AlarmSample): boolean {
    if (!(sample.ts > replayFromTs(rt))) return false;
    foldHead(rt, rules);
    const buf = rt.replay;
    if (buf.some((x) => x.ts === sample.ts)) {
      metrics.skipped.inc({ reason: 'duplicate_ts' });
      return true;
    }
    let at = buf.findIndex((x) => x.ts > sample.ts);
    if (at < 0) at = buf.length;
    const samples = [...buf.slice(0, at), sample, ...buf.slice(at)];
    let state = rt.replayBase;
    const raisedAt = new Map(rt.replayRaisedAt);
    const steps: { ts: number; step: RuleStepOf }[] = [];
    const meta = rt.replayMeta.slice(0, at);
    try {
      for (const [k, x] of samples.entries()) {
        const step = rules.step(state, x);
        state = step.state;
        if (k < at) noteRaised(raisedAt, step.events);
        else {
          steps.push({ ts: x.ts, step });
          meta.push(
            k % REPLAY_CHECKPOINT_EVERY === 0
              ? { events: step.events, state: step.state }
              : { events: step.events },
          );
        }
      }
    } catch (err) {
      metrics.skipped.inc({ reason: 'rule_error' });
      log.error({ err, dev: rt.dev, ts: sample.ts }, 'alarm rules rejected a late reading');
      return true;
    }
    // Commit: the kept samples now include the late one.
    rt.replay = samples;
    rt.replayMeta = meta;
    rt.state = state;
    rt.raisedAt = raisedAt;
    trimReplay(rt, rules, rt.lastTs);
    const pending = new Map<string, { ts: number; condition: AlarmCondition }>();
    const clearedAt = new Map<string, number>();
    for (const { step } of steps) {
      for (const ev of step.events) {
        const key = ev.condition.key;
        if (ev.type === 'raised') {
          raisedAt.set(key, ev.ts);
          pending.set(key, { ts: ev.ts, condition: ev.condition });
          clearedAt.delete(key);
          continue;
        }
        raisedAt.delete(key);
        clearedAt.set(key, ev.ts);
        const ep = pending.get(key);
        pending.delete(key);
        // An episode that began and ended inside the replay: raise it (late) and latch it.
        if (ep === undefined) continue;
        const open = openAlarm(rt.dev, key);
        if (open !== undefined) {
          // A latched alarm of an earlier episode: the condition came back, as live it is re-raised.
          if (open.state === 'cleared_unacked' && open.clearedAt !== null && open.clearedAt < ep.ts) {
            reraise(open, ep.ts, ep.condition, true);
            clear(open, ev.ts);
          }
          continue;
        }
        if (coveredEpisode(rt.dev, key, ep.ts, ev.ts)) continue;
        const a = raise(rt, ep.condition, ep.ts, true);
        clear(a, ev.ts);
      }
    }
    const last = steps.at(-1);
    if (last !== undefined) {
      log.info(
        { dev: rt.dev, ts: sample.ts, replayed: steps.length },
        'late reading evaluated by replaying the samples after it',
      );
      // Alarms raised after the last replayed clear keep their time; an open alarm whose condition
      // is no longer active after the replay is cleared at the replay's clear time.
      reconcileReplayed(rt, last.step.active, clearedAt, last.ts);
    }
    return true;
  }

  /** Some alarm of this condition already spans part of [from, to] (the same episode, seen before). */
  function coveredEpisode(dev: string, key: string, from: number, to: number): boolean {
    for (const a of alarms.values())
      if (a.dev === dev && a.key === key && a.raisedAt <= to && (a.clearedAt === null || a.clearedAt >= from))
        return true;
    return false;
  }

  function reconcileReplayed(
    rt: DeviceRuntime,
    active: AlarmCondition[],
    clearedAt: Map<string, number>,
    ts: number,
  ): void {
    const activeKeys = new Set(active.map((c) => c.key));
    for (const c of active) {
      if (openAlarm(rt.dev, c.key) !== undefined) continue;
      const raisedAt = rt.raisedAt.get(c.key) ?? ts;
      if (alarms.has(alarmIdFor(rt.dev, c.key, raisedAt))) continue;
      raise(rt, c, raisedAt, true);
    }
    for (const a of openAlarmsOf(rt.dev)) {
      if (a.key === OFFLINE_KEY || !conditionOn(a) || activeKeys.has(a.key)) continue;
      const at = clearedAt.get(a.key);
      // Only an end the replay saw after the alarm's raise ends it.
      if (at === undefined || at < a.raisedAt) continue;
      clear(a, at);
    }
  }

  /** Makes the alarms match the conditions the rules hold after a sample. */
  function reconcile(
    rt: DeviceRuntime,
    active: AlarmCondition[],
    clearedAt: ReadonlyMap<string, number>,
    ts: number,
    late: boolean,
  ): void {
    const activeKeys = new Set<string>();
    for (const c of active) {
      activeKeys.add(c.key);
      const open = openAlarm(rt.dev, c.key);
      if (open !== undefined) {
        // Kept in memory, stored with the next transition: no event per reading.
        if (c.value > (open.peak ?? open.value)) open.peak = c.value;
        if (open.state === 'cleared_unacked') reraise(open, rt.raisedAt.get(c.key) ?? ts, c, late);
        continue;
      }
      const raisedAt = rt.raisedAt.get(c.key) ?? ts;
      // The same episode was already raised (and closed): a replay, not a new alarm.
      if (alarms.has(alarmIdFor(rt.dev, c.key, raisedAt))) continue;
      raise(rt, c, raisedAt, late);
    }
    for (const a of openAlarmsOf(rt.dev)) {
      if (a.key === OFFLINE_KEY || !conditionOn(a) || activeKeys.has(a.key)) continue;
      clear(a, clearedAt.get(a.key) ?? ts);
    }
  }

  async function processReading(r: ReadingAccepted, attempt = 0): Promise<void> {
    const rt = runtimeFor(r.gw, r.dev, r.device.state);
    const rules = ensureRules(rt, r.reading.values);
    if (!rt.warmed) await warm(rt, rules, r.ts);
    if (rt.rules !== rules) {
      // Reselected while warming (a new DeviceState): evaluate with the new rules.
      if (attempt < 2) return processReading(r, attempt + 1);
      log.warn({ dev: r.dev, ts: r.ts }, 'alarm rules keep changing: reading not evaluated');
      return;
    }
    const jumped = clockJumped(rt, r);
    if (jumped || clockReset(rt, r)) {
      // Either the rules ran ahead on readings stamped in the future (a gateway clock that was
      // wrong and got corrected), or the gateway clock was set back (a Pi without a real-time
      // clock rebooted with an older saved time and no NTP). Skipping readings until their time
      // passes the last one would mute the device for that long. Rebuild its rule state from the
      // stored readings before this one (those stamped after it under the old clock are left
      // out), as after a restart: starting from empty state would forget the exposure so far and
      // clear an open dose alarm that still holds.
      if (jumped) {
        metrics.skipped.inc({ reason: 'clock_jump_reset' });
        metrics.rebuilds.inc({ reason: 'clock_jump' });
        log.warn(
          { dev: r.dev, ts: r.ts, aheadMs: rt.lastTs - r.receivedAt },
          'device clock went back to real time: alarm rule state rebuilt from stored readings',
        );
      } else {
        metrics.rebuilds.inc({ reason: 'clock_reset' });
        rt.clockBehindMs = Math.max(0, r.receivedAt - r.ts);
        log.warn(
          {
            dev: r.dev,
            gw: r.gw,
            ts: new Date(r.ts).toISOString(),
            lastTs: new Date(rt.lastTs).toISOString(),
            backMs: rt.lastTs - r.ts,
            seq: r.reading.seq,
            lastSeq: rt.maxSeq,
          },
          `gateway ${r.gw} clock went back ${Math.round((rt.lastTs - r.ts) / 1000)} s (seq ${r.reading.seq} follows ${rt.maxSeq} but is stamped before the last reading): alarm rule state of ${r.dev} rebuilt from stored readings before it; fix the gateway's time (NTP)`,
        );
      }
      rt.state = rules.initial();
      rt.lastTs = Number.NEGATIVE_INFINITY;
      rt.raisedAt.clear();
      await warm(rt, rules, r.ts);
      if (rt.rules !== rules) {
        if (attempt < 2) return processReading(r, attempt + 1);
        return;
      }
    }
    evaluate(rt, rules, r);
  }

  /**
   * The gateway clock went back: this reading is stamped before the last one the rules saw, yet
   * its seq (per device, +1 per reading, persisted by the gateway) comes after every seq seen. A
   * resend (lost PUBACK, outbox replay) always carries an older seq, so this is a new reading
   * under a clock that was set back, wherever its time falls (inside or beyond the replay window).
   */
  function clockReset(rt: DeviceRuntime, r: ReadingAccepted): boolean {
    return r.ts <= rt.lastTs && rt.maxSeq >= 0 && r.reading.seq > rt.maxSeq;
  }

  /**
   * The rules ran ahead on readings stamped in the future (a gateway clock that was wrong and got
   * corrected) and this reading is back on real time.
   */
  function clockJumped(rt: DeviceRuntime, r: ReadingAccepted): boolean {
    return (
      r.ts <= rt.lastTs &&
      !r.late &&
      !r.clockSuspect &&
      rt.lastTs > r.receivedAt + CLOCK_JUMP_MS &&
      // This reading is on real time (a resend from a clock that is still ahead is not a correction).
      r.ts <= r.receivedAt + CLOCK_JUMP_MS
    );
  }

  /** Feeds one reading to the device's (warmed, current) rules and reconciles its alarms. */
  function evaluate(rt: DeviceRuntime, rules: RuleSet<unknown>, r: ReadingAccepted): void {
    warnUnwatched(rt, r.reading.values);
    const sample = withReadingExtras<AlarmSample>(
      { ts: r.ts, values: r.reading.values, status: r.reading.status },
      r.reading,
    );
    if (r.reading.seq > rt.maxSeq) rt.maxSeq = r.reading.seq;
    if (r.ts <= rt.lastTs) {
      if (replayLate(rt, rules, sample)) return;
      metrics.skipped.inc({ reason: 'out_of_order' });
      log.warn(
        { dev: r.dev, ts: r.ts, lastTs: rt.lastTs, replayFrom: replayFromTs(rt) },
        'reading older than the replay window of the rule state: stored, not evaluated',
      );
      return;
    }
    let step: ReturnType<RuleSet<unknown>['step']>;
    try {
      step = rules.step(rt.state, sample);
    } catch (err) {
      metrics.skipped.inc({ reason: 'rule_error' });
      log.error({ err, dev: r.dev, ts: r.ts }, 'alarm rules rejected a reading');
      return;
    }
    rt.state = step.state;
    rt.lastTs = r.ts;
    remember(rt, rules, sample, step);
    const cleared = noteEvents(rt, step.events);
    reconcile(rt, step.active, cleared, r.ts, isLate(rt, r));
  }

  /**
   * Ingest marks a reading late by its age at arrival; a gateway whose clock was set back stamps
   * its live readings that much in the past. Those are not outbox replays: only age beyond the
   * clock error found at the reset counts, until the device sends a reading that is not late.
   */
  function isLate(rt: DeviceRuntime, r: ReadingAccepted): boolean {
    if (!r.late) {
      rt.clockBehindMs = 0;
      return false;
    }
    return rt.clockBehindMs === 0 || r.receivedAt - r.ts - rt.clockBehindMs > LATE_AFTER_MS;
  }

  // ---------------------------------------------------------------- sounder silence

  /**
   * Silence commands whose answer is awaited: the alarms each one silences (the acknowledged one,
   * and the earlier acknowledged alarms of the device it had been held for), whether it is still
   * being handed to the broker, and an answer that came back before that finished.
   */
  const silenceCommands = new Map<
    string,
    {
      alarmIds: string[];
      sending: boolean;
      early?: { gw: string; result: CommandResult };
      /** Wall clock the command was handed to the broker (the answer deadline counts from it). */
      sentAt: number;
      /** The deadline passed and the alarms say `unanswered`; a late answer still lands. */
      overdue: boolean;
    }
  >();
  /** Answers are kept for at most this many outstanding commands (a gateway that never answers). */
  const MAX_SILENCE_AWAITED = 10_000;

  function awaitSilenceResult(
    command: string,
    alarmIds: string[],
    sending: boolean,
    sentAt: number,
    overdue = false,
  ): void {
    silenceCommands.set(command, { alarmIds, sending, sentAt, overdue });
    if (silenceCommands.size > MAX_SILENCE_AWAITED) {
      const oldest = silenceCommands.keys().next().value;
      if (oldest !== undefined) silenceCommands.delete(oldest);
    }
  }

  /**
   * After an acknowledgement: the device's sounder is silenced only when no other alarm of the
   * device is still active and unacknowledged (the gateway silences the whole device, so a
   * warning's acknowledgement must not mute a critical alarm nobody has seen). Then the command
   * also covers the alarms acknowledged earlier whose silence was held.
   */
  async function silenceAfterAck(a: Alarm): Promise<AckResult['silence']> {
    const now = clock();
    const blockers = openAlarmsOf(a.dev).filter((x) => x.id !== a.id && x.state === 'active');
    if (blockers.length > 0) {
      const heldBy = blockers.map((x) => x.id);
      const message = `sounder not silenced: ${blockers.length === 1 ? 'another alarm' : `${blockers.length} other alarms`} of ${a.dev} still active and unacknowledged (${blockers.map((x) => `${x.key} ${x.severity}`).join(', ')}); it is silenced when the last of them is acknowledged`;
      a.silence = { status: 'held', command: null, at: now, message, heldBy };
      metrics.silence.inc({ result: 'held' });
      log.warn({ alarmId: a.id, dev: a.dev, heldBy }, message);
      record(a, 'silence', now, { ok: false, message, heldBy });
      return { id: null, sent: false, held: true, heldBy };
    }
    const held: Alarm[] = [];
    for (const x of alarms.values())
      if (x.dev === a.dev && x.id !== a.id && x.silence?.status === 'held') held.push(x);
    const cmd: Command = {
      v: 1,
      id: `silence-${randomUUID()}`,
      type: 'silence',
      device: a.dev,
      alarmId: a.id,
    };
    const targets = [a, ...held];
    // Registered before sending: the gateway may answer before the broker's PUBACK is back.
    awaitSilenceResult(
      cmd.id,
      targets.map((x) => x.id),
      true,
      now,
    );
    const out: AckResult['silence'] = { id: cmd.id, sent: false };
    try {
      await withTimeout(deps.sendCommand(a.gw, cmd), 5_000, 'sending the silence command');
      out.sent = true;
      metrics.silence.inc({ result: 'sent' });
    } catch (err) {
      out.error = (err as Error).message;
      metrics.silence.inc({ result: 'failed' });
      log.error({ err, alarmId: a.id, gw: a.gw }, 'silence command could not be sent');
    }
    const at = clock();
    for (const x of targets) {
      x.silence = out.sent
        ? { status: 'sent', command: cmd.id, at }
        : { status: 'send_failed', command: cmd.id, at, message: out.error ?? 'not sent' };
      record(x, 'silence', at, {
        ok: out.sent,
        command: cmd.id,
        ...(x === a ? {} : { message: `sent on the acknowledgement of ${a.id}` }),
        ...(out.error === undefined ? {} : { message: out.error }),
      });
    }
    const waiting = silenceCommands.get(cmd.id);
    if (waiting !== undefined) {
      waiting.sending = false;
      waiting.sentAt = at;
      if (waiting.early !== undefined) applySilenceResult(waiting.early.gw, waiting.early.result);
      else if (!out.sent) silenceCommands.delete(cmd.id);
    }
    return out;
  }

  /** The gateway's answer to a silence command, recorded on the alarms it silenced. */
  function applySilenceResult(gw: string, result: CommandResult): void {
    const waiting = silenceCommands.get(result.id);
    if (waiting === undefined) return;
    if (waiting.sending) {
      waiting.early = { gw, result };
      return;
    }
    silenceCommands.delete(result.id);
    const now = clock();
    const message = result.message ?? (result.ok ? 'silenced' : 'the gateway could not silence the sounder');
    metrics.silence.inc({ result: result.ok ? 'confirmed' : 'refused' });
    for (const id of waiting.alarmIds) {
      const a = alarms.get(id);
      if (a === undefined) continue;
      a.silence = { status: result.ok ? 'confirmed' : 'refused', command: result.id, at: now, message };
      if (result.ok)
        log.info({ alarmId: a.id, gw, command: result.id, message }, 'gateway silenced the sounder');
      else
        log.error(
          { alarmId: a.id, gw, command: result.id, message },
          'gateway could not silence the sounder: it may still be sounding',
        );
      record(a, 'silence_result', now, {
        ok: result.ok,
        command: result.id,
        message,
        gatewayTs: result.ts,
      });
    }
  }

  /**
   * A silence command the gateway has not answered within SILENCE_ANSWER_MS: the alarms it was
   * meant to silence say `unanswered` (the sounder may still be sounding) in a `silence_result`
   * event with ok:false. The command stays awaited, so a late answer still lands.
   */
  function checkSilenceAnswers(now: number): void {
    for (const [command, waiting] of silenceCommands) {
      if (waiting.sending || waiting.overdue || now - waiting.sentAt < SILENCE_ANSWER_MS) continue;
      for (const id of waiting.alarmIds) {
        const a = alarms.get(id);
        if (a?.silence?.command !== command || a.silence.status !== 'sent') continue;
        const message = `no answer from gateway ${a.gw} within ${SILENCE_ANSWER_MS / 1000} s: the sounder of ${a.dev} may still be sounding`;
        a.silence = { status: 'unanswered', command, at: now, message };
        log.error({ alarmId: a.id, gw: a.gw, command }, message);
        record(a, 'silence_result', now, { ok: false, command, message });
      }
      // Marked once every alarm says so (a throw above leaves it for the next sweep).
      waiting.overdue = true;
      metrics.silence.inc({ result: 'unanswered' });
    }
  }

  // ---------------------------------------------------------------- offline

  function raiseOffline(
    rt: DeviceRuntime,
    now: number,
    message: string,
    value: number,
    threshold: number,
  ): void {
    const open = openAlarm(rt.dev, OFFLINE_KEY);
    const c: AlarmCondition = {
      key: OFFLINE_KEY,
      rule: 'offline',
      severity: 'warning',
      value,
      threshold,
      unit: 's',
      message,
    };
    if (open !== undefined) {
      if (open.state === 'cleared_unacked') reraise(open, now, c, false);
      return;
    }
    raise(rt, c, now, false);
  }

  function sweep(): void {
    sweepHandle = null;
    if (!running) return;
    const now = clock();
    try {
      checkSilenceAnswers(now);
    } catch (err) {
      log.error({ err }, 'silence answer check failed');
    }
    // Runs from a timer: a throw would be an uncaught exception. One device's failure is logged
    // and the others are still checked; the sweep always reschedules.
    for (const rt of devices.values()) {
      try {
        const limit = offlineTimeoutMs(rt.pollIntervalS);
        const silentMs = now - rt.lastSeenWall;
        if (silentMs > limit) {
          const open = openAlarm(rt.dev, OFFLINE_KEY);
          if (open !== undefined && open.state !== 'cleared_unacked') continue;
          raiseOffline(
            rt,
            now,
            `${rt.dev}: no reading for ${Math.round(silentMs / 1000)} s (limit ${limit / 1000} s)`,
            Math.round(silentMs / 1000),
            limit / 1000,
          );
        }
      } catch (err) {
        log.error({ err, dev: rt.dev }, 'offline check failed for a device');
      }
    }
    sweepHandle = timers.setTimeout(sweep, sweepMs);
  }

  // ---------------------------------------------------------------- bus

  /**
   * Core's ingest emits synchronously: a throw here would skip every listener registered after
   * the engine (the live WebSocket) for that event. The listeners never throw; they log and count.
   */
  function guarded<A extends unknown[]>(what: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        fn(...args);
      } catch (err) {
        metrics.skipped.inc({ reason: 'listener_error' });
        log.error({ err, event: what }, 'alarm engine failed to handle a bus event');
      }
    };
  }

  const onReading = guarded('reading', (r: ReadingAccepted): void => {
    if (!running) return;
    const rt = runtimeFor(r.gw, r.dev, r.device.state);
    rt.lastSeenWall = Math.max(rt.lastSeenWall, r.receivedAt);
    inQueue++;
    if (loaded && rt.queued === 0 && rt.warmed && rt.rules !== null) {
      // The common case (rules loaded and warmed, nothing of this device waiting): evaluated in one
      // microtask per ingest batch, in arrival order, without a promise chain per reading.
      fast.push(r);
      if (fast.length === 1) queueMicrotask(runFast);
      return;
    }
    // Readings already waiting for the synchronous path go first (order per device holds).
    if (fast.length > 0) runFast();
    enqueue(rt, r);
  });

  /** Readings taking the synchronous path, evaluated after the current tick's bus events. */
  let fast: ReadingAccepted[] = [];
  function runFast(): void {
    const batch = fast;
    fast = [];
    for (const r of batch) {
      const rt = devices.get(r.dev);
      const rules = rt?.rules ?? null;
      // Something changed since (new rules, a reading of this device went the slow way, a clock jump
      // that needs a rebuild from the store): keep the order through the device's queue.
      if (
        rt === undefined ||
        rules === null ||
        !rt.warmed ||
        rt.queued > 0 ||
        clockJumped(rt, r) ||
        clockReset(rt, r)
      ) {
        if (rt === undefined) inQueue--;
        else enqueue(rt, r);
        continue;
      }
      try {
        clearOffline(r);
        evaluate(rt, rules, r);
      } catch (err) {
        log.error({ err, dev: r.dev }, 'alarm evaluation failed');
      } finally {
        inQueue--;
      }
    }
  }

  function clearOffline(r: ReadingAccepted): void {
    const off = openAlarm(r.dev, OFFLINE_KEY);
    if (off !== undefined && conditionOn(off)) clear(off, r.receivedAt);
  }

  /** The general path: the device's readings in order, after the alarm state is loaded and warmed. */
  function enqueue(rt: DeviceRuntime, r: ReadingAccepted): void {
    rt.queued++;
    rt.queue = rt.queue
      .then(async () => {
        if (!loaded) await whenLoaded;
        clearOffline(r);
        return processReading(r);
      })
      .catch((err: unknown) => log.error({ err, dev: r.dev }, 'alarm evaluation failed'))
      .finally(() => {
        rt.queued--;
        inQueue--;
      });
  }

  const onDeviceState = guarded('deviceState', (e: { gw: string; dev: string; state: DeviceState }) => {
    if (!running) return;
    runtimeFor(e.gw, e.dev, e.state);
  });

  const onCommandResult = guarded('commandResult', (e: { gw: string; result: CommandResult }): void => {
    if (!running) return;
    if (!loaded) {
      void whenLoaded.then(() => onCommandResult(e));
      return;
    }
    applySilenceResult(e.gw, e.result);
  });

  const onGatewayStatus = guarded('gatewayStatus', (e: { gw: string; status: { online: boolean } }) => {
    if (!running || e.status.online) return;
    if (!loaded) {
      void whenLoaded.then(() => onGatewayStatus(e));
      return;
    }
    const now = clock();
    for (const rt of devices.values()) {
      if (rt.gw !== e.gw) continue;
      raiseOffline(rt, now, `${rt.dev}: gateway ${e.gw} went offline`, 0, 0);
    }
  });

  function load(records: AlarmEventRecord[]): void {
    const { alarms: rebuilt, skipped } = rebuildAlarms(records);
    if (skipped > 0) log.warn({ skipped }, 'unreadable alarm events skipped during rebuild');
    for (const r of records) addHistory(r);
    const awaited = new Map<string, { ids: string[]; at: number; overdue: boolean }>();
    for (const a of rebuilt.values()) {
      alarms.set(a.id, a);
      if (isOpen(a)) setOpen(a);
      // A silence sent before the restart whose answer had not come: the answer still finds it,
      // and the answer deadline still counts from the send.
      const s = a.silence;
      if ((s?.status !== 'sent' && s?.status !== 'unanswered') || !s.command) continue;
      const entry = awaited.get(s.command) ?? { ids: [], at: s.at, overdue: s.status === 'unanswered' };
      entry.ids.push(a.id);
      awaited.set(s.command, entry);
    }
    for (const [cmd, e] of awaited) awaitSilenceResult(cmd, e.ids, false, e.at, e.overdue);
    for (const d of deps.devices?.list() ?? []) {
      const rt = runtimeFor(d.gw, d.dev, d.state);
      if (d.lastSeen !== null) rt.lastSeenWall = Math.max(rt.lastSeenWall, d.lastSeen);
    }
    for (const a of alarms.values()) {
      if (!isOpen(a)) continue;
      const rt = runtimeFor(a.gw, a.dev, null);
      rt.site ??= a.site;
    }
    loaded = true;
    for (const a of alarms.values()) if (unacked(a)) escalate(a);
    sweepHandle = timers.setTimeout(sweep, sweepMs);
    let open = 0;
    for (const byKey of openIndex.values()) open += byKey.size;
    log.info({ alarms: alarms.size, open, events: records.length }, 'alarm engine started');
  }

  // ---------------------------------------------------------------- API

  return {
    async start() {
      const issues = checkRuleConfig(config);
      if (issues.length > 0) throw new ConfigError(issues);
      running = true;
      bus.on('reading', onReading);
      bus.on('deviceState', onDeviceState);
      bus.on('gatewayStatus', onGatewayStatus);
      bus.on('commandResult', onCommandResult);
      // The store may be down at start (InfluxDB outage): the server still starts, readings wait
      // in their device queues, and the rebuild is retried until it succeeds.
      let first = true;
      let startedWaiting: (() => void) | undefined;
      whenLoaded = (async () => {
        for (let attempt = 0; running; attempt++) {
          try {
            load(await store.listAlarmEvents());
            return;
          } catch (err) {
            metrics.storeErrors.inc();
            log.error(
              { err, attempt: attempt + 1 },
              'cannot load alarm events: alarm state not rebuilt yet, retrying',
            );
            if (first) {
              first = false;
              startedWaiting?.();
            }
            await sleep(realTimers, Math.min(200 * 2 ** attempt, 5_000));
          }
        }
      })();
      await Promise.race([whenLoaded, new Promise<void>((resolve) => (startedWaiting = resolve))]);
    },

    async stop() {
      if (!running) return;
      running = false;
      bus.off('reading', onReading);
      bus.off('deviceState', onDeviceState);
      bus.off('gatewayStatus', onGatewayStatus);
      bus.off('commandResult', onCommandResult);
      await whenLoaded.catch(() => undefined);
      if (sweepHandle !== null) timers.clearTimeout(sweepHandle);
      for (const id of [...escalations.keys()]) cancelEscalation(id);
      await Promise.allSettled([...devices.values()].map((d) => d.queue));
      await flush().catch(() => undefined);
      await notifier.stop();
      metrics.dispose();
    },

    list(filter = {}) {
      const out: Alarm[] = [];
      for (const a of alarms.values()) {
        if (filter.dev !== undefined && a.dev !== filter.dev) continue;
        if (filter.state === 'open' ? !isOpen(a) : filter.state !== undefined && a.state !== filter.state)
          continue;
        out.push({ ...a });
      }
      out.sort((x, y) => y.raisedAt - x.raisedAt || (x.id < y.id ? -1 : 1));
      return out.slice(0, filter.limit ?? 100);
    },

    get(id) {
      const a = alarms.get(id);
      return a === undefined ? undefined : { ...a };
    },

    async history(id) {
      return (historyById.get(id) ?? []).map((e) => ({ ...e }));
    },

    ready: () => loaded,

    async acknowledge(id, input) {
      if (!loaded)
        throw new AlarmError(
          'alarms_loading',
          'alarm state is still being loaded from the store; try again',
          503,
          id,
        );
      const a = alarms.get(id);
      if (a === undefined) throw new AlarmError('alarm_not_found', `no alarm with id ${id}`, 404, id);
      if (config.users.length > 0 && !config.users.some((u) => u.id === input.actor && u.role !== 'viewer'))
        throw new AlarmError(
          'unknown_actor',
          `"${input.actor}" is not a user allowed to acknowledge alarms`,
          400,
          id,
        );
      if (!unacked(a))
        throw new AlarmError(
          'alarm_already_acknowledged',
          `alarm ${id} was already acknowledged by ${a.ack?.actor ?? 'someone'}`,
          409,
          id,
        );
      cancelEscalation(a.id);
      const now = clock();
      a.ack = { actor: input.actor, at: now, note: input.note };
      a.state = a.state === 'active' ? 'acknowledged' : 'cleared';
      if (a.state === 'cleared') deleteOpen(a);
      log.info({ alarmId: a.id, actor: input.actor, state: a.state }, 'alarm acknowledged');
      record(a, 'acknowledged', now, { actor: input.actor, note: input.note });
      const silence = await silenceAfterAck(a);
      let stored = true;
      try {
        await withTimeout(flush(), 5_000, 'storing the acknowledgement');
      } catch (err) {
        stored = false;
        log.error({ err, alarmId: a.id }, 'acknowledgement not yet stored; it stays queued and is retried');
      }
      return { alarm: { ...a }, stored, silence };
    },

    async idle() {
      for (let i = 0; i < 100; i++) {
        await Promise.allSettled([...devices.values()].map((d) => d.queue));
        await flush().catch(() => undefined);
        await notifier.idle();
        if (inQueue === 0 && pendingWrites.length === 0 && flushing === null) return;
      }
    },
  };
}
