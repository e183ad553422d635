import type { AlarmLifecycleState } from '../alarms/model.js';

/**
 * The relational store's tables as Kysely sees them: one interface, the only description of the
 * schema the code type-checks against. Columns are snake_case as in SQL (no name-mapping plugin,
 * so a query reads like the SQL it sends). Times are ms since epoch in `bigint` columns; JSON is
 * kept as text (see migrations/0001-alarms.ts for why).
 */
export interface Database {
  alarms: AlarmsTable;
  alarm_events: AlarmEventsTable;
  legacy_imports: LegacyImportsTable;
}

/** One row per alarm: its current state as columns (for lists and filters) plus the whole alarm. */
export interface AlarmsTable {
  id: string;
  gw: string;
  dev: string;
  site: string | null;
  /** Condition key, e.g. 'CO:dose', 'offline'. */
  key: string;
  rule: string;
  severity: 'warning' | 'critical';
  state: AlarmLifecycleState;
  /** Event time of the raise. */
  raised_at: number;
  /** Event time the condition ended; null while it holds. */
  cleared_at: number | null;
  /** Seq of the event that wrote this row: only a higher seq replaces it. */
  seq: number;
  /** ts of that event. */
  updated_at: number;
  /** The Alarm (server/src/alarms/model.ts) as JSON, as of event `seq`. */
  alarm: string;
}

/** One lifecycle transition of an alarm, append-only; unique by (alarm_id, seq). */
export interface AlarmEventsTable {
  /** The record's id (`<alarm id>#<seq>` from the engine). */
  id: string;
  alarm_id: string;
  seq: number;
  ts: number;
  /** raised, acknowledged, cleared, escalated, … (AlarmEventType). */
  type: string;
  /** Who caused it, for acknowledgements; null for the engine's own transitions. */
  actor: string | null;
  /** The record's whole `data` as JSON: the transition and the alarm right after it. */
  data: string;
}

/** A finished import of records kept before SQL (db/legacy-import.ts); absent: not yet imported. */
export interface LegacyImportsTable {
  /** What was imported, e.g. 'timeseries_alarm_events'. */
  source: string;
  /** Wall clock when the import finished, ms since epoch. */
  imported_at: number;
  /** Records stored, repaired ones included. */
  events: number;
  /** Records stored after their damaged alarm was repaired with defaults. */
  repaired: number;
  /** Records left out: damaged beyond repair, or a second copy of one already imported. */
  skipped: number;
}
