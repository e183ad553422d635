import type { AlarmCondition, CommandResult, DeviceState, OccupantFlag } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  type DeviceInfo,
  type DeviceStateInfo,
  type ReadingAccepted,
  type SendCommand,
  type ServerBus,
  stateInfoOf,
} from '../bus.js';
import { ConfigError } from '../errors.js';
import type { Channel } from '../notify/channels.js';
import type { AlarmEventRecord, Store } from '../store/types.js';
import { realTimers, sleep, type Timers, withTimeout } from '../timers.js';
import { type AlarmBook, type AlarmFilter, createAlarmBook } from './alarm-book.js';
import type { AreaLookup } from './chain.js';
import type { GaswatchConfig } from './config-schema.js';
import { createDeviceRuleBook } from './device-rules.js';
import type { Dispatcher, NotificationStore } from './dispatcher.js';
import { AlarmError } from './errors.js';
import { createEscalation, type EscalationState } from './escalation.js';
import { createEventLog } from './event-log.js';
import type { AlarmHome } from './facts.js';
import { createFaultBurst } from './fault-burst.js';
import type { OfflineWhy } from './fold.js';
import { createAlarmMetrics } from './metrics.js';
import {
  type Alarm,
  type AlarmHistoryEntry,
  type AlarmResponse,
  alarmIdFor,
  conditionOn,
  isOpen,
  MAINTENANCE_KEY,
  type ResolutionReason,
  unacked,
} from './model.js';
import { createOfflineSweep } from './offline-sweep.js';
import { type Procedure, procedureFor } from './procedures.js';
import { createReadingQueue } from './reading-queue.js';
import { createReconciler } from './reconcile.js';
import type { AlarmRecords } from './records.js';
import { createRuleHistory, DEFAULT_HISTORY_MS } from './rule-history.js';
import { checkRuleConfig } from './select.js';
import { createSilence, type SilenceOutcome } from './silence.js';

export type { OfflineWhy } from './fold.js';
export type { AlarmHistoryEntry } from './model.js';
export { MAINTENANCE_KEY, OFFLINE_KEY } from './model.js';
export { REPLAY_MAX_SAMPLES, REPLAY_WINDOW_MS } from './replay-buffer.js';
export { currentTimeline, DEFAULT_HISTORY_MS } from './rule-history.js';
export { SILENCE_ANSWER_MS } from './silence.js';

export interface AlarmEngineDeps {
  /** The time-series store: the stored readings each device's rule state is rebuilt from. */
  store: Store;
  /** Where alarm events are stored and the alarm state is rebuilt from (SQL in the server). */
  records: AlarmRecords;
  /**
   * Runs before each attempt to rebuild the alarm state, until one succeeds; a throw fails that
   * attempt (retried with backoff, alarms answer 503 alarms_loading meanwhile). The server
   * imports the alarm events of the time-series store into SQL here on first start.
   */
  beforeLoad?: () => Promise<void>;
  bus: ServerBus;
  sendCommand: SendCommand;
  config: GaswatchConfig;
  /** Wall clock, ms since epoch (offline detection, escalation, acknowledgement times). */
  clock: () => number;
  logger: Logger;
  /** Notification channels by name; built from config.channels when absent. */
  channels?: Map<string, Channel>;
  /** Where notifications are recorded (SQL in the server); none: not recorded. */
  notifications?: NotificationStore;
  /** The vulnerable occupants of the registered home a device is in: their alarms escalate faster. */
  vulnerableOf?: (dev: string) => readonly OccupantFlag[];
  /** The registered home a device is in: its chain starts with its own contacts. */
  homeOf?: (dev: string) => AlarmHome | undefined;
  /** The alarm's area (SPEC §9): duty contacts, storm control. Its site's area when absent. */
  areaOf?: (a: Alarm) => string | null;
  /**
   * A device's area (its household's, else its site's, else its gateway's; auth.areaOf), for
   * folding many silent devices of one area into one alarm. Its site's area when absent.
   */
  deviceArea?: (gw: string, dev: string, site: string | null) => string | null;
  /** A gateway's own area (where its alarm belongs when its devices share none). */
  gatewayArea?: (gw: string) => string | null;
  /** The area tree: which area above is the township, and names for grouped messages. */
  areas?: AreaLookup & { nameOf(id: string): string | undefined };
  /** TIME_ZONE: the zone of the times messages say (default Asia/Shanghai). */
  timeZone?: string;
  /** prom-client registry for the engine's metrics (a private one when absent). */
  metrics?: Registry;
  /** Timers for escalation, offline sweeps and webhook backoff (real timers when absent). */
  timers?: Timers;
  /** Devices known at start (core's registry), so a device silent since a restart still goes offline. */
  devices?: { all(): Iterable<DeviceInfo> };
  /** Stored readings replayed into the rules on a device's first reading; default 8 h 15 min. */
  historyMs?: number;
  /** How often offline detection looks at every device; default 1 s. */
  offlineSweepMs?: number;
}

export interface AckInput {
  actor: string;
  note: string;
}

export interface ResolveInput extends AckInput {
  reason: ResolutionReason;
}

/** A call, "on my way" or "on site", without the stamp (the engine's clock gives the time). */
export type RespondInput = DistributiveOmit<AlarmResponse, 'at'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface AckResult {
  alarm: Alarm;
  /** The acknowledgement reached the database before the answer (otherwise it is queued and retried). */
  stored: boolean;
  /**
   * The sounder silence: the command id and whether it was handed to the broker; or, while other
   * alarms of the device are still active and unacknowledged, `held` (no command, id null) with
   * their ids — the last acknowledgement sends it.
   */
  silence: SilenceOutcome;
}

/**
 * A device's maintenance condition (SPEC §11) after a bump test was recorded: whether its latest
 * bump test (by when it was done) failed, and when that test was done.
 */
export interface MaintenanceCondition {
  gw: string;
  dev: string;
  /** The device's site (its alarm escalates to the site's tiers); the rules' view of it when absent. */
  site?: string | null;
  /** The latest bump test failed: the maintenance alarm is raised (at `at`) or stays. */
  failed: boolean;
  /** When the latest bump test was done, ms: the raise's or the clear's event time. */
  at: number;
  /** What the alarm says, e.g. "bump test failed: CO peak 12 ppm, needs 40 ppm". */
  message: string;
}

/** What resolve and respond answer: `silence` is null when they made no acknowledgement. */
export type ActionResult = Omit<AckResult, 'silence'> & { silence: SilenceOutcome | null };

export interface AlarmEngine {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Alarms, newest raise first. `open` = every state but cleared. */
  list(filter?: AlarmFilter): Alarm[];
  /** One page of alarms (newest raise first), the total matching and the next page's start. */
  page(filter: AlarmFilter): ReturnType<AlarmBook['page']>;
  /** The same page as the engine's own alarms, not copies: read them at once and keep none. */
  select(filter: AlarmFilter): ReturnType<AlarmBook['select']>;
  /** A device's alarms, the engine's own: read them at once and keep none. */
  alarmsOf(dev: string): ReturnType<AlarmBook['alarmsOf']>;
  /** Every device that has had an alarm, in the order of its first (only ever appended to). */
  devices(): readonly string[];
  get(id: string): Alarm | undefined;
  /** The alarm's events in order (kept in memory; rebuilt from the stored events at start). */
  history(id: string): Promise<AlarmHistoryEntry[]>;
  /** What the response card shows beside the alarm: its procedure and its escalation chain. */
  responseInfo(a: Alarm): { procedure: Procedure | null; escalation: EscalationState };
  /** False until the alarm state has been rebuilt from the stored events (retried until it is). */
  ready(): boolean;
  /** Resolves once the alarm state is rebuilt (or the engine stopped trying). */
  whenReady(): Promise<void>;
  acknowledge(id: string, input: AckInput): Promise<AckResult>;
  /**
   * Records the outcome (SPEC §13). An alarm not yet acknowledged is acknowledged first with the
   * same note, by the same person; one whose condition still holds stays open until it clears.
   */
  resolve(id: string, input: ResolveInput): Promise<ActionResult>;
  /**
   * Records a call, "on my way" or "on site". Going to the door (on my way, on site) acknowledges
   * an alarm nobody has yet: someone is handling it, so escalation stops and the sounder is
   * silenced. `silence` is null when there was no acknowledgement to make.
   */
  respond(id: string, input: RespondInput): Promise<ActionResult>;
  /**
   * Raises the device's maintenance alarm (warning, kind `maintenance`) when its latest bump test
   * failed, or clears it when a later one passed; waits for the alarm state to be loaded. The
   * alarm afterwards (undefined when there is none, or the engine is stopping).
   */
  maintenance(c: MaintenanceCondition): Promise<Alarm | undefined>;
  /** Resolves when every reading handed over so far is processed and its events stored. */
  idle(): Promise<void>;
  /** Notification delivery: the providers' callbacks come in here (routes/notify.ts). */
  readonly notify: Dispatcher;
  /**
   * Why the device counts as offline now: silent past its limit (its own alarm, or waiting the
   * fold window), or folded into its gateway's or its area's alarm; null when it does not.
   */
  offlineWhy(dev: string): OfflineWhy | null;
  /** The fault-burst alarm that stands for the device's fault now (fault-burst.ts), if any. */
  faultFoldOf(dev: string): { scope: 'gateway' | 'area'; code: string; alarmId: string } | null;
}

/**
 * The server's alarm engine (SPEC §6), and the one place its parts are put together (the table in
 * docs/alarm-engine.md says which file owns what). Rules run per device in event time on bus
 * 'reading' events, using the shared rule sets; offline detection uses the wall clock. Every
 * lifecycle transition is stored with records.appendAlarmEvents and announced on bus 'alarm'. At
 * start the alarms are rebuilt from the stored events; each device's rule state (dose, STEL/TWA
 * windows) is rebuilt from its readings in the time-series store of the last `historyMs` before
 * its first reading is evaluated. One alarm per (device, condition key) at a time; alarm ids
 * derive from the raise's event time, so a replayed episode finds the alarm it already raised.
 */
export function createAlarmEngine(deps: AlarmEngineDeps): AlarmEngine {
  const { store, records, bus, config, clock } = deps;
  const log = deps.logger.child({ part: 'alarms' });
  const timers = deps.timers ?? realTimers;
  let running = false;
  const isRunning = () => running;
  /** Alarm state has been rebuilt from the stored events (until then readings wait in their queues). */
  let loaded = false;
  let whenLoaded: Promise<void> = Promise.resolve();

  // The book and escalation need each other (a raise starts the chain, each tier is recorded in
  // the book): the book gets escalation through this forward reference, used only once running.
  const metrics = createAlarmMetrics(deps.metrics, () => book.all());
  const events = createEventLog({
    records,
    logger: log,
    onWriteError: () => metrics.storeErrors.inc(),
    onRefused: () => metrics.eventsRefused.inc(),
    running: isRunning,
  });
  const book: AlarmBook = createAlarmBook({
    clock,
    logger: log,
    bus,
    events,
    escalation: { escalate: (a) => escalation.escalate(a), climbing: (id) => escalation.climbing(id) },
    onTransition: (type) => metrics.transitions.inc({ type }),
  });
  const escalation = createEscalation({
    config,
    clock,
    timers,
    logger: log,
    metrics,
    channels: deps.channels,
    store: deps.notifications,
    vulnerableOf: deps.vulnerableOf,
    homeOf: deps.homeOf,
    areaOf: deps.areaOf,
    areas: deps.areas,
    timeZone: deps.timeZone,
    alarms: book,
    running: isRunning,
    // A contact's reply "1": acknowledged as by the console, escalation stops, the sounder is silenced.
    acknowledge: async (id, actor, note) => {
      const a = book.get(id);
      if (!loaded || !running || a === undefined || !unacked(a)) return false;
      await acknowledgeNow(a, { actor, note });
      await stored(a, 'acknowledgement');
      return true;
    },
    notificationsChanged: (ids) => {
      for (const id of ids) {
        const a = book.get(id);
        if (a !== undefined) bus.emit('notification', { alarmId: a.id, gw: a.gw, dev: a.dev, site: a.site });
      }
    },
  });
  const silence = createSilence({ sendCommand: deps.sendCommand, clock, logger: log, metrics, alarms: book });
  /** Where a device is: its site's area (config or the household register), else none. */
  const deviceArea = (gw: string, dev: string): string | null => {
    const site = rules.siteOf(dev);
    if (deps.deviceArea !== undefined) return deps.deviceArea(gw, dev, site);
    return site !== null && Object.hasOwn(config.sites, site) ? (config.sites[site]?.area ?? null) : null;
  };
  const faults = createFaultBurst({
    alarms: book,
    clock,
    logger: log,
    fold: config.fold,
    areaOf: deviceArea,
    gatewayArea: (gw) => deps.gatewayArea?.(gw) ?? null,
  });
  const rules = createDeviceRuleBook({
    config,
    logger: log,
    metrics,
    history: createRuleHistory({ store, historyMs: deps.historyMs ?? DEFAULT_HISTORY_MS, logger: log }),
    reconciler: createReconciler({ alarms: book, logger: log, faults }),
  });
  const offline = createOfflineSweep({
    clock,
    timers,
    sweepMs: deps.offlineSweepMs ?? 1_000,
    logger: log,
    alarms: book,
    siteOf: (dev) => rules.siteOf(dev),
    areaOf: deviceArea,
    gatewayArea: (gw) => deps.gatewayArea?.(gw) ?? null,
    fold: config.fold,
    eachSweep: (now) => {
      try {
        faults.sweep(now);
        faults.flush(now);
      } catch (err) {
        log.error({ err }, 'fault burst sweep failed');
      }
      try {
        silence.checkAnswers(now);
      } catch (err) {
        log.error({ err }, 'silence answer check failed');
      }
    },
    running: isRunning,
  });
  const queue = createReadingQueue({
    logger: log,
    loaded: () => loaded,
    whenLoaded: () => whenLoaded,
    ready: (dev) => rules.ready(dev),
    needsRebuild: (r) => rules.clockMoved(r),
    evaluateNow: (r) => {
      offline.readingArrived(r);
      rules.evaluate(r);
    },
    process: (r) => {
      offline.readingArrived(r);
      return rules.process(r);
    },
  });

  /** A device the engine knows: its rules and its offline watch. */
  function track(gw: string, dev: string, state: DeviceStateInfo | null): void {
    rules.track(gw, dev, state);
    offline.track(gw, dev, state);
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
    track(r.gw, r.dev, stateInfoOf(r.device));
    offline.seen(r.dev, r.receivedAt);
    faults.saw(r.dev, r.reading);
    // A reading through a gateway says it is connected: its offline alarm (if any) clears.
    if (loaded) offline.gatewayHeard(r.gw, r.receivedAt, false);
    queue.push(r);
  });

  const onDeviceState = guarded('deviceState', (e: { gw: string; dev: string; state: DeviceState }) => {
    if (!running) return;
    track(e.gw, e.dev, e.state);
  });

  const onCommandResult = guarded('commandResult', (e: { gw: string; result: CommandResult }): void => {
    if (!running) return;
    if (!loaded) {
      void whenLoaded.then(() => onCommandResult(e));
      return;
    }
    silence.onResult(e.gw, e.result);
  });

  const onGatewayStatus = guarded('gatewayStatus', (e: { gw: string; status: { online: boolean } }) => {
    if (!running) return;
    if (!loaded) {
      void whenLoaded.then(() => onGatewayStatus(e));
      return;
    }
    if (e.status.online) offline.gatewayHeard(e.gw, clock(), true);
    else offline.gatewayOffline(e.gw);
  });

  function load(records: AlarmEventRecord[]): void {
    book.load(records);
    silence.restore(book.all());
    for (const d of deps.devices?.all() ?? []) {
      track(d.gw, d.dev, stateInfoOf(d));
      if (d.lastSeen !== null) offline.seen(d.dev, d.lastSeen);
    }
    for (const a of book.all()) {
      // A folded alarm's dev is a gateway or an area, not a device to watch.
      if (!isOpen(a) || a.fold !== undefined) continue;
      track(a.gw, a.dev, null);
      rules.adoptSite(a.dev, a.site);
    }
    // Folded alarms still on: their devices stay folded (no device alarm appears after a restart).
    offline.adopt(book.all());
    faults.adopt(book.all());
    loaded = true;
    for (const a of book.all()) if (unacked(a)) escalation.escalate(a);
    offline.start();
    log.info({ alarms: book.size, open: book.openCount(), events: records.length }, 'alarm engine started');
  }

  // ---------------------------------------------------------------- API

  function loadedAlarm(id: string): Alarm {
    if (!loaded)
      throw new AlarmError('alarms_loading', 'alarm state is still being loaded; try again shortly', 503, id);
    const a = book.get(id);
    if (a === undefined) throw new AlarmError('alarm_not_found', `no alarm with id ${id}`, 404, id);
    return a;
  }

  async function acknowledgeNow(a: Alarm, input: AckInput): Promise<SilenceOutcome> {
    escalation.cancel(a.id);
    book.acknowledge(a, input.actor, input.note, clock());
    // A gateway or area alarm has no sounder of its own to silence (its devices are silent).
    if (a.fold !== undefined) return { id: null, sent: false };
    return silence.afterAck(a);
  }

  /** Whether what was just recorded reached the database within 5 s (else it stays queued). */
  async function stored(a: Alarm, what: string): Promise<boolean> {
    try {
      await withTimeout(events.flush(), 5_000, `storing the ${what}`);
      return true;
    } catch (err) {
      log.error({ err, alarmId: a.id }, `${what} not yet stored; it stays queued and is retried`);
      return false;
    }
  }

  return {
    async start() {
      // loadConfig's schema already refused these; this guards engines built in code (tests,
      // benches) from a config that never went through it.
      const issues = checkRuleConfig(config);
      if (issues.length > 0) throw new ConfigError(issues);
      running = true;
      bus.on('reading', onReading);
      bus.on('deviceState', onDeviceState);
      bus.on('gatewayStatus', onGatewayStatus);
      bus.on('commandResult', onCommandResult);
      // What the rebuild reads may be unreachable at start (on first start, the time-series
      // store the legacy events are imported from; the database, if it went away since it was
      // opened): the server still starts, readings wait in their device queues, and the rebuild
      // is retried until it succeeds.
      let first = true;
      let startedWaiting: (() => void) | undefined;
      whenLoaded = (async () => {
        for (let attempt = 0; running; attempt++) {
          try {
            await deps.beforeLoad?.();
            load(await records.listAlarmEvents());
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
      offline.stop();
      escalation.cancelAll();
      await queue.settled();
      await events.flush().catch(() => undefined);
      await escalation.stop();
      metrics.dispose();
    },

    list: (filter = {}) => book.list(filter),
    page: (filter) => book.page(filter),
    select: (filter) => book.select(filter),
    alarmsOf: (dev) => book.alarmsOf(dev),
    devices: () => book.devices(),

    get(id) {
      const a = book.get(id);
      return a === undefined ? undefined : { ...a };
    },

    history: async (id) => book.history(id),

    ready: () => loaded,

    whenReady: () => whenLoaded.catch(() => undefined),

    responseInfo: (a) => ({ procedure: procedureFor(a, config), escalation: escalation.state(a) }),

    async acknowledge(id, input) {
      const a = loadedAlarm(id);
      if (!unacked(a))
        throw new AlarmError(
          'alarm_already_acknowledged',
          `alarm ${id} was already acknowledged by ${a.ack?.actor ?? 'someone'}`,
          409,
          id,
        );
      const silenced = await acknowledgeNow(a, input);
      return { alarm: { ...a }, stored: await stored(a, 'acknowledgement'), silence: silenced };
    },

    async resolve(id, input) {
      const a = loadedAlarm(id);
      if (a.resolution !== undefined)
        throw new AlarmError(
          'alarm_already_resolved',
          `alarm ${id} was already resolved by ${a.resolution.actor} (${a.resolution.reason})`,
          409,
          id,
        );
      const silenced = unacked(a) ? await acknowledgeNow(a, input) : null;
      book.resolve(a, { actor: input.actor, at: clock(), reason: input.reason, note: input.note });
      return { alarm: { ...a }, stored: await stored(a, 'resolution'), silence: silenced };
    },

    async respond(id, input) {
      const a = loadedAlarm(id);
      const goes = input.kind !== 'call';
      const silenced = goes && unacked(a) ? await acknowledgeNow(a, input) : null;
      book.respond(a, { ...input, at: clock() } as AlarmResponse);
      return { alarm: { ...a }, stored: await stored(a, input.kind), silence: silenced };
    },

    async maintenance(m) {
      if (!running) return undefined;
      await whenLoaded.catch(() => undefined);
      if (!loaded || !running) return undefined;
      const open = book.openAlarm(m.dev, MAINTENANCE_KEY);
      if (!m.failed) {
        if (open !== undefined && conditionOn(open)) book.clear(open, Math.max(m.at, open.raisedAt));
        return open === undefined ? undefined : { ...open };
      }
      const c: AlarmCondition = {
        key: MAINTENANCE_KEY,
        rule: 'bump_test',
        severity: 'warning',
        value: 0,
        threshold: 0,
        message: m.message,
      };
      if (open !== undefined) {
        if (open.state === 'cleared_unacked') book.reraise(open, m.at, c, false);
        return { ...open };
      }
      // The same failed test seen again (its alarm closed since): no second alarm of it.
      const same = book.get(alarmIdFor(m.dev, MAINTENANCE_KEY, m.at));
      if (same !== undefined) return { ...same };
      const site = m.site ?? rules.siteOf(m.dev);
      return { ...book.raise({ gw: m.gw, dev: m.dev, site, profile: null }, c, m.at, false) };
    },

    notify: escalation.notify,

    offlineWhy: (dev) => (loaded ? offline.why(dev) : null),

    faultFoldOf: (dev) => faults.foldOf(dev) ?? null,

    async idle() {
      for (let i = 0; i < 100; i++) {
        await queue.settled();
        await events.flush().catch(() => undefined);
        await escalation.idle();
        if (queue.pending() === 0 && events.drained()) return;
      }
    },
  };
}
