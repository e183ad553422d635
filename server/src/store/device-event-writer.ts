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
}

/**
 * Appends gateway events and command results to the store in the background. MQTT already
 * acknowledged them when they reach the bus, so a store outage must not lose them: they wait in
 * memory (bounded) and are retried with backoff; queries see them meanwhile (`pendingMatching`).
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

  const setGauge = () => opts.metrics?.pending.set(pending.length);

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
    writing = writeOnce().then((ok) => {
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
        log.error({ pending: pending.length }, 'device events lost at shutdown: the store was unreachable');
      }
    },
    add(record: DeviceEventRecord): void {
      pending.push(record);
      if (pending.length > maxPending) {
        const dropped = pending.length - maxPending;
        pending = pending.slice(dropped);
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
