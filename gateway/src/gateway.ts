/**
 * The gateway: buses with their poll schedulers, local alarms, the outbox and the uplink, wired
 * together. `createGateway` does no I/O; `start()` opens everything, `stop()` closes it in reverse.
 */
import { EventEmitter } from 'node:events';
import {
  type Command,
  type DeviceEvent,
  type DeviceState,
  encodePayload,
  type GatewayStatus,
  type Profile,
  topics,
} from '@gaswatch/shared';
import type { Logger } from 'pino';
import { type Clock, systemClock } from './clock.js';
import { type BusConfig, checkProfiles, type GatewayConfig } from './config.js';
import { createDriver, type Driver } from './drivers/index.js';
import { createForwarder, type Forwarder } from './forwarder.js';
import { createLocalAlarm, type LocalAlarm } from './local-alarms.js';
import { createOutbox, type Outbox } from './outbox.js';
import { createPoller, type PolledDevice, type Poller } from './poller.js';
import type { Sample } from './sample.js';
import { createUplink, type Uplink } from './uplink.js';
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

export function createGateway(opts: GatewayOptions): Gateway {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  const gw = config.gatewayId;
  const profiles = opts.profiles ?? checkProfiles(config);
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
  const buses: { bus: BusConfig; driver: Driver; poller: Poller }[] = [];
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
      .publish('state', topics.state(gw, d.config.id), deviceState(d))
      .catch((err: Error) => d.log.debug({ err: err.message }, 'state publish failed'));
  }

  function emitEvent(d: DeviceRuntime, e: Omit<DeviceEvent, 'v'>): void {
    const event: DeviceEvent = { v: 1, ...e };
    let payload: string;
    try {
      payload = encodePayload('event', event).toString('utf8');
    } catch (err) {
      d.log.error({ err, event }, 'event does not match the DeviceEvent schema; not published');
      return;
    }
    emitter.emit('event', d, event);
    outbox
      .appendEvent(topics.event(gw, d.config.id), payload)
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
      .publish('status', topics.status(gw), status())
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
    // Local safety first: it needs neither disk nor network.
    if (d.alarm) {
      try {
        await d.alarm.onSample(sample);
      } catch (err) {
        d.log.error({ err }, 'local alarm evaluation failed');
      }
    }
    const seq = await outbox.appendReading(d.config.id, (seq) => ({
      topic: topics.reading(gw, d.config.id),
      payload: encodePayload('reading', {
        v: 1,
        ts: iso(sample.ts),
        seq,
        values: sample.values,
        status: sample.status,
        ...(sample.faults ? { faults: sample.faults.map((f) => f.slice(0, 64)).slice(0, 32) } : {}),
        ...(sample.quality ? { quality: sample.quality } : {}),
        ...(sample.alarm !== undefined ? { alarm: sample.alarm } : {}),
      }).toString('utf8'),
    }));
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

  // Build (no I/O yet).
  for (const bus of config.buses) {
    const busLog = log.child({ bus: bus.id });
    let poller: Poller | undefined;
    const driver = createDriver(bus, { logger: busLog, clock, onReopen: () => poller?.pollAllNow() });
    const polled: DeviceRuntime[] = bus.devices.map((dc) => {
      const profile = profiles.get(dc.profile);
      if (!profile) throw new Error(`unknown profile ${dc.profile}`);
      const d: DeviceRuntime = {
        config: dc,
        profile,
        log: busLog.child(bus.type === 'winsen' ? { device: dc.id } : { unit: dc.unit, device: dc.id }),
        failures: 0,
        due: 0,
        bus,
        online: undefined,
        lastError: null,
        lastSample: undefined,
        readings: 0,
        alarm: undefined,
      };
      if (dc.localAlarms)
        d.alarm = createLocalAlarm({ config, driver, device: d, emit: (e) => emitEvent(d, e) });
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
        onFailure: (d, e) => onFailure(d as DeviceRuntime, e, bus),
      },
    });
    buses.push({ bus, driver, poller });
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
        if (!withSounder.length) return { ok: false, message: 'no sounder to silence' };
        const results = await Promise.all(withSounder.map((d) => d.alarm!.silence(clock.now())));
        const failed = withSounder.filter((_, i) => !results[i]).map((d) => d.config.id);
        return failed.length
          ? { ok: false, message: `could not switch the sounder of ${failed.join(', ')}; retrying` }
          : { ok: true, message: `silenced ${withSounder.map((d) => d.config.id).join(', ')}` };
      }
      case 'reload_config':
        return { ok: false, message: 'reload_config is not supported by this gateway; restart the service' };
      case 'bump_test':
        return { ok: false, message: 'bump_test is not supported by this gateway yet' };
    }
  }

  const onCommand = (cmd: Command) => {
    log.info({ cmd }, 'command received');
    void handleCommand(cmd)
      .catch((err: Error) => ({ ok: false, message: err.message }))
      .then((r) =>
        uplink.publish('cmdResult', topics.cmdResult(gw), {
          v: 1,
          id: cmd.id,
          ok: r.ok,
          ts: iso(),
          ...(r.message ? { message: r.message.slice(0, 500) } : {}),
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
      await Promise.all(buses.map((b) => b.driver.start()));
      for (const b of buses) b.poller.start();
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
          buses: buses.map((b) => ({ id: b.bus.id, type: b.bus.type, open: b.driver.open })),
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
      for (const b of buses) await b.poller.stop();
      await Promise.all(buses.map((b) => b.driver.stop()));
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
