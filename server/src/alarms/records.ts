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
