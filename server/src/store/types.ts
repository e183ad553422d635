import type { CommandResult, DeviceEvent, GasId, Reading } from '@gaswatch/shared';

/**
 * The storage contract. Two implementations pass the same contract suite: InfluxDB 1.x (when
 * INFLUX_URL is set) and an embedded LevelDB store (classic-level) for the one-box shape.
 */

/** One reading as stored: the payload plus where it came from and how it arrived. */
export interface StoredReading {
  gw: string;
  dev: string;
  /** Sampling time, ms since epoch (the reading's own ts). */
  ts: number;
  seq: number;
  values: Reading['values'];
  status: Reading['status'];
  /** Fault codes the detector reported (kept: the fault rules see them again on a rebuild). */
  faults?: Reading['faults'];
  /** Per-channel quality (kept: a 'bad' channel never clears an alarm, on a rebuild either). */
  quality?: Reading['quality'];
  /** The detector's own alarm output at sampling time, where the profile exposes it. */
  alarm?: Reading['alarm'];
  /** When the server received it, ms since epoch. */
  receivedAt: number;
  /** True when it arrived well after it was sampled (replayed from an outbox). */
  late: boolean;
}

export interface ReadingQuery {
  dev: string;
  gas?: GasId;
  /** Inclusive, ms since epoch. */
  from: number;
  /** Exclusive, ms since epoch. */
  to: number;
  /**
   * Aggregate into buckets of this many ms (mean, min, max); raw rows when absent. Buckets start at
   * `from` (from, from + everyMs, …), so no bucket is stamped before the range asked for.
   */
  everyMs?: number;
  limit?: number;
}

/** What countReadings counts beyond the device: the filters of a raw ReadingQuery. */
export interface ReadingCount {
  gas?: GasId;
  /** Inclusive, ms since epoch. */
  from: number;
  /** Exclusive, ms since epoch. */
  to: number;
  /** Stop counting at this many (a week of one-second readings is 604 800 rows to walk). */
  cap?: number;
}

export interface ReadingRow {
  ts: number;
  seq?: number;
  values: Partial<Record<GasId, number>>;
  status?: Reading['status'];
  faults?: Reading['faults'];
  quality?: Reading['quality'];
  alarm?: Reading['alarm'];
}

export interface AggregateRow {
  ts: number;
  gas: GasId;
  mean: number;
  min: number;
  max: number;
  count: number;
}

/** One alarm lifecycle transition, append-only; alarm state is rebuilt from these at start. */
export interface AlarmEventRecord {
  /** Unique per event (alarmId + sequence within the alarm). */
  id: string;
  alarmId: string;
  /** ms since epoch. */
  ts: number;
  /** Arbitrary JSON the alarm engine owns (type, actor, note, severity, ...). */
  data: Record<string, unknown>;
}

/**
 * The `data` of a stored alarm event. A record that does not parse to an object (a damaged file,
 * a hand edit) becomes `{}`, which the rebuild skips and counts: one bad record must not keep the
 * alarm engine from loading every other alarm.
 */
export function alarmEventData(raw: string): Record<string, unknown> {
  try {
    return asObject(JSON.parse(raw));
  } catch {
    return {};
  }
}

/** A JSON object as it is; anything else (null, an array, a number) as `{}`. */
export function asObject(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/**
 * What a gateway reported besides readings, append-only: a DeviceEvent (interlock switched a
 * valve or fan, fault, bump test result, silenced, local alarm raised/cleared) or the result of a
 * command the server sent it.
 */
export type DeviceEventRecord =
  | (DeviceEventRecordBase & { kind: 'event'; dev: string; data: DeviceEvent })
  | (DeviceEventRecordBase & { kind: 'command_result'; dev: null; data: CommandResult });

interface DeviceEventRecordBase {
  /**
   * Unique per event, derived from its content (see deviceEventId): the same message delivered
   * twice (QoS 1 redelivery, a gateway outbox replay) is stored once.
   */
  id: string;
  gw: string;
  /** The event's own time (its `ts`), ms since epoch. */
  ts: number;
  /** When the server received it, ms since epoch. */
  receivedAt: number;
}

export interface DeviceEventQuery {
  /** Only this device (command results belong to a gateway and have no device). */
  dev?: string;
  /** Only this gateway. */
  gw?: string;
  /** Inclusive, ms since epoch. */
  from?: number;
  /** Exclusive, ms since epoch. */
  to?: number;
  /** Most records returned (the newest ones). */
  limit?: number;
}

export interface Store {
  readonly kind: 'embedded' | 'influx';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<boolean>;
  /**
   * Writes a batch durably. Idempotent: a reading with the same (dev, ts) stored twice is one row.
   * Rejects when the backend is unreachable; the caller keeps the batch and retries.
   */
  writeReadings(batch: readonly StoredReading[]): Promise<void>;
  queryReadings(q: ReadingQuery): Promise<ReadingRow[] | AggregateRow[]>;
  /**
   * Rows stored for a device: all of them, or those in a range (with a gas: those carrying it), as
   * /api/readings counts its `total`. With `cap`, counting stops there: the answer is at most `cap`.
   */
  countReadings(dev: string, range?: ReadingCount): Promise<number>;
  /**
   * Alarm events were kept here until they moved to SQL (issue 11); the server now only reads
   * them, once, to import them (db/legacy-import.ts). Appending stays for tests and benchmarks
   * that run the alarm engine over a store, and to build the DATA_DIR of an older version.
   */
  appendAlarmEvents(events: readonly AlarmEventRecord[]): Promise<void>;
  /** Every alarm event in time order. */
  listAlarmEvents(opts?: { alarmId?: string; since?: number }): Promise<AlarmEventRecord[]>;
  /** Appends gateway events and command results; a record with an id already stored is kept once. */
  appendDeviceEvents(events: readonly DeviceEventRecord[]): Promise<void>;
  /** Device events and command results, newest first (by their own ts, then id). */
  listDeviceEvents(q?: DeviceEventQuery): Promise<DeviceEventRecord[]>;
}
