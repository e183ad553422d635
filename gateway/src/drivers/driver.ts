import type { Profile } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { BusConfig, DeviceConfig } from '../config.js';
import type { Sample } from '../sample.js';

/** A detector as a driver sees it: its config and its profile. */
export interface DriverDevice {
  config: DeviceConfig;
  profile: Profile;
  /** Child logger carrying bus and unit. */
  log: Logger;
}

/**
 * One bus (a serial line or a TCP connection). Implementations serialise their own transactions,
 * so the poll scheduler and the local outputs may call them at any time.
 */
export interface Driver {
  /** Opens the port or connection. An unavailable port is not an error here: the driver keeps reopening it. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True while the port/connection is open. */
  readonly open: boolean;
  /** Reads one sample; throws a DriverError (timeout, CRC, exception, ...) when there is none. */
  read(device: DriverDevice): Promise<Sample>;
  /** Writes one relay coil (Modbus function 5). */
  writeCoil(device: DriverDevice, coil: number, value: boolean): Promise<void>;
  /** Reads relay coils (Modbus function 1). */
  readCoils(device: DriverDevice, coil: number, count: number): Promise<boolean[]>;
}

export interface DriverDeps {
  logger: Logger;
  clock: Clock;
  /** Called when the port comes back after being lost (e.g. a USB adapter plugged back in). */
  onReopen?: () => void;
}

export type DriverFactory<B extends BusConfig = BusConfig> = (bus: B, deps: DriverDeps) => Driver;
