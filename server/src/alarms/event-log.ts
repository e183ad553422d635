import type { Logger } from 'pino';
import type { AlarmEventRecord, Store } from '../store/types.js';
import { realTimers, sleep } from '../timers.js';

/**
 * The alarm events on their way to the store. Every transition is appended at once (the engine
 * never waits for the store to change an alarm); writes go out in batches, one at a time, and a
 * failed batch is retried with backoff until it is stored, so an InfluxDB outage delays events
 * but loses none.
 */
export interface EventLog {
  /** Queues a record and starts writing it; a failure is logged and retried, never thrown. */
  append(record: AlarmEventRecord): void;
  /** Resolves when everything queued so far (and anything queued meanwhile) is stored. */
  flush(): Promise<void>;
  /** Nothing is queued and no write is under way. */
  drained(): boolean;
}

export interface EventLogDeps {
  store: Pick<Store, 'appendAlarmEvents'>;
  logger: Logger;
  /** Counts a failed write (each attempt). */
  onWriteError(): void;
  /** False once the engine is stopping: a batch that keeps failing is then given up after 3 tries. */
  running(): boolean;
}

export function createEventLog(deps: EventLogDeps): EventLog {
  const { store, logger: log } = deps;
  let pending: AlarmEventRecord[] = [];
  let flushing: Promise<void> | null = null;

  async function writeWithRetry(batch: AlarmEventRecord[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await store.appendAlarmEvents(batch);
        return;
      } catch (err) {
        deps.onWriteError();
        if (!deps.running() && attempt >= 2) {
          log.error({ err, events: batch.length }, 'alarm events could not be stored before stop');
          throw err;
        }
        log.error(
          { err, events: batch.length, attempt: attempt + 1 },
          'storing alarm events failed; retrying',
        );
        await sleep(realTimers, Math.min(100 * 2 ** attempt, 5_000));
      }
    }
  }

  function flush(): Promise<void> {
    if (flushing !== null) return flushing;
    if (pending.length === 0) return Promise.resolve();
    const run = async () => {
      // Yield first so `flushing` is assigned before the loop can finish.
      await Promise.resolve();
      try {
        while (pending.length > 0) {
          const batch = pending;
          pending = [];
          await writeWithRetry(batch);
        }
      } finally {
        flushing = null;
      }
    };
    flushing = run();
    return flushing;
  }

  return {
    append(record) {
      pending.push(record);
      flush().catch((err: unknown) => log.error({ err }, 'alarm event write failed'));
    },
    flush,
    drained: () => pending.length === 0 && flushing === null,
  };
}
