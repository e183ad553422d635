import { ServerError } from '../errors.js';
import type { AlarmEventRecord } from '../store/types.js';

/**
 * Where the alarm engine keeps its events. The server passes the SQL one (db/alarm-records.ts
 * `sqlAlarmRecords`); tests and benchmarks that build the engine alone may pass any `Store`,
 * whose alarm-event methods have the same contract.
 */
export interface AlarmRecords {
  /**
   * Stores events, idempotent by (alarm id, seq). Rejects while the backend is unreachable (the
   * caller retries); rejects with AlarmRecordError for a record it will never accept.
   */
  appendAlarmEvents(events: readonly AlarmEventRecord[]): Promise<void>;
  /** Every stored event in time order: what the alarm state is rebuilt from at start. */
  listAlarmEvents(): Promise<AlarmEventRecord[]>;
}

/**
 * An alarm event record that AlarmRecords will never accept (SQL: no seq, no alarm, an alarm of
 * another id, …). Retrying cannot help: the event log drops that record (by `recordId`) and keeps
 * the rest. Declared here, with the contract, so the engine does not depend on the database code.
 */
export class AlarmRecordError extends ServerError {
  /** The refused record's id (`<alarm id>#<seq>` from the engine). */
  readonly recordId: string;
  constructor(recordId: string, message: string) {
    super('alarm_record_invalid', message);
    this.recordId = recordId;
  }
}
