import type { BusConfig } from '../config.js';
import { DriverError } from '../errors.js';
import type { Driver, DriverDeps, DriverFactory } from './driver.js';

export type { Driver, DriverDeps, DriverDevice, DriverFactory } from './driver.js';

type Loader<T extends BusConfig['type']> = () => Promise<DriverFactory<Extract<BusConfig, { type: T }>>>;

/**
 * Drivers by the config's bus `type`. Each is loaded when a bus of its type starts, so a gateway
 * without serial lines never loads serialport (memory on a Pi, SPEC §8).
 */
export const DRIVERS: { [T in BusConfig['type']]: Loader<T> } = {
  'modbus-rtu': async () => (await import('./modbus-rtu/driver.js')).createModbusRtuDriver,
  'modbus-tcp': async () => (await import('./modbus-tcp/driver.js')).createModbusTcpDriver,
  winsen: async () => (await import('./winsen/driver.js')).createWinsenDriver,
};

/**
 * The driver of a bus. Construction does no I/O and loads nothing; `start()` loads the driver
 * module for the bus type and opens the port.
 */
export function createDriver(bus: BusConfig, deps: DriverDeps): Driver {
  let inner: Driver | undefined;
  const need = (): Driver => {
    if (!inner) throw new DriverError('bus_not_started', `bus ${bus.id} is not started`);
    return inner;
  };
  return {
    get open() {
      return inner?.open ?? false;
    },
    async start() {
      if (!inner) {
        const factory = (await (DRIVERS[bus.type] as Loader<BusConfig['type']>)()) as DriverFactory;
        inner = factory(bus, deps);
      }
      await inner.start();
    },
    async stop() {
      await inner?.stop();
    },
    read: (device) => need().read(device),
    writeCoil: (device, coil, value) => need().writeCoil(device, coil, value),
    readCoils: (device, coil, count) => need().readCoils(device, coil, count),
  };
}
