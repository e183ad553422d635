import type { Logger } from 'pino';
import type { AlarmEventRecord } from '../store/types.js';
import { realTimers, sleep } from '../timers.js';
import { AlarmRecordError, type AlarmRecords } from './records.js';

/**
 * The alarm events on their way to the database. Every transition is appended at once (the
 * engine never waits for the database to change an alarm); writes go out in batches, one at a
 * time, and a failed batch is retried with backoff until it is stored, so an outage delays events
 * but loses none. The one exception is a record the database refuses as invalid
 * (AlarmRecordError): retrying cannot store it and would hold back every event queued behind it,
 * so it is logged in full, counted and dropped, and the rest of its batch goes on.
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
  records: Pick<AlarmRecords, 'appendAlarmEvents'>;
  logger: Logger;
  /** Counts a failed write (each attempt). */
  onWriteError(): void;
  /** Counts a record the database refused as invalid and that was dropped. */
  onRefused(): void;
  /** False once the engine is stopping: a batch that keeps failing is then given up after 3 tries. */
  running(): boolean;
}

export function createEventLog(deps: EventLogDeps): EventLog {
  const { records, logger: log } = deps;
  let pending: AlarmEventRecord[] = [];
  let flushing: Promise<void> | null = null;

  /** The batch without the record `err` names, or null when none of it has that id. */
  function withoutRefused(batch: AlarmEventRecord[], err: AlarmRecordError): AlarmEventRecord[] | null {
    const refused = batch.find((r) => r.id === err.recordId);
    if (refused === undefined) return null;
    deps.onRefused();
    // The whole record goes into the log: once dropped, this line is the only copy of it.
    log.error(
      { err, alarmId: refused.alarmId, eventId: refused.id, ts: refused.ts, data: refused.data },
      'alarm event refused by the database as invalid and dropped (not retried); the record is in this log line',
    );
    return batch.filter((r) => r !== refused);
  }

  async function writeWithRetry(batch: AlarmEventRecord[]): Promise<void> {
    let rest = batch;
    let attempt = 0;
    while (rest.length > 0) {
      try {
        await records.appendAlarmEvents(rest);
        return;
      } catch (err) {
        const kept = err instanceof AlarmRecordError ? withoutRefused(rest, err) : null;
        if (kept !== null) {
          // The database answered: no outage to back off from; the rest goes at once.
          rest = kept;
          attempt = 0;
          continue;
        }
        deps.onWriteError();
        if (!deps.running() && attempt >= 2) {
          log.error({ err, events: rest.length }, 'alarm events could not be stored before stop');
          throw err;
        }
        log.error(
          { err, events: rest.length, attempt: attempt + 1 },
          'storing alarm events failed; retrying',
        );
        await sleep(realTimers, Math.min(100 * 2 ** attempt, 5_000));
        attempt++;
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
