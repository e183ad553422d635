/**
 * Modbus TCP master on one connection: MBAP framing of our own over node:net (see docs/gateway.md
 * for why not modbus-serial), one transaction at a time, answers matched by transaction id so a
 * late answer can never answer a later request, and a lost connection re-established every
 * `reopenMs`.
 */
import { connect, type Socket } from 'node:net';
import type { ModbusTcpBusConfig } from '../../config.js';
import { FrameError, ModbusExceptionError, PortError, TimeoutError } from '../../errors.js';
import { createProfileReader } from '../../modbus/profile-reader.js';
import type { DriverDevice, DriverFactory } from '../driver.js';
import { coilsOf, registersOf } from '../modbus-rtu/frame.js';
import { createSerialQueue } from '../serial-queue.js';
import { encodeAdu, takeAdus } from './mbap.js';

export const createModbusTcpDriver: DriverFactory<ModbusTcpBusConfig> = (bus, deps) => {
  const log = deps.logger;
  const queue = createSerialQueue();
  const readProfile = createProfileReader();
  let socket: Socket | undefined;
  let connected = false;
  let stopped = true;
  let timer: unknown;
  let everOpen = false;
  let lastError = '';
  let rx: Buffer = Buffer.alloc(0);
  let tid = 0;
  let pending:
    | { tid: number; unit: number; fc: number; resolve: (pdu: Buffer) => void; reject: (e: Error) => void }
    | undefined;

  const scheduleReconnect = () => {
    if (stopped || timer !== undefined) return;
    timer = deps.clock.setTimeout(() => {
      timer = undefined;
      void connectOnce();
    }, bus.reopenMs);
  };

  function onData(chunk: Buffer): void {
    rx = rx.length ? Buffer.concat([rx, chunk]) : chunk;
    let adus: ReturnType<typeof takeAdus>['adus'];
    try {
      ({ adus, rest: rx } = takeAdus(rx));
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'garbage from the server; reconnecting');
      rx = Buffer.alloc(0);
      pending?.reject(new FrameError((err as Error).message));
      socket?.destroy();
      return;
    }
    for (const adu of adus) {
      const p = pending;
      if (!p || adu.transactionId !== p.tid) {
        log.debug({ transactionId: adu.transactionId }, 'late or unexpected answer ignored');
        continue;
      }
      pending = undefined;
      if (adu.unit !== p.unit)
        p.reject(new FrameError(`answer from unit ${adu.unit}, asked unit ${p.unit}`, adu.pdu));
      else if (adu.pdu[0] === (p.fc | 0x80)) p.reject(new ModbusExceptionError(adu.pdu[1] ?? 0, p.fc));
      else if (adu.pdu[0] !== p.fc)
        p.reject(new FrameError(`answer to function ${adu.pdu[0]}, asked ${p.fc}`, adu.pdu));
      else p.resolve(adu.pdu);
    }
  }

  function connectOnce(): Promise<void> {
    if (stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const s = connect({ host: bus.host, port: bus.port });
      s.setNoDelay(true);
      let up = false;
      s.once('connect', () => {
        up = true;
        if (stopped) {
          s.destroy();
          return resolve();
        }
        socket = s;
        connected = true;
        lastError = '';
        rx = Buffer.alloc(0);
        log.info({ host: bus.host, port: bus.port }, everOpen ? 'reconnected' : 'connected');
        if (everOpen) deps.onReopen?.();
        everOpen = true;
        resolve();
      });
      s.on('data', onData);
      s.on('error', (err) => {
        if (!up) {
          if (err.message !== lastError)
            log.error({ err: err.message, host: bus.host, port: bus.port }, 'cannot connect; retrying');
          lastError = err.message;
        } else log.warn({ err: err.message }, 'connection error');
      });
      s.on('close', () => {
        if (socket === s) {
          socket = undefined;
          connected = false;
          pending?.reject(new PortError(`connection to ${bus.host}:${bus.port} closed`));
          pending = undefined;
          if (!stopped) log.error({ host: bus.host, port: bus.port }, 'connection lost; reconnecting');
        }
        if (!up) resolve();
        scheduleReconnect();
      });
    });
  }

  function transact(unit: number, pdu: Buffer, timeoutMs: number): Promise<Buffer> {
    return queue.run(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const s = socket;
          if (!s || !connected) return reject(new PortError(`${bus.host}:${bus.port} is not connected`));
          tid = (tid + 1) & 0xffff;
          const t = setTimeout(() => {
            pending = undefined;
            reject(new TimeoutError(`unit ${unit} did not answer within ${timeoutMs} ms`));
          }, timeoutMs);
          pending = {
            tid,
            unit,
            fc: pdu[0]!,
            resolve: (p) => {
              clearTimeout(t);
              resolve(p);
            },
            reject: (e) => {
              clearTimeout(t);
              reject(e);
            },
          };
          s.write(encodeAdu(tid, unit, pdu));
        }),
    );
  }

  async function withRetries<T>(device: DriverDevice, f: () => Promise<T>): Promise<T> {
    const retries = device.config.retries ?? bus.retries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await f();
      } catch (err) {
        const retryable = err instanceof TimeoutError || err instanceof FrameError;
        if (!retryable || attempt >= retries) throw err;
      }
    }
  }

  const timeoutOf = (d: DriverDevice) => d.config.timeoutMs ?? bus.timeoutMs;
  const readPdu = (fc: 1 | 3 | 4, address: number, count: number) =>
    Buffer.from([fc, address >> 8, address & 0xff, count >> 8, count & 0xff]);

  return {
    get open() {
      return connected;
    },
    async start() {
      stopped = false;
      await connectOnce();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) deps.clock.clearTimeout(timer);
      timer = undefined;
      const s = socket;
      socket = undefined;
      connected = false;
      if (s) await new Promise<void>((resolve) => s.end(() => resolve()));
      s?.destroy();
    },
    read: (device) =>
      readProfile(
        device.profile,
        async (block) => {
          const pdu = await withRetries(device, () =>
            transact(device.config.unit, readPdu(block.fc, block.address, block.count), timeoutOf(device)),
          );
          if (pdu[1] !== block.count * 2)
            throw new FrameError(`byte count ${pdu[1]} for ${block.count} registers`, pdu);
          return registersOf(pdu);
        },
        () => deps.clock.now(),
      ),
    async writeCoil(device, coil, value) {
      await withRetries(device, () =>
        transact(
          device.config.unit,
          Buffer.from([5, coil >> 8, coil & 0xff, value ? 0xff : 0, 0]),
          timeoutOf(device),
        ),
      );
    },
    async readCoils(device, coil, count) {
      const pdu = await withRetries(device, () =>
        transact(device.config.unit, readPdu(1, coil, count), timeoutOf(device)),
      );
      return coilsOf(pdu, count);
    },
  };
};
