/**
 * Modbus RTU master over one serial line. The framing is ours (frame.ts) rather than modbus-serial's
 * because the line needs things modbus-serial does not do: the inter-frame silence before every
 * request, one transaction at a time with late answers discarded, CRC errors and line noise
 * reported as such, and reopening an unplugged adapter.
 */
import { performance } from 'node:perf_hooks';
import type { ModbusRtuBusConfig } from '../../config.js';
import { DriverError, FrameError, ModbusExceptionError, PortError, TimeoutError } from '../../errors.js';
import { createProfileReader } from '../../modbus/profile-reader.js';
import type { Driver, DriverDeps, DriverDevice, DriverFactory } from '../driver.js';
import { createSerialLine } from '../serial-line.js';
import { createSerialQueue } from '../serial-queue.js';
import {
  bitsPerChar,
  coilsOf,
  interFrameGapMs,
  matchResponse,
  type RtuRequest,
  readRequest,
  registersOf,
  writeCoilRequest,
} from './frame.js';

/** Counters of what happened on the line, for logs and benchmarks. */
export interface RtuStats {
  requests: number;
  timeouts: number;
  crcErrors: number;
  exceptions: number;
  noiseBytes: number;
}

export interface ModbusRtuDriver extends Driver {
  stats(): RtuStats;
  /** One raw read of registers (function 3/4), for tools and benchmarks. */
  readRegisters(
    unit: number,
    fc: 3 | 4,
    address: number,
    count: number,
    timeoutMs?: number,
  ): Promise<number[]>;
}

export const createModbusRtuDriver: DriverFactory<ModbusRtuBusConfig> = (bus, deps) => createRtu(bus, deps);

export function createRtu(bus: ModbusRtuBusConfig, deps: DriverDeps): ModbusRtuDriver {
  const log = deps.logger;
  const gapMs =
    bus.interFrameGapMs ?? interFrameGapMs(bus.baudRate, bitsPerChar(bus.dataBits, bus.parity, bus.stopBits));
  const queue = createSerialQueue();
  const stats: RtuStats = { requests: 0, timeouts: 0, crcErrors: 0, exceptions: 0, noiseBytes: 0 };
  const readProfile = createProfileReader();

  let rx: Buffer = Buffer.alloc(0);
  let lastActivity = 0;
  let onRx: (() => void) | undefined;

  const line = createSerialLine({
    path: bus.path,
    baudRate: bus.baudRate,
    parity: bus.parity,
    dataBits: bus.dataBits,
    stopBits: bus.stopBits,
    reopenMs: bus.reopenMs,
    reopenMaxMs: bus.reopenMaxMs,
    logger: log,
    clock: deps.clock,
    onData(chunk) {
      lastActivity = performance.now();
      rx = rx.length ? Buffer.concat([rx, chunk]) : chunk;
      if (rx.length > 4096) rx = rx.subarray(rx.length - 512);
      onRx?.();
    },
    onOpen(first) {
      if (!first) deps.onReopen?.();
    },
  });

  async function waitGap(): Promise<void> {
    // Silence since the last byte either way, so every slave sees the end of the previous frame.
    // Timers are coarse (≥ 1 ms, late under load): sleep most of the gap, then yield until it is over.
    const until = lastActivity + gapMs;
    const coarse = until - performance.now() - 1;
    if (coarse >= 1) await new Promise((r) => setTimeout(r, Math.floor(coarse)));
    for (let i = 0; i < 10_000 && performance.now() < until; i++) await new Promise((r) => setImmediate(r));
  }

  function transactOnce(req: RtuRequest, timeoutMs: number): Promise<Buffer> {
    return queue.run(async () => {
      if (!line.open) throw new PortError(`serial port ${bus.path} is not open`);
      await waitGap();
      if (rx.length) {
        // Late answers to an earlier request or noise: never let them answer this one.
        stats.noiseBytes += rx.length;
        log.warn(
          { unit: req.unit, bytes: rx.length, data: rx.subarray(0, 32).toString('hex') },
          'discarded stray bytes on the line',
        );
        rx = Buffer.alloc(0);
      }
      stats.requests++;
      const result = new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => {
          onRx = undefined;
          const got = rx;
          rx = Buffer.alloc(0);
          if (got.length) {
            stats.noiseBytes += got.length;
            reject(
              new FrameError(
                `no valid answer from unit ${req.unit}; ${got.length} bytes of noise: ${got.subarray(0, 32).toString('hex')}`,
                got,
              ),
            );
          } else {
            stats.timeouts++;
            reject(new TimeoutError(`unit ${req.unit} did not answer within ${timeoutMs} ms`));
          }
        }, timeoutMs);
        onRx = () => {
          const m = matchResponse(req, rx);
          if (m.kind === 'incomplete') return;
          clearTimeout(timer);
          onRx = undefined;
          rx = Buffer.alloc(0);
          if (m.kind === 'error') {
            if (m.error instanceof ModbusExceptionError) stats.exceptions++;
            else if ((m.error as DriverError).code === 'bad_crc') stats.crcErrors++;
            reject(m.error);
            return;
          }
          if (m.skipped) {
            stats.noiseBytes += m.skipped;
            log.warn({ unit: req.unit, bytes: m.skipped }, 'noise before the answer skipped');
          }
          resolve(m.pdu);
        };
      });
      // Suppress an unhandled rejection if the write itself fails first.
      result.catch(() => {});
      try {
        await line.write(req.frame);
      } catch (err) {
        onRx = undefined;
        throw err;
      }
      lastActivity = performance.now();
      return result;
    });
  }

  async function transact(req: RtuRequest, timeoutMs: number, retries: number, ulog = log): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await transactOnce(req, timeoutMs);
      } catch (err) {
        // An exception answer or a closed port will not improve by asking again at once.
        const retryable =
          err instanceof DriverError && !(err instanceof ModbusExceptionError) && !(err instanceof PortError);
        if (!retryable || attempt >= retries) throw err;
        ulog.debug({ err: (err as Error).message, attempt: attempt + 1 }, 'retrying');
      }
    }
  }

  const timeoutOf = (d: DriverDevice) => d.config.timeoutMs ?? bus.timeoutMs;
  const retriesOf = (d: DriverDevice) => d.config.retries ?? bus.retries;

  return {
    get open() {
      return line.open;
    },
    stats: () => ({ ...stats }),
    start: () => line.start(),
    stop: () => line.stop(),
    read: (device) =>
      readProfile(
        device.profile,
        async (block) =>
          registersOf(
            await transact(
              readRequest(device.config.unit, block.fc, block.address, block.count),
              timeoutOf(device),
              retriesOf(device),
              device.log,
            ),
          ),
        () => deps.clock.now(),
      ),
    async readRegisters(unit, fc, address, count, timeoutMs = bus.timeoutMs) {
      return registersOf(await transact(readRequest(unit, fc, address, count), timeoutMs, 0));
    },
    async writeCoil(device, coil, value) {
      await transact(
        writeCoilRequest(device.config.unit, coil, value),
        timeoutOf(device),
        retriesOf(device),
        device.log,
      );
    },
    async readCoils(device, coil, count) {
      const pdu = await transact(
        readRequest(device.config.unit, 1, coil, count),
        timeoutOf(device),
        retriesOf(device),
        device.log,
      );
      return coilsOf(pdu, count);
    },
  };
}
