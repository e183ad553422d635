import type { Logger } from 'pino';
import { SerialPort } from 'serialport';
import type { Clock } from '../clock.js';
import { PortError } from '../errors.js';

export interface SerialLineOptions {
  path: string;
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
  /** First retry after a failed open or a lost port; doubles after each failed attempt... */
  reopenMs: number;
  /** ...up to this (default: reopenMs, i.e. no back-off). */
  reopenMaxMs?: number;
  logger: Logger;
  clock: Clock;
  onData: (chunk: Buffer) => void;
  /**
   * Called after every successful open. `first` is true only for the open `start()` made itself
   * (the poller is about to poll anyway); false when the adapter appeared or came back later, so
   * the driver can have every detector polled at once instead of after `offlinePollS`.
   */
  onOpen?: (first: boolean) => void;
}

/**
 * Where the line stands: `open`; `absent`, the path does not exist (a USB adapter unplugged, or
 * not yet plugged in: `/dev/serial/by-id/…` names appear and vanish with the adapter); `failing`,
 * the path exists but cannot be opened (permissions, busy, a broken adapter); `stopped`.
 */
export type SerialLineState = 'open' | 'absent' | 'failing' | 'stopped';

/**
 * A serial port that waits for its adapter: an unplugged USB adapter closes the port, and a path
 * that is missing at start is no error either. The line keeps trying to open the path, after
 * `reopenMs`, then twice as long each time up to `reopenMaxMs`, until the adapter is there, and
 * logs each change of state once (not every attempt), so a gateway left with its adapter
 * unplugged for a week does not fill the journal.
 */
export interface SerialLine {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly open: boolean;
  readonly state: SerialLineState;
  write(buf: Buffer): Promise<void>;
}

/**
 * No such device node: the adapter is not there (serialport says so in words, without a `code`);
 * anything else is a failing port.
 */
const isAbsent = (err: unknown) =>
  (err as { code?: string }).code === 'ENOENT' || /ENOENT|No such file or directory/.test(String(err));

/** What a technician can do about an open error that is not a missing adapter. */
function hintFor(err: unknown): string | undefined {
  const text = String((err as Error).message ?? err);
  if (/EACCES|Permission denied/.test(text))
    return 'permission denied: the gateway user must be in group dialout (the .deb does this)';
  if (/EBUSY|Resource busy|Cannot lock port/.test(text))
    return 'the port is in use by another program (ModemManager, a serial console, a second gateway?)';
  return undefined;
}

export function createSerialLine(opts: SerialLineOptions): SerialLine {
  const log = opts.logger.child({ path: opts.path });
  const maxDelay = Math.max(opts.reopenMs, opts.reopenMaxMs ?? opts.reopenMs);
  let port: SerialPort | undefined;
  let stopped = true;
  let timer: unknown;
  let state: SerialLineState = 'stopped';
  let everOpened = false;
  let lastOpenError = '';
  let delay = opts.reopenMs;

  const scheduleReopen = () => {
    if (stopped || timer !== undefined) return;
    const wait = delay;
    delay = Math.min(delay * 2, maxDelay);
    timer = opts.clock.setTimeout(() => {
      timer = undefined;
      void tryOpen(false);
    }, wait);
  };

  /** Logs a failed open when the state or the reason changes; silent on repeats. */
  const openFailed = (err: unknown) => {
    const next: SerialLineState = isAbsent(err) ? 'absent' : 'failing';
    const msg = (err as Error).message ?? String(err);
    if (next !== state || (next === 'failing' && msg !== lastOpenError)) {
      if (next === 'absent') log.warn({ retryMaxMs: maxDelay }, 'serial adapter not present; waiting for it');
      else log.error({ err, hint: hintFor(err), retryMaxMs: maxDelay }, 'cannot open serial port; retrying');
    }
    state = next;
    lastOpenError = msg;
  };

  const tryOpen = async (first: boolean): Promise<void> => {
    if (stopped) return;
    const p = new SerialPort({
      path: opts.path,
      baudRate: opts.baudRate,
      parity: opts.parity,
      dataBits: opts.dataBits,
      stopBits: opts.stopBits,
      autoOpen: false,
    });
    try {
      await new Promise<void>((resolve, reject) => p.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      openFailed(err);
      scheduleReopen();
      return;
    }
    if (stopped) {
      p.close();
      return;
    }
    lastOpenError = '';
    delay = opts.reopenMs;
    port = p;
    state = 'open';
    p.on('data', opts.onData);
    p.on('error', (err) => log.error({ err }, 'serial port error'));
    p.on('close', () => {
      if (port !== p) return;
      port = undefined;
      if (stopped) return;
      state = 'absent';
      log.warn('serial port closed (adapter unplugged?); waiting for it');
      scheduleReopen();
    });
    log.info({ baudRate: opts.baudRate }, everOpened ? 'serial port reopened' : 'serial port open');
    everOpened = true;
    opts.onOpen?.(first);
  };

  return {
    get open() {
      return state === 'open';
    },
    get state() {
      return state;
    },
    async start() {
      stopped = false;
      lastOpenError = '';
      delay = opts.reopenMs;
      // From `stopped`, the first failed attempt is a change of state and logged: an adapter
      // missing at start is one "not present" warning, then silence until it appears.
      await tryOpen(true);
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) opts.clock.clearTimeout(timer);
      timer = undefined;
      const p = port;
      port = undefined;
      state = 'stopped';
      if (p?.isOpen) await new Promise<void>((resolve) => p.close(() => resolve()));
    },
    write(buf) {
      const p = port;
      if (!p) return Promise.reject(new PortError(`serial port ${opts.path} is not open`));
      return new Promise((resolve, reject) => {
        p.write(buf, (err) => {
          if (err) reject(new PortError(`write to ${opts.path} failed: ${err.message}`, { cause: err }));
          else p.drain((e) => (e ? reject(new PortError(e.message, { cause: e })) : resolve()));
        });
      });
    },
  };
}
