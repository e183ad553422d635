import type { Logger } from 'pino';
import { StoreRejectedError } from '../errors.js';
import type { CoreMetrics } from '../metrics.js';
import type { Store } from '../store/types.js';
import type { Journal } from './journal.js';

export interface DrainerOptions {
  journal: Journal;
  store: Store;
  logger: Logger;
  metrics: CoreMetrics;
  /** Readings per store write. */
  batchSize: number;
  /** Longest wait before pending readings are written. */
  flushMs: number;
}

export interface DrainerStatus {
  buffered: number;
  storeHealthy: boolean;
  lastError: string | null;
}

/**
 * Moves readings from the journal to the store in batches, in order, one write in flight. A failed
 * write leaves the segment in the journal and is retried with backoff (1 s → 5 s); /readyz reports
 * the store as unreachable meanwhile.
 */
export function createDrainer(opts: DrainerOptions) {
  const { journal, store, metrics } = opts;
  const log = opts.logger.child({ part: 'drainer' });
  let stopped = true;
  let healthy = true;
  let lastError: string | null = null;
  let failures = 0;
  let sealFailures = 0;
  let wake: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let loop: Promise<void> | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = () => {
        wake = null;
        if (timer) clearTimeout(timer);
        timer = null;
        resolve();
      };
      timer = setTimeout(() => wake?.(), ms);
    });

  /** Writes the oldest sealed segment; false when there was nothing to write. */
  async function drainOne(): Promise<boolean> {
    if (!journal.peek() && journal.pending > 0) {
      try {
        journal.seal();
        sealFailures = 0;
      } catch (err) {
        // The journal's disk refused, not the store: nothing was sealed (readings whose write
        // failed are not acknowledged, /readyz names it); try again after flushMs.
        if (sealFailures++ % 600 === 0)
          log.error({ err, buffered: journal.buffered }, 'could not seal the journal segment; retrying');
        return false;
      }
    }
    const seg = journal.peek();
    if (!seg) return false;
    const records = journal.load(seg);
    for (let i = 0; i < records.length; i += opts.batchSize) {
      const chunk = records.slice(i, i + opts.batchSize);
      const end = metrics.storeWrite.startTimer();
      try {
        await store.writeReadings(chunk);
      } catch (err) {
        if (!(err instanceof StoreRejectedError)) throw err;
        // The store kept what it could and will never take the rest: log it loudly, count it,
        // and move on instead of blocking every later reading behind it.
        metrics.storeRejected.inc();
        log.error({ err, first: chunk[0], size: chunk.length }, 'store refused part of a batch');
      }
      end();
      metrics.storeWritten.inc(chunk.length);
    }
    journal.commit(seg);
    metrics.buffered.set(journal.buffered);
    return true;
  }

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        const wrote = await drainOne();
        if (!healthy) log.info({ buffered: journal.buffered }, 'store reachable again, draining');
        healthy = true;
        lastError = null;
        failures = 0;
        if (!wrote) await sleep(opts.flushMs);
      } catch (err) {
        metrics.storeErrors.inc();
        failures++;
        if (healthy || failures % 30 === 0) {
          log.error({ err, buffered: journal.buffered }, 'store write failed; readings stay in the journal');
        }
        healthy = false;
        lastError = (err as Error).message;
        await sleep(Math.min(5_000, 1_000 * failures));
      }
    }
  }

  return {
    start() {
      stopped = false;
      loop = run();
    },
    /** Asks for an early write (a full batch is waiting). */
    kick() {
      if (healthy) wake?.();
    },
    /** Stops the loop; makes one last attempt to write what is pending (it stays on disk otherwise). */
    async stop(): Promise<void> {
      stopped = true;
      wake?.();
      await loop;
      loop = null;
      try {
        while (await drainOne()) {}
      } catch (err) {
        log.warn({ err, buffered: journal.buffered }, 'readings left in the journal for the next start');
      }
    },
    status(): DrainerStatus {
      return { buffered: journal.buffered, storeHealthy: healthy, lastError };
    },
  };
}
export type Drainer = ReturnType<typeof createDrainer>;
