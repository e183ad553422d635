/**
 * Modbus TCP master on one connection: MBAP framing of our own over node:net (see docs/gateway.md
 * for why not modbus-serial), one transaction at a time, answers matched by transaction id so a
 * late answer can never answer a later request, and a lost connection re-established every
 * `reopenMs`.
 *
 * Per transaction it does as little as it can (docs/gateway.md "CPU per reading"): the request is
 * written from one reused 12-byte buffer, the answer's PDU is a view of the received chunk, the
 * waiting requests are a plain FIFO rather than a promise chain, and one timer per connection
 * watches the deadline of the request in flight instead of a timer set and cleared per request.
 */
import { connect, type Socket } from 'node:net';
import type { ModbusTcpBusConfig } from '../../config.js';
import { FrameError, ModbusExceptionError, PortError, TimeoutError } from '../../errors.js';
import { createProfileReader } from '../../modbus/profile-reader.js';
import type { DriverDevice, DriverFactory } from '../driver.js';
import { coilsOf, registersOf } from '../modbus-rtu/frame.js';
import { aduLength, REQUEST_BYTES, writeRequest } from './mbap.js';

/** A request waiting for the connection or in flight. */
interface Transaction {
  unit: number;
  fc: number;
  word1: number;
  word2: number;
  timeoutMs: number;
  /** Set when it is written. */
  tid: number;
  deadline: number;
  resolve: (pdu: Buffer) => void;
  reject: (e: Error) => void;
}

export const createModbusTcpDriver: DriverFactory<ModbusTcpBusConfig> = (bus, deps) => {
  const log = deps.logger;
  const readProfile = createProfileReader();
  let socket: Socket | undefined;
  let connected = false;
  let stopped = true;
  let timer: unknown;
  let everOpen = false;
  let lastError = '';
  /** The start of an answer whose rest has not arrived yet. */
  let rx: Buffer | undefined;
  let tid = 0;
  const waiting: Transaction[] = [];
  let pending: Transaction | undefined;
  /** The request buffer, reused while the socket has written the previous one out. */
  const request = Buffer.alloc(REQUEST_BYTES);
  /** The connection's one deadline timer, and when it fires. */
  let deadlineTimer: NodeJS.Timeout | undefined;
  let deadlineAt = 0;

  const scheduleReconnect = () => {
    if (stopped || timer !== undefined) return;
    timer = deps.clock.setTimeout(() => {
      timer = undefined;
      void connectOnce();
    }, bus.reopenMs);
  };

  /** Starts the next waiting request if none is in flight. */
  function next(): void {
    while (!pending && waiting.length > 0) {
      const tx = waiting.shift()!;
      const s = socket;
      if (!s || !connected) {
        tx.reject(new PortError(`${bus.host}:${bus.port} is not connected`));
        continue;
      }
      tid = (tid + 1) & 0xffff;
      tx.tid = tid;
      tx.deadline = performance.now() + tx.timeoutMs;
      pending = tx;
      armDeadline(tx.deadline);
      // The previous request has been answered, so it left the socket long ago; only a write still
      // queued (a peer that stopped reading) needs a buffer of its own.
      const buf = s.writableLength === 0 ? request : Buffer.allocUnsafe(REQUEST_BYTES);
      s.write(writeRequest(buf, tid, tx.unit, tx.fc, tx.word1, tx.word2));
    }
  }

  function armDeadline(deadline: number): void {
    if (deadlineTimer && deadlineAt <= deadline) return; // fires in time for this one too
    clearTimeout(deadlineTimer);
    deadlineAt = deadline;
    deadlineTimer = setTimeout(onDeadline, Math.max(1, Math.ceil(deadline - performance.now())));
  }

  function onDeadline(): void {
    deadlineTimer = undefined;
    const p = pending;
    if (!p) return;
    // Another request is in flight now; it has its own deadline, later than this one.
    if (p.deadline - performance.now() > 1) {
      armDeadline(p.deadline);
      return;
    }
    pending = undefined;
    p.reject(new TimeoutError(`unit ${p.unit} did not answer within ${p.timeoutMs} ms`));
    next();
  }

  /** Settles the request in flight with an answer: its PDU, a view of the chunk. */
  function answer(p: Transaction, unit: number, pdu: Buffer): void {
    if (unit !== p.unit) p.reject(new FrameError(`answer from unit ${unit}, asked unit ${p.unit}`, pdu));
    else if (pdu[0] === (p.fc | 0x80)) p.reject(new ModbusExceptionError(pdu[1] ?? 0, p.fc));
    else if (pdu[0] !== p.fc) p.reject(new FrameError(`answer to function ${pdu[0]}, asked ${p.fc}`, pdu));
    else p.resolve(pdu);
  }

  function onData(chunk: Buffer): void {
    const buf = rx ? Buffer.concat([rx, chunk]) : chunk;
    rx = undefined;
    let off = 0;
    let answered = false;
    try {
      for (let len = aduLength(buf, off); len > 0 && buf.length - off >= len; len = aduLength(buf, off)) {
        const p = pending;
        const transactionId = (buf[off]! << 8) | buf[off + 1]!;
        if (!p || transactionId !== p.tid) log.debug({ transactionId }, 'late or unexpected answer ignored');
        else {
          pending = undefined;
          answered = true;
          answer(p, buf[off + 6]!, buf.subarray(off + 7, off + len));
        }
        off += len;
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'garbage from the server; reconnecting');
      const p = pending;
      pending = undefined;
      p?.reject(new FrameError((err as Error).message));
      socket?.destroy();
      return;
    }
    if (off < buf.length) rx = off === 0 ? buf : buf.subarray(off);
    if (answered) next();
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
        rx = undefined;
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
          failAll(new PortError(`connection to ${bus.host}:${bus.port} closed`));
          if (!stopped) log.error({ host: bus.host, port: bus.port }, 'connection lost; reconnecting');
        }
        if (!up) resolve();
        scheduleReconnect();
      });
    });
  }

  /** The request in flight fails with `err`; the waiting ones fail as "not connected". */
  function failAll(err: Error): void {
    const p = pending;
    pending = undefined;
    clearTimeout(deadlineTimer);
    deadlineTimer = undefined;
    p?.reject(err);
    next();
  }

  function transact(
    unit: number,
    fc: number,
    word1: number,
    word2: number,
    timeoutMs: number,
  ): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      waiting.push({ unit, fc, word1, word2, timeoutMs, tid: -1, deadline: 0, resolve, reject });
      next();
    });
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
      failAll(new PortError(`${bus.host}:${bus.port} closed by stop`));
      if (s) await new Promise<void>((resolve) => s.end(() => resolve()));
      s?.destroy();
    },
    read: (device) =>
      readProfile(
        device.profile,
        async (block) => {
          const pdu = await withRetries(device, () =>
            transact(device.config.unit, block.fc, block.address, block.count, timeoutOf(device)),
          );
          if (pdu[1] !== block.count * 2)
            throw new FrameError(`byte count ${pdu[1]} for ${block.count} registers`, pdu);
          return registersOf(pdu);
        },
        () => deps.clock.now(),
      ),
    async writeCoil(device, coil, value) {
      await withRetries(device, () =>
        transact(device.config.unit, 5, coil, value ? 0xff00 : 0, timeoutOf(device)),
      );
    },
    async readCoils(device, coil, count) {
      const pdu = await withRetries(device, () =>
        transact(device.config.unit, 1, coil, count, timeoutOf(device)),
      );
      return coilsOf(pdu, count);
    },
  };
};
