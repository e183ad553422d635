import {
  closeSync,
  existsSync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';
import { matchesDeviceEventQuery, newestFirst } from './device-events.js';
import type { DeviceEventQuery, DeviceEventRecord, Store } from './types.js';

export interface DeviceEventWriterOptions {
  store: Store;
  logger: Logger;
  /** Records waiting for the store beyond this are dropped, oldest first, and counted (default 10 000). */
  maxPending?: number;
  /** Records per store write (default 500). */
  batchSize?: number;
  /** First retry delay after a failed write, doubled up to maxRetryMs (default 500 ms). */
  retryMs?: number;
  maxRetryMs?: number;
  metrics?: { pending: Gauge; dropped: Counter; written: Counter };
  /**
   * File that holds the records not stored yet (JSON lines), written before `add` returns, i.e.
   * before ingest lets the broker acknowledge the message: a crash while the store is down loses
   * nothing; the next start stores them. Memory only when absent (tests of the writer alone).
   */
  pendingFile?: string;
  /** fdatasync the pending file on every add (INGEST_FSYNC; default: write(2) only, like the journal). */
  fsync?: boolean;
}

/**
 * Appends gateway events and command results to the store in the background. MQTT acknowledges
 * them right after they reach the bus, so a store outage must not lose them: they wait in memory
 * and in `pendingFile` (bounded), are retried with backoff, and survive a crash or restart;
 * queries see them meanwhile (`pendingMatching`).
 */
export function createDeviceEventWriter(opts: DeviceEventWriterOptions) {
  const log = opts.logger.child({ component: 'device-events' });
  const maxPending = opts.maxPending ?? 10_000;
  const batchSize = opts.batchSize ?? 500;
  const retryMs = opts.retryMs ?? 500;
  const maxRetryMs = opts.maxRetryMs ?? 10_000;
  let pending: DeviceEventRecord[] = [];
  let writing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let delay = retryMs;
  let running = false;
  let failingSince: number | null = null;
  let fd: number | null = null;

  const setGauge = () => opts.metrics?.pending.set(pending.length);

  /** Loads what an earlier run left unstored; an unreadable line is logged and skipped. */
  function loadPendingFile(file: string): void {
    if (!existsSync(file)) return;
    const seen = new Set(pending.map((r) => r.id));
    let bad = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const r = JSON.parse(line) as DeviceEventRecord;
        if (typeof r.id !== 'string' || (r.kind !== 'event' && r.kind !== 'command_result'))
          throw new Error('not a record');
        if (!seen.has(r.id)) pending.push(r);
        seen.add(r.id);
      } catch {
        bad++;
      }
    }
    if (bad > 0) log.error({ file, bad }, 'unreadable lines in the pending device-events file skipped');
    if (pending.length > 0)
      log.info({ file, pending: pending.length }, 'device events from the last run to store');
  }

  /**
   * Disk trouble with the pending file (full, I/O error) must neither stop the writer nor reach
   * ingest: the records stay in memory and in the store path; a stale file only makes the next
   * start store some records again, which lands once (the id is the content hash).
   */
  function diskSafely(what: string, f: () => void): void {
    try {
      f();
    } catch (err) {
      log.error(
        { err, file: opts.pendingFile },
        `device-events pending file: ${what} failed; records kept in memory`,
      );
    }
  }

  /** The file holds exactly `pending` again (after a store write or a drop). */
  function rewritePendingFile(): void {
    const file = opts.pendingFile;
    if (file === undefined || fd === null) return;
    if (pending.length === 0) {
      ftruncateSync(fd, 0);
      return;
    }
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, pending.map((r) => `${JSON.stringify(r)}\n`).join(''));
    if (opts.fsync) {
      const t = openSync(tmp, 'r');
      fdatasyncSync(t);
      closeSync(t);
    }
    renameSync(tmp, file);
    // Only now swap descriptors: if anything above failed, the old one still appends to the file.
    const old = fd;
    fd = openSync(file, 'a');
    closeSync(old);
  }

  async function writeOnce(): Promise<boolean> {
    while (pending.length > 0) {
      const batch = pending.slice(0, batchSize);
      try {
        await opts.store.appendDeviceEvents(batch);
      } catch (err) {
        if (failingSince === null) {
          failingSince = Date.now();
          log.warn(
            { err: (err as Error).message, pending: pending.length },
            'device events not stored yet; retrying',
          );
        }
        return false;
      }
      // Records may have been appended (or, on overflow, dropped) meanwhile: remove exactly these.
      const written = new Set(batch);
      pending = pending.filter((r) => !written.has(r));
      diskSafely('rewrite', rewritePendingFile);
      opts.metrics?.written.inc(batch.length);
      setGauge();
      if (failingSince !== null) {
        log.info({ pending: pending.length }, 'device events stored again');
        failingSince = null;
      }
    }
    return true;
  }

  function kick(): void {
    if (writing || timer || !running) return;
    writing = writeOnce()
      .catch((err: unknown) => {
        log.error({ err }, 'device events: write attempt failed unexpectedly; retrying');
        return false;
      })
      .then((ok) => {
        writing = null;
        if (ok) {
          delay = retryMs;
          if (pending.length > 0) kick();
          return;
        }
        if (!running) return;
        timer = setTimeout(() => {
          timer = null;
          kick();
        }, delay);
        delay = Math.min(delay * 2, maxRetryMs);
      });
  }

  return {
    start(): void {
      if (opts.pendingFile !== undefined && fd === null) {
        loadPendingFile(opts.pendingFile);
        fd = openSync(opts.pendingFile, 'a');
        setGauge();
      }
      running = true;
      kick();
    },
    /** Stops retrying; one last attempt to store what is pending (logged if it fails). */
    async stop(): Promise<void> {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      if (writing) await writing;
      if (pending.length > 0 && !(await writeOnce())) {
        if (fd !== null)
          log.warn(
            { pending: pending.length, file: opts.pendingFile },
            'device events kept on disk for the next start: the store was unreachable',
          );
        else
          log.error({ pending: pending.length }, 'device events lost at shutdown: the store was unreachable');
      }
      if (fd !== null) closeSync(fd);
      fd = null;
    },
    add(record: DeviceEventRecord): void {
      pending.push(record);
      if (fd !== null) {
        const line = `${JSON.stringify(record)}\n`;
        const at = fd;
        diskSafely('append', () => {
          writeSync(at, line);
          if (opts.fsync) fdatasyncSync(at);
        });
      }
      if (pending.length > maxPending) {
        const dropped = pending.length - maxPending;
        pending = pending.slice(dropped);
        diskSafely('rewrite', rewritePendingFile);
        opts.metrics?.dropped.inc(dropped);
        log.error({ dropped, maxPending }, 'device events dropped: the store has been unreachable too long');
      }
      setGauge();
      kick();
    },
    /** Records not stored yet that match a query, newest first. */
    pendingMatching(q: DeviceEventQuery): DeviceEventRecord[] {
      return pending.filter((r) => matchesDeviceEventQuery(r, q)).sort(newestFirst);
    },
    get pendingCount(): number {
      return pending.length;
    },
    /** Resolves once nothing is waiting for the store (for tests). */
    async idle(): Promise<void> {
      while (writing) await writing;
    },
  };
}
export type DeviceEventWriter = ReturnType<typeof createDeviceEventWriter>;
