import type { BusConfig } from '../config.js';
import type { Driver, DriverDeps } from './driver.js';
import { createModbusRtuDriver } from './modbus-rtu/driver.js';
import { createModbusTcpDriver } from './modbus-tcp/driver.js';
import { createWinsenDriver } from './winsen/driver.js';

export type { Driver, DriverDeps, DriverDevice, DriverFactory } from './driver.js';

/** Drivers by the config's bus `type`. */
export const DRIVERS: {
  [T in BusConfig['type']]: (bus: Extract<BusConfig, { type: T }>, deps: DriverDeps) => Driver;
} = {
  'modbus-rtu': createModbusRtuDriver,
  'modbus-tcp': createModbusTcpDriver,
  winsen: createWinsenDriver,
};

export function createDriver(bus: BusConfig, deps: DriverDeps): Driver {
  const factory = DRIVERS[bus.type] as (b: BusConfig, d: DriverDeps) => Driver;
  return factory(bus, deps);
}
