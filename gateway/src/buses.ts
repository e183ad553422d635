/**
 * The buses the gateway runs, each a driver with its poll scheduler and devices, and the registry
 * of every device by id. Built from the config without I/O; `reload_config` adds, reopens, edits
 * and removes buses and devices through the operations here (commands/reload-config.ts decides
 * which).
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { BusConfig, DeviceConfig } from './config.js';
import type { DeviceReports } from './device-reports.js';
import type { DeviceStates } from './device-state.js';
import { createDriver, type Driver } from './drivers/index.js';
import { DriverError } from './errors.js';
import { createLocalAlarm } from './local-alarms.js';
import { createPoller, type Poller } from './poller.js';
import type { DeviceRuntime, LiveConfig } from './runtime.js';

export interface BusSlot {
  bus: BusConfig;
  driver: Driver;
  poller: Poller;
  /** The poller's own device list: edited in place by reload_config. */
  devices: DeviceRuntime[];
  log: Logger;
}

export interface Buses {
  /** Every device on a bus, by id. */
  readonly devices: Map<string, DeviceRuntime>;
  /** Every bus, by id. */
  readonly slots: Map<string, BusSlot>;
  /**
   * A bus with its driver and poller (no I/O), its devices registered in `devices`; `reuse` may
   * hand back a running device to keep (its alarm state, seq and bump test stay).
   */
  build(bus: BusConfig, reuse?: (dc: DeviceConfig) => DeviceRuntime | undefined): BusSlot;
  /** A fresh device (fresh local alarm state), registered in `devices`. */
  addDevice(dc: DeviceConfig, bus: BusConfig, busLog: Logger): DeviceRuntime;
  startSlot(slot: BusSlot): Promise<void>;
  stopSlot(slot: BusSlot): Promise<void>;
  /** A device that left the configuration (`removed`) or is replaced: no more readings. */
  retire(d: DeviceRuntime, removed: boolean): void;
  /** Opens every bus, then starts polling. */
  start(): Promise<void>;
  /** Stops polling, then closes every bus. */
  stop(): Promise<void>;
}

/** Every line about a device carries its bus, unit (Modbus) and id. */
export const deviceLog = (busLog: Logger, bus: BusConfig, dc: DeviceConfig) =>
  busLog.child(bus.type === 'winsen' ? { device: dc.id } : { unit: dc.unit, device: dc.id });

export function createBuses(opts: {
  live: LiveConfig;
  clock: Clock;
  logger: Logger;
  reports: DeviceReports;
  states: DeviceStates;
}): Buses {
  const { live, clock, logger: log, reports, states } = opts;
  const devices = new Map<string, DeviceRuntime>();
  const slots = new Map<string, BusSlot>();

  /**
   * The driver a local alarm writes its outputs through: whatever driver the device's bus has now,
   * so a bus reopened by reload_config keeps the device's alarm state and outputs working.
   */
  function currentDriver(busId: string): Driver {
    const current = () => {
      const slot = slots.get(busId);
      if (!slot) throw new DriverError('bus_not_started', `bus ${busId} is not running`);
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

  function newRuntime(dc: DeviceConfig, bus: BusConfig, busLog: Logger): DeviceRuntime {
    const profile = live.profiles.get(dc.profile);
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
        config: live.config,
        clock,
        driver: currentDriver(bus.id),
        device: d,
        emit: (e) => reports.event(d, e),
      });
    return d;
  }

  function addDevice(dc: DeviceConfig, bus: BusConfig, busLog: Logger): DeviceRuntime {
    const d = newRuntime(dc, bus, busLog);
    devices.set(dc.id, d);
    return d;
  }

  function build(bus: BusConfig, reuse?: (dc: DeviceConfig) => DeviceRuntime | undefined): BusSlot {
    const busLog = log.child({ bus: bus.id });
    let poller: Poller | undefined;
    const driver = createDriver(bus, { logger: busLog, clock, onReopen: () => poller?.pollAllNow() });
    const polled = bus.devices.map((dc) => {
      const kept = reuse?.(dc);
      if (!kept) return addDevice(dc, bus, busLog);
      kept.config = dc;
      kept.bus = bus;
      kept.failures = 0;
      kept.log = deviceLog(busLog, bus, dc);
      devices.set(dc.id, kept);
      return kept;
    });
    poller = createPoller({
      bus,
      driver,
      devices: polled,
      clock,
      logger: busLog,
      isOffline: (d) => (d as DeviceRuntime).online === false,
      hooks: {
        onSample: (d, s) => reports.sample(d as DeviceRuntime, s),
        onFailure: (d, e) => reports.failure(d as DeviceRuntime, e),
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

  function retire(d: DeviceRuntime, removed: boolean): void {
    d.bumpTest?.cancel(removed ? 'device removed from the configuration' : 'device replaced');
    d.bumpTest = undefined;
    if (devices.get(d.config.id) === d) devices.delete(d.config.id);
    if (!removed) return;
    // The retained state tells the server why the device went quiet.
    d.online = false;
    d.lastError = 'removed from the gateway configuration';
    states.publish(d);
  }

  for (const bus of live.config.buses) slots.set(bus.id, build(bus));

  return {
    devices,
    slots,
    build,
    addDevice,
    startSlot,
    stopSlot,
    retire,
    async start() {
      await Promise.all([...slots.values()].map((s) => s.driver.start()));
      for (const s of slots.values()) s.poller.start();
    },
    async stop() {
      for (const s of slots.values()) await s.poller.stop();
      await Promise.all([...slots.values()].map((s) => s.driver.stop()));
    },
  };
}
