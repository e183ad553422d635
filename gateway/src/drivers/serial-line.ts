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
  reopenMs: number;
  logger: Logger;
  clock: Clock;
  onData: (chunk: Buffer) => void;
  /** Called after a successful open (first or after a loss). */
  onOpen?: (first: boolean) => void;
}

/**
 * A serial port that reopens itself: an unplugged USB adapter closes the port, and the line keeps
 * trying to open the path every `reopenMs` until the adapter is back.
 */
export interface SerialLine {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly open: boolean;
  write(buf: Buffer): Promise<void>;
}

export function createSerialLine(opts: SerialLineOptions): SerialLine {
  const log = opts.logger;
  let port: SerialPort | undefined;
  let stopped = true;
  let timer: unknown;
  let opened = false;
  let everOpened = false;
  let lastOpenError = '';

  const scheduleReopen = () => {
    if (stopped || timer !== undefined) return;
    timer = opts.clock.setTimeout(() => {
      timer = undefined;
      void tryOpen();
    }, opts.reopenMs);
  };

  const tryOpen = async (): Promise<void> => {
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
      const msg = (err as Error).message;
      if (msg !== lastOpenError) log.error({ err, path: opts.path }, 'cannot open serial port; retrying');
      lastOpenError = msg;
      scheduleReopen();
      return;
    }
    if (stopped) {
      p.close();
      return;
    }
    lastOpenError = '';
    port = p;
    opened = true;
    p.on('data', opts.onData);
    p.on('error', (err) => log.error({ err, path: opts.path }, 'serial port error'));
    p.on('close', () => {
      if (port !== p) return;
      port = undefined;
      opened = false;
      if (stopped) return;
      log.error({ path: opts.path }, 'serial port closed (adapter unplugged?); reopening');
      scheduleReopen();
    });
    log.info(
      { path: opts.path, baudRate: opts.baudRate },
      everOpened ? 'serial port reopened' : 'serial port open',
    );
    const first = !everOpened;
    everOpened = true;
    opts.onOpen?.(first);
  };

  return {
    get open() {
      return opened;
    },
    async start() {
      stopped = false;
      await tryOpen();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) opts.clock.clearTimeout(timer);
      timer = undefined;
      const p = port;
      port = undefined;
      opened = false;
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
