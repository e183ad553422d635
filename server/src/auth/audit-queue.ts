import type { Logger } from 'pino';
import { type AuditEntry, appendAudit } from '../db/audit.js';
import type { Db } from '../db/database.js';
import { realTimers, sleep } from '../timers.js';

/**
 * Audit rows of changes that must not wait for the database: an acknowledgement is answered while
 * the database is down (the alarm engine keeps its event and stores it later), so its audit row
 * is queued too and written, in order, once the database answers. Changes to accounts, tokens and
 * areas write theirs in the change's own transaction instead.
 */
export interface AuditQueue {
  append(entry: AuditEntry): void;
  /** Resolves when everything queued so far is written (or, once stopping, given up after 3 tries). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function createAuditQueue(db: Db, log: Pick<Logger, 'error' | 'warn'>): AuditQueue {
  const pending: AuditEntry[] = [];
  let writing: Promise<void> | null = null;
  let stopping = false;

  async function drain(): Promise<void> {
    for (let attempt = 0; pending.length > 0; ) {
      const entry = pending[0] as AuditEntry;
      try {
        await appendAudit(db, entry);
        pending.shift();
        attempt = 0;
      } catch (err) {
        attempt++;
        if (stopping && attempt >= 3) {
          log.error({ err, lost: pending }, 'audit rows could not be written before stop');
          pending.length = 0;
          return;
        }
        log.warn({ err, queued: pending.length, attempt }, 'writing the audit log failed; retrying');
        await sleep(realTimers, Math.min(100 * 2 ** attempt, 5_000));
      }
    }
  }

  const flush = (): Promise<void> => {
    writing ??= drain().finally(() => {
      writing = null;
      // Appended after the loop saw the queue empty, before this ran: write it too.
      if (pending.length > 0) void flush();
    });
    return writing;
  };

  return {
    append(entry) {
      pending.push(entry);
      void flush();
    },
    flush,
    async stop() {
      stopping = true;
      while (pending.length > 0 || writing !== null) await flush();
    },
  };
}
