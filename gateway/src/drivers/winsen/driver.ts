/**
 * Winsen ZE07-CO / ZE15-CO on one UART: question-and-answer (the gateway asks on every poll) or
 * active upload (the module sends once a second; a poll takes the freshest upload). One module per
 * line. Checksums are checked; bad frames and noise are reported, never turned into values.
 */
import type { WinsenProfile } from '@gaswatch/shared';
import type { WinsenBusConfig } from '../../config.js';
import { CrcError, DriverError, FrameError, PortError, TimeoutError } from '../../errors.js';
import type { Sample } from '../../sample.js';
import type { DriverFactory } from '../driver.js';
import { createSerialLine } from '../serial-line.js';
import { createSerialQueue } from '../serial-queue.js';
import { decodeFrame, QUERY, SET_ACTIVE, SET_QA, scan, type WinsenValue } from './frame.js';

/** An upload older than this is not used for a poll; the poll waits for the next one. */
const MAX_UPLOAD_AGE_MS = 1500;

export const createWinsenDriver: DriverFactory<WinsenBusConfig> = (bus, deps) => {
  const log = deps.logger;
  const queue = createSerialQueue();
  const device = bus.devices[0]!;
  let rx: Buffer = Buffer.alloc(0);
  let latest: { value: WinsenValue; at: number; used: boolean } | undefined;
  let waiter: ((ev: { value?: WinsenValue; error?: DriverError }) => void) | undefined;
  let noiseSinceRequest = 0;

  const line = createSerialLine({
    path: bus.path,
    baudRate: 9600,
    parity: 'none',
    dataBits: 8,
    stopBits: 1,
    reopenMs: bus.reopenMs,
    reopenMaxMs: bus.reopenMaxMs,
    logger: log,
    clock: deps.clock,
    onData(chunk) {
      rx = rx.length ? Buffer.concat([rx, chunk]) : chunk;
      const { events, rest } = scan(rx);
      rx = rest.length > 256 ? rest.subarray(rest.length - 16) : rest;
      for (const ev of events) {
        if (ev.kind === 'noise') {
          noiseSinceRequest += ev.bytes;
          log.warn({ bytes: ev.bytes }, 'noise on the UART');
        } else if (ev.kind === 'bad-checksum') {
          log.warn({ frame: ev.frame.toString('hex') }, 'frame with a bad checksum');
          waiter?.({ error: new CrcError(`bad checksum in ${ev.frame.toString('hex')}`, ev.frame) });
        } else {
          const value = decodeFrame(ev.frame, profileVariant());
          if (!value) continue;
          if (value.kind === 'upload') latest = { value, at: deps.clock.now(), used: false };
          if (
            (bus.mode === 'qa' && value.kind === 'answer') ||
            (bus.mode === 'active' && value.kind === 'upload')
          ) {
            if (latest) latest.used = true;
            waiter?.({ value });
          }
        }
      }
    },
    onOpen(first) {
      // Put the module in the configured mode; harmless when it already is.
      void line.write(bus.mode === 'qa' ? SET_QA : SET_ACTIVE).catch(() => {});
      if (!first) deps.onReopen?.();
    },
  });

  let variant: 'ze07' | 'ze15' = 'ze07';
  const profileVariant = () => variant;

  function waitValue(timeoutMs: number): Promise<WinsenValue> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter = undefined;
        if (noiseSinceRequest)
          reject(
            new FrameError(`no valid frame within ${timeoutMs} ms; ${noiseSinceRequest} bytes of noise`),
          );
        else reject(new TimeoutError(`module did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      waiter = (ev) => {
        clearTimeout(timer);
        waiter = undefined;
        if (ev.error) reject(ev.error);
        else resolve(ev.value!);
      };
    });
  }

  function toSample(v: WinsenValue, profile: WinsenProfile): Sample {
    const gas = profile.gas;
    const s: Sample = { ts: deps.clock.now(), values: { [gas]: v.ppm }, status: v.fault ? 'fault' : 'ok' };
    if (v.fault) s.faults = ['fault'];
    // At full range the cell is pinned: the gas is at least that much (over range), as for Modbus.
    const fullScale = v.fullScale ?? profile.fullScale;
    if (fullScale !== undefined && v.ppm >= fullScale) s.quality = { [gas]: 'bad' };
    return s;
  }

  const readOnce = (timeoutMs: number, profile: WinsenProfile) =>
    queue.run(async () => {
      if (!line.open) throw new PortError(`serial port ${bus.path} is not open`);
      noiseSinceRequest = 0;
      if (bus.mode === 'active') {
        const l = latest;
        if (l && !l.used && deps.clock.now() - l.at <= MAX_UPLOAD_AGE_MS) {
          l.used = true;
          return toSample(l.value, profile);
        }
        return toSample(await waitValue(timeoutMs), profile);
      }
      const p = waitValue(timeoutMs);
      p.catch(() => {});
      await line.write(QUERY);
      return toSample(await p, profile);
    });

  return {
    get open() {
      return line.open;
    },
    start: () => line.start(),
    stop: () => line.stop(),
    async read(dev) {
      if (dev.profile.transport !== 'winsen')
        throw new DriverError('bad_profile', `profile ${dev.profile.id} is not a Winsen profile`);
      variant = dev.profile.variant;
      const retries = dev.config.retries ?? bus.retries;
      const timeoutMs = dev.config.timeoutMs ?? bus.timeoutMs;
      for (let attempt = 0; ; attempt++) {
        try {
          return await readOnce(timeoutMs, dev.profile);
        } catch (err) {
          if (err instanceof PortError || attempt >= retries) throw err;
        }
      }
    },
    async writeCoil() {
      throw new DriverError('unsupported', `Winsen module ${device.id} has no outputs`);
    },
    async readCoils() {
      throw new DriverError('unsupported', `Winsen module ${device.id} has no outputs`);
    },
  };
};
