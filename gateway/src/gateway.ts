/**
 * The gateway: buses with their poll schedulers, local alarms, the outbox and the uplink, wired
 * together. `createGateway` does no I/O; `start()` opens everything, `stop()` closes it in reverse.
 */
import { EventEmitter } from 'node:events';
import {
  type Command,
  CommandSchema,
  type DeviceEvent,
  type DeviceState,
  type GatewayStatus,
  type Profile,
  topics,
} from '@gaswatch/shared';
import type { Logger } from 'pino';
import { type Clock, systemClock } from './clock.js';
import { type BumpTest, bumpLevels, createBumpTest } from './commands/bump-test.js';
import { deviceChange, planBuses, restartOnlyChanges, summarise } from './commands/reload-config.js';
import {
  type BusConfig,
  checkProfiles,
  configFileOf,
  type DeviceConfig,
  type GatewayConfig,
  loadConfig,
  loadConfigProfiles,
} from './config.js';
import { createDriver, type Driver } from './drivers/index.js';
import { ConfigError, DriverError } from './errors.js';
import { createForwarder, type Forwarder } from './forwarder.js';
import { createLocalAlarm, type LocalAlarm } from './local-alarms.js';
import { createOutbox, type Outbox } from './outbox.js';
import { createPoller, type PolledDevice, type Poller } from './poller.js';
import type { Sample } from './sample.js';
import { createUplink, type QueuedMessage, type Uplink } from './uplink.js';
import { VERSION } from './version.js';

export interface GatewayOptions {
  config: GatewayConfig;
  logger: Logger;
  clock?: Clock;
  /** Profiles by id; default: built-ins plus the config's profileDirs. */
  profiles?: Map<string, Profile>;
  /** How long start() waits for the uplink before logging "started" anyway (local safety never waits). */
  uplinkWaitMs?: number;
}

export interface DeviceRuntime extends PolledDevice {
  bus: BusConfig;
  online: boolean | undefined;
  lastError: string | null;
  lastSample: Sample | undefined;
  readings: number;
  alarm: LocalAlarm | undefined;
  /** The bump-test window running for this device, if any (see commands/bump-test.ts). */
  bumpTest: BumpTest | undefined;
}

interface BusSlot {
  bus: BusConfig;
  driver: Driver;
  poller: Poller;
  /** The poller's own device list: edited in place by reload_config. */
  devices: DeviceRuntime[];
  log: Logger;
}

export interface GatewayEvents {
  /** A sample was stored in the outbox with this seq. */
  reading: [DeviceRuntime, Sample, number];
  failure: [DeviceRuntime, Error];
  event: [DeviceRuntime, DeviceEvent];
}

export interface Gateway extends EventEmitter<GatewayEvents> {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Extract<GatewayStatus, { online: true }>;
  readonly devices: ReadonlyMap<string, DeviceRuntime>;
  readonly outbox: Outbox;
  readonly uplink: Uplink;
  /** Runs a command as if it came from the server; resolves with the result. */
  handleCommand(cmd: Command): Promise<{ ok: boolean; message?: string }>;
}

/** CommandResult.message holds at most 512 characters; a longer one is cut with an ellipsis. */
const fitMessage = (m: string) => (m.length <= 512 ? m : `${m.slice(0, 511)}…`);

export function createGateway(opts: GatewayOptions): Gateway {
  // reload_config swaps these for the re-read file (restart-only keys never differ).
  let config = opts.config;
  let profiles = opts.profiles ?? checkProfiles(config);
  const configFile = configFileOf(opts.config);
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  const gw = config.gatewayId;
  const emitter = new EventEmitter<GatewayEvents>();
  const startedAt = clock.now();
  const iso = (ms = clock.now()) => new Date(ms).toISOString();

  const outbox = createOutbox({
    dir: config.outbox.dir,
    maxReadings: config.outbox.maxReadings,
    logger: log.child({ part: 'outbox' }),
  });
  const uplink = createUplink({ config, logger: log.child({ part: 'uplink' }) });
  const forwarder: Forwarder = createForwarder({
    outbox,
    uplink,
    logger: log.child({ part: 'forwarder' }),
    ratePerS: config.outbox.replayRatePerS,
    maxInflight: config.outbox.maxInflight,
  });

  const devices = new Map<string, DeviceRuntime>();
  const slots = new Map<string, BusSlot>();
  let running = false;
  /** reload_config runs one at a time. */
  let reloadChain: Promise<unknown> = Promise.resolve();
  let clockSkewS: number | undefined;
  let statusTimer: NodeJS.Timeout | undefined;
  let skewTimer: NodeJS.Timeout | undefined;
  let lastDroppedLogged = 0;

  function deviceState(d: DeviceRuntime): DeviceState {
    return {
      v: 1,
      ts: iso(),
      online: d.online === true,
      model: d.profile.id,
      kind: d.profile.kind,
      site: d.config.site,
      location: d.config.location,
      lastError: d.lastError ? d.lastError.slice(0, 500) : null,
      pollIntervalS: d.config.pollIntervalS,
    };
  }

  function publishState(d: DeviceRuntime): void {
    if (!uplink.connected) return; // republished on connect
    uplink
      .publish('state', deviceState(d), { dev: d.config.id })
      .catch((err: Error) => d.log.debug({ err: err.message }, 'state publish failed'));
  }

  function emitEvent(d: DeviceRuntime, e: Omit<DeviceEvent, 'v'>): void {
    const event: DeviceEvent = { v: 1, ...e };
    let message: QueuedMessage;
    try {
      message = uplink.encode('event', event, { dev: d.config.id });
    } catch (err) {
      d.log.error({ err, event }, 'event does not match the DeviceEvent schema; not published');
      return;
    }
    emitter.emit('event', d, event);
    outbox
      .appendEvent(message.topic, message.payload)
      .then(() => forwarder.kick())
      .catch((err: Error) => d.log.error({ err }, 'could not store event in the outbox'));
  }

  const status = (): Extract<GatewayStatus, { online: true }> => {
    const s: Extract<GatewayStatus, { online: true }> = {
      v: 1,
      online: true,
      ts: iso(),
      version: VERSION,
      uptimeS: Math.max(0, Math.round((clock.now() - startedAt) / 1000)),
      outboxDepth: outbox.depth,
      outboxDropped: outbox.dropped,
    };
    if (clockSkewS !== undefined) {
      s.clockSkewS = Math.round(clockSkewS * 1000) / 1000;
      s.clockSuspect = Math.abs(clockSkewS) > config.clock.maxSkewS;
    }
    return s;
  };

  function publishStatus(): void {
    if (outbox.dropped > lastDroppedLogged) {
      log.warn({ outboxDropped: outbox.dropped }, 'outbox has dropped readings');
      lastDroppedLogged = outbox.dropped;
    }
    if (!uplink.connected) return;
    uplink
      .publish('status', status())
      .catch((err: Error) => log.debug({ err: err.message }, 'status publish failed'));
  }

  function noteReference(refMs: number, source: string): void {
    if (!Number.isFinite(refMs)) return;
    const skew = (clock.now() - refMs) / 1000;
    const suspect = Math.abs(skew) > config.clock.maxSkewS;
    const wasSuspect = clockSkewS !== undefined && Math.abs(clockSkewS) > config.clock.maxSkewS;
    clockSkewS = skew;
    if (suspect && !wasSuspect)
      log.error(
        { clockSkewS: skew, source, maxSkewS: config.clock.maxSkewS },
        'gateway clock is far from the reference time; readings carry this clock',
      );
    else if (!suspect && wasSuspect)
      log.info({ clockSkewS: skew, source }, 'gateway clock agrees with the reference again');
    if (suspect !== wasSuspect) publishStatus();
  }

  async function checkReferenceUrl(): Promise<void> {
    const url = config.clock.referenceUrl;
    if (!url) return;
    try {
      const t0 = clock.now();
      const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
      const date = res.headers.get('date');
      if (date) noteReference(Date.parse(date) + (clock.now() - t0) / 2, url);
    } catch (err) {
      log.debug({ err: (err as Error).message, url }, 'clock reference unavailable');
    }
  }

  async function onSample(d: DeviceRuntime, sample: Sample): Promise<void> {
    d.lastSample = sample;
    if (d.online !== true) {
      d.log.info(
        { values: sample.values, status: sample.status },
        d.online === false ? 'detector answers again' : 'detector online',
      );
      d.online = true;
      d.lastError = null;
      publishState(d);
    }
    // Local safety first: it needs neither disk nor network, and a bump test never mutes it.
    if (d.alarm) {
      try {
        await d.alarm.onSample(sample);
      } catch (err) {
        d.log.error({ err }, 'local alarm evaluation failed');
      }
    }
    const status = d.bumpTest ? d.bumpTest.onSample(sample) : sample.status;
    const seq = await outbox.appendReading(d.config.id, (seq) =>
      uplink.encode(
        'reading',
        {
          v: 1,
          ts: iso(sample.ts),
          seq,
          values: sample.values,
          status,
          ...(sample.faults ? { faults: sample.faults.map((f) => f.slice(0, 64)).slice(0, 32) } : {}),
          ...(sample.quality ? { quality: sample.quality } : {}),
          ...(sample.alarm !== undefined ? { alarm: sample.alarm } : {}),
        },
        { dev: d.config.id },
      ),
    );
    d.readings++;
    forwarder.kick();
    emitter.emit('reading', d, sample, seq);
  }

  function onFailure(d: DeviceRuntime, err: Error, bus: BusConfig): void {
    const code = (err as { code?: string }).code ?? 'ERROR';
    const msg = `${code}: ${err.message}`;
    d.lastError = msg;
    emitter.emit('failure', d, err);
    if (d.failures === 1 || d.failures === bus.offlineAfter)
      d.log.warn({ code, err: err.message, failures: d.failures }, 'read failed');
    else d.log.debug({ code, err: err.message, failures: d.failures }, 'read failed');
    if (d.failures >= bus.offlineAfter && d.online !== false) {
      d.online = false;
      d.log.error({ code, err: err.message, offlinePollS: bus.offlinePollS }, 'detector offline');
      publishState(d);
      emitEvent(d, {
        ts: iso(),
        type: 'fault',
        severity: 'warning',
        message: `detector not answering: ${msg}`.slice(0, 500),
      });
    }
  }

  /**
   * The driver a local alarm writes coils through: whatever driver the device's bus has now, so a
   * bus reopened by reload_config keeps the device's alarm state and outputs working.
   */
  function busDriver(busId: string): Driver {
    const current = () => {
      const slot = slots.get(busId);
      if (!slot) throw new DriverError('ENOTSTARTED', `bus ${busId} is not running`);
      return slot.driver;
    };
    return {
      get open() {
        return slots.get(busId)?.driver.open ?? false;
      },
      start: () => current().start(),
      stop: () => current().stop(),
      read: (device) => current().read(device),
      writeCoil: (device, coil, value) => current().writeCoil(device, coil, value),
      readCoils: (device, coil, count) => current().readCoils(device, coil, count),
    };
  }

  const deviceLog = (busLog: Logger, bus: BusConfig, dc: DeviceConfig) =>
    busLog.child(bus.type === 'winsen' ? { device: dc.id } : { unit: dc.unit, device: dc.id });

  function newRuntime(dc: DeviceConfig, bus: BusConfig, busLog: Logger): DeviceRuntime {
    const profile = profiles.get(dc.profile);
    if (!profile) throw new Error(`unknown profile ${dc.profile}`);
    const d: DeviceRuntime = {
      config: dc,
      profile,
      log: deviceLog(busLog, bus, dc),
      failures: 0,
      due: clock.now(),
      bus,
      online: undefined,
      lastError: null,
      lastSample: undefined,
      readings: 0,
      alarm: undefined,
      bumpTest: undefined,
    };
    if (dc.localAlarms)
      d.alarm = createLocalAlarm({
        config,
        clock,
        driver: busDriver(bus.id),
        device: d,
        emit: (e) => emitEvent(d, e),
      });
    return d;
  }

  /** A bus with its driver and poller (no I/O); `reuse` may hand back a running device to keep. */
  function buildSlot(bus: BusConfig, reuse: (dc: DeviceConfig) => DeviceRuntime | undefined): BusSlot {
    const busLog = log.child({ bus: bus.id });
    let poller: Poller | undefined;
    const driver = createDriver(bus, { logger: busLog, clock, onReopen: () => poller?.pollAllNow() });
    const polled = bus.devices.map((dc) => {
      const kept = reuse(dc);
      const d = kept ?? newRuntime(dc, bus, busLog);
      if (kept) {
        kept.config = dc;
        kept.bus = bus;
        kept.failures = 0;
        kept.log = deviceLog(busLog, bus, dc);
      }
      devices.set(dc.id, d);
      return d;
    });
    poller = createPoller({
      bus,
      driver,
      devices: polled,
      clock,
      logger: busLog,
      isOffline: (d) => (d as DeviceRuntime).online === false,
      hooks: {
        onSample: (d, s) => onSample(d as DeviceRuntime, s),
        onFailure: (d, e) => onFailure(d as DeviceRuntime, e, (d as DeviceRuntime).bus),
      },
    });
    return { bus, driver, poller, devices: polled, log: busLog };
  }

  async function startSlot(slot: BusSlot): Promise<void> {
    await slot.driver.start();
    slot.poller.start();
  }

  async function stopSlot(slot: BusSlot): Promise<void> {
    await slot.poller.stop();
    await slot.driver.stop();
  }

  /** A device that left the configuration: no more readings; the server learns why. */
  function retire(d: DeviceRuntime, removed: boolean): void {
    d.bumpTest?.cancel(removed ? 'device removed from the configuration' : 'device replaced');
    d.bumpTest = undefined;
    if (devices.get(d.config.id) === d) devices.delete(d.config.id);
    if (!removed) return;
    d.online = false;
    d.lastError = 'removed from the gateway configuration';
    publishState(d);
  }

  // Build (no I/O yet).
  for (const bus of config.buses)
    slots.set(
      bus.id,
      buildSlot(bus, () => undefined),
    );

  /**
   * reload_config: re-reads the --config file. Invalid → nothing changes. Restart-only keys changed
   * → nothing changes. Otherwise buses and devices are added, removed, reopened or edited; buses
   * that did not change keep polling undisturbed.
   */

  /** Ids of devices whose local alarm is busy and that `next` would not keep as they are. */
  function busyDevicesRetiredBy(next: GatewayConfig, nextProfiles: Map<string, Profile>): string[] {
    const out: string[] = [];
    for (const d of devices.values()) {
      if (!d.alarm?.busy) continue;
      const nextBus = next.buses.find((b) => b.devices.some((x) => x.id === d.config.id));
      const dc = nextBus?.devices.find((x) => x.id === d.config.id);
      const kept =
        nextBus !== undefined &&
        dc !== undefined &&
        nextBus.id === d.bus.id &&
        deviceChange(d.config, dc, profiles.get(d.config.profile), nextProfiles.get(dc.profile)) !==
          'replace';
      if (!kept) out.push(d.config.id);
    }
    return out;
  }
  async function reloadConfig(): Promise<{ ok: boolean; message: string }> {
    if (!configFile)
      return { ok: false, message: 'this gateway was not started from a config file; nothing to reload' };
    let next: GatewayConfig;
    let nextProfiles: Map<string, Profile>;
    try {
      next = loadConfig(configFile);
      nextProfiles = loadConfigProfiles(next, configFile);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      log.warn(
        { file: configFile, issues: err.issues },
        'reload_config: invalid config; running config kept',
      );
      return { ok: false, message: `invalid config ${configFile}: ${err.issues.join('; ')}` };
    }
    const restart = restartOnlyChanges(config, next);
    if (restart.length) {
      log.warn(
        { file: configFile, keys: restart },
        'reload_config: changes need a restart; running config kept',
      );
      return {
        ok: false,
        message: `not applied, these keys need a restart of the gateway: ${restart.join(', ')}; nothing changed`,
      };
    }

    // A device the reload would retire (removed, moved or replaced: new profile, unit, outputs or
    // local alarm settings) loses its local alarm state, including valve/fan writes still being
    // retried. Never while its local safety is acting: the duty officer reloads once it settled.
    const busy = busyDevicesRetiredBy(next, nextProfiles);
    if (busy.length) {
      log.warn(
        { file: configFile, devices: busy },
        'reload_config: devices in local alarm would be replaced; running config kept',
      );
      return {
        ok: false,
        message: `not applied: ${busy.join(', ')} in local alarm or still switching outputs would be removed or replaced; reload once it has cleared; nothing changed`,
      };
    }

    const plan = planBuses(config.buses, next.buses);
    const oldIds = new Set(devices.keys());
    const nextIds = new Set(next.buses.flatMap((b) => b.devices.map((d) => d.id)));
    let changed = 0;
    const prevProfiles = profiles;
    profiles = nextProfiles;
    config = next;

    // Phase 1: close what goes away or is reopened, take departing devices off edited buses.
    for (const id of plan.removed) {
      const slot = slots.get(id);
      if (!slot) continue;
      if (running) await stopSlot(slot);
      slots.delete(id);
      for (const d of slot.devices) retire(d, !nextIds.has(d.config.id));
    }
    const reopenedOld = new Map<string, BusSlot>();
    for (const b of plan.reopened) {
      const slot = slots.get(b.id);
      if (!slot) continue;
      if (running) await stopSlot(slot);
      slots.delete(b.id);
      reopenedOld.set(b.id, slot);
    }
    for (const b of plan.edited) {
      const slot = slots.get(b.id);
      if (!slot) continue;
      const ids = new Set(b.devices.map((d) => d.id));
      for (const d of slot.devices) if (!ids.has(d.config.id)) retire(d, !nextIds.has(d.config.id));
    }

    // Phase 2: reopened and added buses, then device edits on buses that keep running.
    const toStart: BusSlot[] = [];
    for (const b of plan.reopened) {
      const old = reopenedOld.get(b.id);
      const slot = buildSlot(b, (dc) => {
        const o = old?.devices.find((x) => x.config.id === dc.id);
        if (!o) return undefined;
        const c = deviceChange(
          o.config,
          dc,
          prevProfiles.get(o.config.profile),
          nextProfiles.get(dc.profile),
        );
        if (c !== 'same') changed++;
        if (c !== 'replace') return o;
        retire(o, false);
        return undefined;
      });
      for (const o of old?.devices ?? [])
        if (!b.devices.some((dc) => dc.id === o.config.id)) retire(o, !nextIds.has(o.config.id));
      slots.set(b.id, slot);
      toStart.push(slot);
    }
    for (const b of plan.added) {
      const slot = buildSlot(b, () => undefined);
      slots.set(b.id, slot);
      toStart.push(slot);
    }
    for (const b of plan.edited) {
      const slot = slots.get(b.id);
      if (!slot) continue;
      const list: DeviceRuntime[] = [];
      for (const dc of b.devices) {
        const o = slot.devices.find((x) => x.config.id === dc.id);
        const c = o
          ? deviceChange(o.config, dc, prevProfiles.get(o.config.profile), nextProfiles.get(dc.profile))
          : 'replace';
        if (o && c !== 'replace') {
          if (c === 'settings') {
            o.config = dc;
            o.log = deviceLog(slot.log, b, dc);
            changed++;
          }
          list.push(o);
          continue;
        }
        if (o) {
          retire(o, false);
          changed++;
        }
        // Polled when the poller next wakes (within one poll interval of the bus's devices).
        const d = newRuntime(dc, b, slot.log);
        devices.set(dc.id, d);
        list.push(d);
      }
      slot.devices.splice(0, slot.devices.length, ...list);
      slot.bus = b;
    }
    if (running) await Promise.all(toStart.map((s) => startSlot(s)));

    // Devices that moved from one bus to another count as changed, not added and removed.
    const added = [...nextIds].filter((id) => !oldIds.has(id)).length;
    const removed = [...oldIds].filter((id) => !nextIds.has(id)).length;
    const moved = [...nextIds].filter((id) => {
      if (!oldIds.has(id)) return false;
      const before = prevBusOf.get(id);
      return before !== undefined && before !== devices.get(id)?.bus.id;
    }).length;
    const summary = summarise({
      added,
      removed,
      changed: changed + moved,
      busesAdded: plan.added.map((b) => b.id),
      busesRemoved: plan.removed,
      busesReopened: plan.reopened.map((b) => b.id),
    });
    refreshBusIndex();
    log.info({ file: configFile, summary, devices: devices.size, buses: slots.size }, 'config reloaded');
    return { ok: true, message: summary };
  }

  /** Which bus each device was on at the last (re)load, to tell a move from an edit. */
  const prevBusOf = new Map<string, string>();
  function refreshBusIndex(): void {
    prevBusOf.clear();
    for (const d of devices.values()) prevBusOf.set(d.config.id, d.bus.id);
  }
  refreshBusIndex();

  function startBumpTest(id: string): { ok: boolean; message: string } {
    const d = devices.get(id);
    if (!d)
      return {
        ok: false,
        message: `no device "${id}" on this gateway (devices: ${[...devices.keys()].join(', ') || 'none'})`,
      };
    if (d.bumpTest)
      return {
        ok: false,
        message: `a bump test of ${id} is already running until ${iso(d.bumpTest.endsAt)}`,
      };
    if (d.online === false)
      return {
        ok: false,
        message: `${id} is not answering (${d.lastError ?? 'offline'}); a bump test needs a detector that answers`,
      };
    const levels = bumpLevels(d.profile, config);
    if (!levels.length)
      return { ok: false, message: `profile ${d.profile.id} has no alarm level to bump-test against` };
    const windowS = config.bumpTestS;
    const bt: BumpTest = createBumpTest({
      deviceId: id,
      levels,
      windowMs: windowS * 1000,
      clock,
      logger: d.log,
      emit: (e) => emitEvent(d, e),
      onEnd: () => {
        if (d.bumpTest === bt) d.bumpTest = undefined;
      },
    });
    d.bumpTest = bt;
    const pass = levels.map((l) => `${l.gas} ${l.op === '<' ? '<' : '≥'} ${l.level} ${l.unit}`).join(', ');
    return {
      ok: true,
      message: `bump test of ${id} started: ${windowS} s window, readings carry status bump_test, passes at ${pass}; local alarms stay armed`,
    };
  }

  async function handleCommand(cmd: Command): Promise<{ ok: boolean; message?: string }> {
    switch (cmd.type) {
      case 'silence': {
        const targets = cmd.device
          ? [devices.get(cmd.device)].filter((d) => d !== undefined)
          : [...devices.values()];
        if (cmd.device && !targets.length)
          return { ok: false, message: `no device "${cmd.device}" on this gateway` };
        const withSounder = targets.filter(
          (d) =>
            d.alarm &&
            d.profile.transport === 'modbus' &&
            d.profile.outputs.some((o) => o.name === 'sounder'),
        );
        if (!withSounder.length)
          return {
            ok: false,
            message: `${cmd.device ?? 'no device on this gateway'} has no sounder this gateway switches (the profile has no sounder output, or local alarms are off): a detector's own buzzer can only be silenced on site`,
          };
        const results = await Promise.all(withSounder.map((d) => d.alarm!.silence(clock.now())));
        const failed = withSounder.filter((_, i) => !results[i]).map((d) => d.config.id);
        return failed.length
          ? { ok: false, message: `could not switch the sounder of ${failed.join(', ')}; retrying` }
          : { ok: true, message: `silenced ${withSounder.map((d) => d.config.id).join(', ')}` };
      }
      case 'reload_config': {
        const run = reloadChain.then(reloadConfig, reloadConfig);
        reloadChain = run.catch(() => undefined);
        return run;
      }
      case 'bump_test':
        return startBumpTest(cmd.device);
    }
  }

  const onCommand = (raw: Buffer) => {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      log.warn({ topic: topics.cmd(gw) }, 'command is not JSON; ignored');
      return;
    }
    const parsed = CommandSchema.safeParse(json);
    if (!parsed.success) {
      const message = parsed.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      log.warn({ topic: topics.cmd(gw), message }, 'invalid command');
      const id = (json as { id?: unknown })?.id;
      if (typeof id === 'string' && id.length > 0 && id.length <= 64)
        uplink
          .publish('cmdResult', { v: 1, id, ok: false, ts: iso(), message: message.slice(0, 500) })
          .catch(() => {});
      return;
    }
    const cmd = parsed.data;
    log.info({ cmd }, 'command received');
    void handleCommand(cmd)
      .catch((err: Error) => ({ ok: false, message: err.message }))
      .then((r) =>
        uplink.publish('cmdResult', {
          v: 1,
          id: cmd.id,
          ok: r.ok,
          ts: iso(),
          ...(r.message ? { message: fitMessage(r.message) } : {}),
        }),
      )
      .catch((err: Error) => log.warn({ err: err.message, id: cmd.id }, 'command result not published'));
  };
  const onConnect = () => {
    publishStatus();
    for (const d of devices.values()) if (d.online !== undefined) publishState(d);
  };
  const onMessage = (topic: string, payload: Buffer) => {
    if (topic !== config.clock.referenceTopic) return;
    const text = payload.toString('utf8').trim();
    const n = Number(text);
    noteReference(Number.isFinite(n) && text !== '' ? n : Date.parse(text.replace(/^"|"$/g, '')), topic);
  };

  const gateway = Object.assign(emitter, {
    devices,
    outbox,
    uplink,
    status,
    handleCommand,
    async start() {
      await outbox.start();
      uplink.on('command', onCommand);
      uplink.on('connect', onConnect);
      uplink.on('message', onMessage);
      if (config.clock.referenceTopic) uplink.subscribe(config.clock.referenceTopic);
      uplink.start();
      forwarder.start();
      running = true;
      await Promise.all([...slots.values()].map((b) => b.driver.start()));
      for (const b of slots.values()) b.poller.start();
      statusTimer = setInterval(publishStatus, config.uplink.statusIntervalS * 1000);
      if (config.clock.referenceUrl) {
        void checkReferenceUrl();
        skewTimer = setInterval(() => void checkReferenceUrl(), 300_000);
      }
      const up = await uplink.waitConnected(opts.uplinkWaitMs ?? 10_000);
      log.info(
        {
          gatewayId: gw,
          version: VERSION,
          buses: [...slots.values()].map((b) => ({ id: b.bus.id, type: b.bus.type, open: b.driver.open })),
          devices: devices.size,
          uplink: up,
          outboxDepth: outbox.depth,
        },
        'started',
      );
    },
    async stop() {
      if (statusTimer) clearInterval(statusTimer);
      if (skewTimer) clearInterval(skewTimer);
      running = false;
      await reloadChain;
      for (const d of devices.values()) d.bumpTest?.cancel('gateway stopping');
      for (const b of slots.values()) await b.poller.stop();
      await Promise.all([...slots.values()].map((b) => b.driver.stop()));
      await forwarder.stop();
      await uplink.stop();
      uplink.off('command', onCommand);
      uplink.off('connect', onConnect);
      uplink.off('message', onMessage);
      await outbox.stop();
      log.info('stopped');
    },
  });
  return gateway as Gateway;
}
