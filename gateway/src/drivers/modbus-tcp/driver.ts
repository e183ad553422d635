/**
 * Modbus TCP master (modbus-serial) on one connection. modbus-serial does not serialise requests,
 * so every transaction goes through this bus's queue; a lost connection is re-established every
 * `reopenMs`.
 */
import type { ModbusProfile } from '@gaswatch/shared';
import mb from 'modbus-serial';
import type { ModbusTcpBusConfig } from '../../config.js';
import { DriverError, ModbusExceptionError, PortError, TimeoutError } from '../../errors.js';
import {
  decodeSample,
  planReads,
  type RegisterBlock,
  type RegisterImage,
  storeBlock,
} from '../../modbus/profile-reader.js';
import type { Driver, DriverDevice, DriverFactory } from '../driver.js';
import { createSerialQueue } from '../serial-queue.js';

const ModbusRTU = mb.default;
type Client = InstanceType<typeof ModbusRTU>;

/** Maps modbus-serial's errors onto ours, keeping the exception code. */
function mapError(err: unknown, fc: number, what: string): DriverError {
  if (err instanceof DriverError) return err;
  const e = err as { modbusCode?: number; name?: string; message?: string; errno?: string };
  if (typeof e.modbusCode === 'number') return new ModbusExceptionError(e.modbusCode, fc);
  if (e.name === 'TransactionTimedOutError' || e.errno === 'ETIMEDOUT')
    return new TimeoutError(`${what} timed out`);
  if (e.name === 'PortNotOpenError' || /not open/i.test(e.message ?? ''))
    return new PortError(`${what}: connection not open`);
  if (/crc/i.test(e.message ?? '')) return new DriverError('ECRC', `${what}: ${e.message}`);
  return new DriverError('EMODBUS', `${what}: ${e.message ?? String(err)}`);
}

export const createModbusTcpDriver: DriverFactory<ModbusTcpBusConfig> = (bus, deps) => {
  const log = deps.logger;
  const queue = createSerialQueue();
  const plans = new WeakMap<ModbusProfile, RegisterBlock[]>();
  let client: Client | undefined;
  let stopped = true;
  let timer: unknown;
  let everOpen = false;
  let lastError = '';

  const scheduleReconnect = () => {
    if (stopped || timer !== undefined) return;
    timer = deps.clock.setTimeout(() => {
      timer = undefined;
      void connect();
    }, bus.reopenMs);
  };

  async function connect(): Promise<void> {
    if (stopped) return;
    const c = new ModbusRTU();
    c.on('error', (err) => log.debug({ err }, 'modbus tcp socket error'));
    try {
      await c.connectTCP(bus.host, { port: bus.port });
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== lastError)
        log.error({ err: msg, host: bus.host, port: bus.port }, 'cannot connect; retrying');
      lastError = msg;
      scheduleReconnect();
      return;
    }
    if (stopped) {
      c.close(() => {});
      return;
    }
    lastError = '';
    client = c;
    c.on('close', () => {
      if (client !== c) return;
      client = undefined;
      if (stopped) return;
      log.error({ host: bus.host, port: bus.port }, 'connection lost; reconnecting');
      scheduleReconnect();
    });
    log.info({ host: bus.host, port: bus.port }, everOpen ? 'reconnected' : 'connected');
    if (everOpen) deps.onReopen?.();
    everOpen = true;
  }

  function run<T>(
    unit: number,
    timeoutMs: number,
    fc: number,
    what: string,
    fn: (c: Client) => Promise<T>,
  ): Promise<T> {
    return queue.run(async () => {
      const c = client;
      if (!c?.isOpen) throw new PortError(`${bus.host}:${bus.port} is not connected`);
      c.setID(unit);
      c.setTimeout(timeoutMs);
      try {
        return await fn(c);
      } catch (err) {
        throw mapError(err, fc, `unit ${unit} ${what}`);
      }
    });
  }

  async function withRetries<T>(device: DriverDevice, f: () => Promise<T>): Promise<T> {
    const retries = device.config.retries ?? bus.retries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await f();
      } catch (err) {
        const retryable = err instanceof TimeoutError || (err as DriverError).code === 'ECRC';
        if (!retryable || attempt >= retries) throw err;
      }
    }
  }

  const timeoutOf = (d: DriverDevice) => d.config.timeoutMs ?? bus.timeoutMs;

  const driver: Driver = {
    get open() {
      return client?.isOpen === true;
    },
    async start() {
      stopped = false;
      await connect();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) deps.clock.clearTimeout(timer);
      timer = undefined;
      const c = client;
      client = undefined;
      if (c) await new Promise<void>((resolve) => c.close(() => resolve()));
    },
    async read(device) {
      const profile = device.profile;
      if (profile.transport !== 'modbus')
        throw new DriverError('EPROFILE', `profile ${profile.id} is not a Modbus profile`);
      let plan = plans.get(profile);
      if (!plan) {
        plan = planReads(profile);
        plans.set(profile, plan);
      }
      const image: RegisterImage = new Map();
      for (const block of plan) {
        const regs = await withRetries(device, () =>
          run(
            device.config.unit,
            timeoutOf(device),
            block.fc,
            `read ${block.fc}:${block.address}+${block.count}`,
            async (c) =>
              block.fc === 3
                ? (await c.readHoldingRegisters(block.address, block.count)).data
                : (await c.readInputRegisters(block.address, block.count)).data,
          ),
        );
        storeBlock(image, block, regs);
      }
      return decodeSample(profile, image, deps.clock.now());
    },
    async writeCoil(device, coil, value) {
      await withRetries(device, () =>
        run(device.config.unit, timeoutOf(device), 5, `write coil ${coil}`, async (c) => {
          await c.writeCoil(coil, value);
        }),
      );
    },
    async readCoils(device, coil, count) {
      return withRetries(device, () =>
        run(device.config.unit, timeoutOf(device), 1, `read coils ${coil}+${count}`, async (c) =>
          (await c.readCoils(coil, count)).data.slice(0, count),
        ),
      );
    },
  };
  return driver;
};
