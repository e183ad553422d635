/** A Winsen ZE07-CO / ZE15-CO module on a serial path: active upload once a second, or question and answer. */
import type { Logger } from 'pino';
import { SerialPort } from 'serialport';
import type { SimDevice } from '../device.js';
import { garble } from '../modbus/units.js';
import { activeFrame, QUERY, qaReplyFrame, TO_ACTIVE, TO_QA, takeFrames } from './frame.js';

export interface WinsenModuleOptions {
  path: string;
  /** A device with the winsen-ze07 profile (or another winsen profile). */
  device: SimDevice;
  /** Start in active upload (default, as shipped) or question-and-answer mode. */
  mode?: 'active' | 'qa';
  /** Default: the profile's variant. */
  variant?: 'ze07' | 'ze15';
  /** Active upload period, wall-clock ms (default 1000, the module's own rate). */
  intervalMs?: number;
  logger?: Logger;
}

export interface WinsenStats {
  uploads: number;
  replies: number;
  /** Frames from the host with a bad checksum or unknown command. */
  badFrames: number;
  corrupted: number;
}

export interface WinsenModule {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): WinsenStats;
  readonly mode: 'active' | 'qa';
}

export function createWinsenModule(opts: WinsenModuleOptions): WinsenModule {
  const { device } = opts;
  if (device.profile.transport !== 'winsen')
    throw new RangeError(`${device.id}: profile ${device.profile.id} is not a Winsen module`);
  const variant = opts.variant ?? device.profile.variant;
  const baudRate = device.profile.baud;
  let mode = opts.mode ?? 'active';
  let port: SerialPort | null = null;
  let timer: NodeJS.Timeout | null = null;
  let buf: Buffer = Buffer.alloc(0);
  const stats: WinsenStats = { uploads: 0, replies: 0, badFrames: 0, corrupted: 0 };
  const gas = device.profile.gas;

  const send = (frame: Buffer) => {
    if (!port?.isOpen || !device.responding) return false;
    let out = frame;
    const damage = device.shouldCorrupt();
    if (damage === 'crc') {
      out = Buffer.from(frame);
      out[8]! ^= 0xff;
    } else if (damage === 'garble') out = garble(frame, device.rng.next);
    if (damage) stats.corrupted++;
    const write = () => port?.isOpen && port.write(out);
    if (device.responseDelayMs > 0) setTimeout(write, device.responseDelayMs).unref();
    else write();
    return true;
  };

  const upload = () => {
    if (mode !== 'active') return;
    if (send(activeFrame(device.reported(gas), variant, device.fault !== null))) stats.uploads++;
  };

  const onData = (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    const r = takeFrames(buf);
    buf = r.rest.length > 64 ? Buffer.alloc(0) : r.rest;
    stats.badFrames += r.skipped > 0 ? 1 : 0;
    for (const f of r.frames) {
      if (f.equals(QUERY)) {
        if (send(qaReplyFrame(device.reported(gas), variant, device.fault !== null))) stats.replies++;
      } else if (f.equals(TO_QA)) mode = 'qa';
      else if (f.equals(TO_ACTIVE)) mode = 'active';
      else stats.badFrames++;
    }
  };

  return {
    get mode() {
      return mode;
    },
    async start() {
      const p = new SerialPort({
        path: opts.path,
        baudRate,
        parity: 'none',
        dataBits: 8,
        stopBits: 1,
        autoOpen: false,
      });
      await new Promise<void>((resolve, reject) => p.open((err) => (err ? reject(err) : resolve())));
      p.on('data', onData);
      p.on('error', (err) => opts.logger?.error({ err, path: opts.path }, 'serial error'));
      port = p;
      timer = setInterval(upload, opts.intervalMs ?? 1000);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
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
