/**
 * Modbus RTU slave on a serial path: several unit addresses on one line, silent for units that are not
 * present (as on RS-485), frames ended by the 3.5-character gap (or earlier, once a request of known
 * length has a good CRC). With `wireTiming`, each answer waits for the time a real line at the baud
 * rate would take and the line stays busy meanwhile, because a pty delivers everything at once.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { SerialPort } from 'serialport';
import type { SimDevice } from '../device.js';
import { crcOk } from './crc.js';
import { decodeRtuFrame, encodeRtuFrame, expectedRequestLength, parseRequestPdu } from './frame.js';
import { serveRequest } from './serve.js';
import { charTimeMs, interFrameGapMs, type Parity } from './timing.js';
import { garble, unitMap } from './units.js';

export interface ModbusRtuSlaveOptions {
  /** Serial device, e.g. /dev/ttyUSB0 or one end of a socat pty pair. */
  path: string;
  devices: SimDevice[];
  /** Default 9600. */
  baudRate?: number;
  /** Default even (Modbus RTU's default 8E1). */
  parity?: Parity;
  /** Default 1; with parity none, 2 gives 8N2 (11 bits per character). */
  stopBits?: 1 | 2;
  /** Delay answers by their wire time (request + gap + turnaround + response) and keep the line busy. */
  wireTiming?: boolean;
  /** Slave turnaround before it starts answering, ms (default 0: an instant slave). */
  turnaroundMs?: number;
  logger?: Logger;
}

export interface ModbusRtuStats {
  /** Frames seen on the line (any unit, good or bad). */
  frames: number;
  /** Frames with a wrong CRC or too short: dropped silently, as a slave must. */
  crcErrors: number;
  /** Frames for units not on this line: ignored. */
  otherUnits: number;
  /** Requests answered (including exceptions). */
  responses: number;
  exceptions: number;
  /** Broadcasts (unit 0) executed without an answer. */
  broadcasts: number;
  /** Requests a non-responding (dead) device ignored. */
  silent: number;
  /** Answers damaged on purpose by a fault script (crc or garble). */
  corrupted: number;
  /** Late answers dropped because the master had already sent its next request. */
  dropped: number;
  bytesIn: number;
  bytesOut: number;
}

export interface ModbusRtuSlave {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): ModbusRtuStats;
}

interface Pending {
  timer: NodeJS.Timeout | null;
  sendAt: number;
  cancelled: boolean;
}

/** Timers fire up to a millisecond or two late; the last stretch before `at` is spun on setImmediate. */
const SPIN_MS = 2;

function cancel(p: Pending): void {
  p.cancelled = true;
  if (p.timer) clearTimeout(p.timer);
}

export function createModbusRtuSlave(opts: ModbusRtuSlaveOptions): ModbusRtuSlave {
  const units = unitMap(opts.devices, `modbus-rtu ${opts.path}`);
  const baud = opts.baudRate ?? 9600;
  const parity = opts.parity ?? 'even';
  const stopBits = opts.stopBits ?? 1;
  const ct = charTimeMs(baud, parity, stopBits);
  const gap = interFrameGapMs(baud, parity, stopBits);
  // A pty delivers a master's frame in one chunk, but the event loop may be late: never wait less than
  // 2 ms for more bytes of an incomplete frame.
  const gapWaitMs = Math.max(2, gap);
  const turnaround = opts.turnaroundMs ?? 0;
  const log = opts.logger;
  const stats: ModbusRtuStats = {
    frames: 0,
    crcErrors: 0,
    otherUnits: 0,
    responses: 0,
    exceptions: 0,
    broadcasts: 0,
    silent: 0,
    corrupted: 0,
    dropped: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  let port: SerialPort | null = null;
  let buf: Buffer = Buffer.alloc(0);
  let firstByteAt = 0;
  let gapTimer: NodeJS.Timeout | null = null;
  let pending: Pending | null = null;
  /** Wire timing: when the line is next free (end of the last answer + 3.5 characters). */
  let lineFreeAt = 0;

  const handleFrame = (frame: Buffer, arrivedAt: number) => {
    stats.frames++;
    // The master only speaks again when it has given up on a late answer: that answer is lost.
    if (pending && performance.now() < pending.sendAt) {
      cancel(pending);
      pending = null;
      stats.dropped++;
    }
    const start = opts.wireTiming ? Math.max(arrivedAt, lineFreeAt) : arrivedAt;
    const requestEnd = start + (opts.wireTiming ? frame.length * ct : 0);
    if (opts.wireTiming) lineFreeAt = requestEnd + gap;
    const decoded = decodeRtuFrame(frame);
    if (!decoded) {
      stats.crcErrors++;
      log?.debug({ frame: frame.toString('hex') }, 'dropped frame with bad CRC');
      return;
    }
    if (decoded.unit === 0) {
      stats.broadcasts++;
      try {
        const req = parseRequestPdu(decoded.pdu);
        if (req.fc === 5 || req.fc === 6 || req.fc === 15 || req.fc === 16)
          for (const d of units.values()) if (d.responding) serveRequest(d, decoded.pdu);
      } catch {
        // a broadcast is never answered, not even with an exception
      }
      return;
    }
    const device = units.get(decoded.unit);
    if (!device) {
      stats.otherUnits++;
      return;
    }
    if (!device.responding) {
      stats.silent++;
      return;
    }
    const result = serveRequest(device, decoded.pdu);
    if (result.exception !== undefined) stats.exceptions++;
    let out = encodeRtuFrame(decoded.unit, result.pdu);
    const damage = device.shouldCorrupt();
    if (damage === 'crc') out[out.length - 1]! ^= 0xff;
    else if (damage === 'garble') out = garble(out, device.rng.next);
    if (damage) stats.corrupted++;
    let sendAt: number;
    if (opts.wireTiming) {
      const respEnd = requestEnd + gap + turnaround + device.responseDelayMs + out.length * ct;
      sendAt = respEnd;
      lineFreeAt = respEnd + gap;
    } else sendAt = arrivedAt + turnaround + device.responseDelayMs;
    const send = () => {
      pending = null;
      if (!port?.isOpen) return;
      stats.responses++;
      stats.bytesOut += out.length;
      port.write(out);
    };
    const wait = sendAt - performance.now();
    if (wait <= 0) return send();
    const p: Pending = { timer: null, sendAt, cancelled: false };
    // Wire timing needs sub-millisecond accuracy (a 9600-baud poll is 41 ms): sleep, then spin.
    const spin = () => {
      if (p.cancelled) return;
      if (!opts.wireTiming || performance.now() >= sendAt) send();
      else setImmediate(spin);
    };
    p.timer =
      opts.wireTiming && wait <= SPIN_MS ? null : setTimeout(spin, opts.wireTiming ? wait - SPIN_MS : wait);
    if (!p.timer) setImmediate(spin);
    pending = p;
  };

  /** Takes every complete request off the buffer; returns when the rest needs more bytes or the gap. */
  const drain = () => {
    for (let i = 0; i < 64 && buf.length > 0; i++) {
      const len = expectedRequestLength(buf);
      if (len === null || buf.length < len || !crcOk(buf.subarray(0, len))) return;
      const frame = Buffer.from(buf.subarray(0, len));
      buf = Buffer.from(buf.subarray(len));
      handleFrame(frame, firstByteAt);
      firstByteAt = performance.now();
    }
  };

  const onGap = () => {
    gapTimer = null;
    if (buf.length === 0) return;
    const frame = buf;
    buf = Buffer.alloc(0);
    handleFrame(frame, firstByteAt);
  };

  const onData = (chunk: Buffer) => {
    const now = performance.now();
    stats.bytesIn += chunk.length;
    if (buf.length === 0) firstByteAt = now;
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    if (gapTimer) clearTimeout(gapTimer);
    gapTimer = null;
    drain();
    if (buf.length > 0) gapTimer = setTimeout(onGap, gapWaitMs);
  };

  return {
    async start() {
      const p = new SerialPort({
        path: opts.path,
        baudRate: baud,
        parity,
        stopBits,
        dataBits: 8,
        autoOpen: false,
      });
      await new Promise<void>((resolve, reject) => p.open((err) => (err ? reject(err) : resolve())));
      p.on('data', onData);
      p.on('error', (err) => log?.error({ err, path: opts.path }, 'serial error'));
      port = p;
    },
    async stop() {
      if (gapTimer) clearTimeout(gapTimer);
      gapTimer = null;
      if (pending) cancel(pending);
      pending = null;
      const p = port;
      port = null;
      if (p?.isOpen) {
        p.off('data', onData);
        await new Promise<void>((resolve) => p.close(() => resolve()));
      }
    },
    stats: () => ({ ...stats }),
  };
}
