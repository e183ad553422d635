/**
 * The gateway, composed: the outbox, uplink and forwarder; the device reports (samples, failures
 * and events on their way to the outbox) and state publication; the buses with their drivers,
 * pollers and local alarms; the status heartbeat and clock check; the command dispatcher; the
 * health summary the systemd watchdog reads.
 * `createGateway` does no I/O; `start()` opens everything, `stop()` closes it in reverse.
 */
import { EventEmitter } from 'node:events';
import type { Command, Profile } from '@gaswatch/shared';
import type { Logger } from 'pino';
import { createBuses } from './buses.js';
import { type Clock, systemClock } from './clock.js';
import { createClockCheck } from './clock-check.js';
import { type CommandOutcome, createCommands } from './commands/index.js';
import { checkProfiles, configFileOf, type GatewayConfig } from './config.js';
import { createDeviceReports } from './device-reports.js';
import { createDeviceStates } from './device-state.js';
import { createForwarder } from './forwarder.js';
import { checkHealth, type GatewayHealth } from './health.js';
import { discoveryMessages } from './home-assistant.js';
import { createOutbox, type Outbox } from './outbox.js';
import type { DeviceRuntime, GatewayEvents, LiveConfig } from './runtime.js';
import { createStatusHeartbeat, type OnlineStatus } from './status.js';
import { createUplink, type Uplink } from './uplink.js';
import { VERSION } from './version.js';

export type { DeviceRuntime, GatewayEvents } from './runtime.js';

export interface GatewayOptions {
  config: GatewayConfig;
  logger: Logger;
  clock?: Clock;
  /** Profiles by id; default: built-ins plus the config's profileDirs. */
  profiles?: Map<string, Profile>;
  /** How long start() waits for the uplink before logging "started" anyway (local safety never waits). */
  uplinkWaitMs?: number;
}

export interface Gateway extends EventEmitter<GatewayEvents> {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): OnlineStatus;
  /** Poll loops alive, buses waiting for their adapter, detectors answering (systemd watchdog and STATUS=). */
  health(): GatewayHealth;
  readonly devices: ReadonlyMap<string, DeviceRuntime>;
  readonly outbox: Outbox;
  readonly uplink: Uplink;
  /** Runs a command as if it came from the server; resolves with the result. */
  handleCommand(cmd: Command): Promise<CommandOutcome>;
}

export function createGateway(opts: GatewayOptions): Gateway {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  /** What reload_config swaps (restart-only keys never differ, so `config` stays right for the rest). */
  const live: LiveConfig = { config, profiles: opts.profiles ?? checkProfiles(config) };
  const emitter = new EventEmitter<GatewayEvents>();
  let running = false;

  const outbox = createOutbox({
    dir: config.outbox.dir,
    maxReadings: config.outbox.maxReadings,
    commitMs: config.outbox.commitMs,
    keepWritten: true,
    logger: log.child({ part: 'outbox' }),
  });
  const uplink = createUplink({ config, logger: log.child({ part: 'uplink' }) });
  const forwarder = createForwarder({
    outbox,
    uplink,
    logger: log.child({ part: 'forwarder' }),
    ratePerS: config.outbox.replayRatePerS,
    maxInflight: config.outbox.maxInflight,
  });
  const states = createDeviceStates({ uplink, clock });
  const reports = createDeviceReports({ outbox, forwarder, uplink, states, clock, emitter });
  const buses = createBuses({ live, clock, logger: log, reports, states });
  const clockCheck = createClockCheck({
    config: config.clock,
    clock,
    uplink,
    logger: log,
    onSuspectChange: () => heartbeat.publish(),
  });
  const heartbeat = createStatusHeartbeat({
    intervalS: config.uplink.statusIntervalS,
    clock,
    outbox,
    uplink,
    clockCheck,
    buses: () => [...buses.slots.values()].map((s) => ({ id: s.bus.id, open: s.driver.open })),
    logger: log,
  });
  const commands = createCommands({
    live,
    buses,
    reports,
    uplink,
    clock,
    logger: log,
    configFile: configFileOf(config),
    running: () => running,
    onReloaded: () => publishDiscovery(),
  });

  /** Home Assistant discovery topics this process has published (for removing what left the config). */
  const discovered = new Set<string>();
  /**
   * On every connect and after every reload_config: the discovery configs of the devices as they
   * are now, and an empty retained config (which deletes the entities in Home Assistant) for what
   * this process published before and is no longer there (a detector removed, discovery turned off).
   */
  function publishDiscovery(): void {
    if (!uplink.connected) return; // published on connect
    const ha = live.config.homeAssistant;
    const messages = ha.discovery
      ? discoveryMessages({
          gatewayId: config.gatewayId,
          prefix: ha.prefix,
          devices: [...buses.devices.values()],
        })
      : [];
    const now = new Set(messages.map((m) => m.topic));
    for (const topic of discovered) if (!now.has(topic)) messages.push({ topic, payload: '' });
    for (const m of messages) {
      if (m.payload) discovered.add(m.topic);
      else discovered.delete(m.topic);
      uplink
        .publishForeign(m.topic, m.payload, { retain: true })
        .catch((err: Error) =>
          log.warn({ err: err.message, topic: m.topic }, 'Home Assistant discovery publish failed'),
        );
    }
  }

  const onConnect = () => {
    heartbeat.publish();
    states.publishAll(buses.devices.values());
    publishDiscovery();
  };

  const gateway = Object.assign(emitter, {
    devices: buses.devices,
    outbox,
    uplink,
    status: heartbeat.current,
    health: () =>
      checkHealth({ slots: buses.slots.values(), devices: buses.devices.values(), uplink, outbox }),
    handleCommand: commands.run,
    async start() {
      await outbox.start();
      uplink.on('command', commands.receive);
      uplink.on('connect', onConnect);
      clockCheck.start();
      uplink.start();
      forwarder.start();
      running = true;
      await buses.start();
      heartbeat.start();
      const up = await uplink.waitConnected(opts.uplinkWaitMs ?? 10_000);
      log.info(
        {
          gatewayId: config.gatewayId,
          version: VERSION,
          buses: [...buses.slots.values()].map((b) => ({
            id: b.bus.id,
            type: b.bus.type,
            open: b.driver.open,
          })),
          devices: buses.devices.size,
          uplink: up,
          outboxDepth: outbox.depth,
        },
        'started',
      );
    },
    async stop() {
      heartbeat.stop();
      clockCheck.stop();
      // No bus opens from here on: a reload under way leaves the buses it adds unopened.
      running = false;
      await commands.stop();
      await buses.stop();
      await forwarder.stop();
      await uplink.stop();
      uplink.off('command', commands.receive);
      uplink.off('connect', onConnect);
      await outbox.stop();
      log.info('stopped');
    },
  });
  return gateway as Gateway;
}
