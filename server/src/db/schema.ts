import type { AreaKind, Role } from '@gaswatch/shared';
import type { AlarmLifecycleState } from '../alarms/model.js';
import type { NotificationRow } from '../notify/record.js';

/**
 * The relational store's tables as Kysely sees them: one interface, the only description of the
 * schema the code type-checks against. Columns are snake_case as in SQL (no name-mapping plugin,
 * so a query reads like the SQL it sends). Times are ms since epoch in `bigint` columns; JSON is
 * kept as text (see migrations/0001-alarms.ts for why).
 */
export interface Database {
  alarms: AlarmsTable;
  alarm_events: AlarmEventsTable;
  areas: AreasTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  gateways: GatewaysTable;
  audit_log: AuditLogTable;
  legacy_imports: LegacyImportsTable;
  shifts: ShiftsTable;
  households: HouseholdsTable;
  household_detectors: HouseholdDetectorsTable;
  household_counts: HouseholdCountsTable;
  inspections: InspectionsTable;
  inspection_photos: InspectionPhotosTable;
  advisories: AdvisoriesTable;
  ledgers: LedgersTable;
  spaces: SpacesTable;
  permits: PermitsTable;
  permit_events: PermitEventsTable;
  permit_tests: PermitTestsTable;
  permit_test_readings: PermitTestReadingsTable;
  permit_monitoring: PermitMonitoringTable;
  bump_tests: BumpTestsTable;
  calibrations: CalibrationsTable;
  device_maintenance: DeviceMaintenanceTable;
  notifications: NotificationsTable;
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

/** The area tree (migrations/0002-access.ts): county → township → village/community. */
export interface AreasTable {
  id: string;
  parent: string | null;
  name: string;
  kind: AreaKind;
  created_at: number;
}

export interface UsersTable {
  username: string;
  display_name: string;
  role: Role;
  /** The area subtree the user sees and acts in; null for every area. */
  area: string | null;
  /** argon2id, PHC string. */
  password_hash: string;
  created_at: number;
  updated_at: number;
  /** Set when an admin disables the account: no login, every session refused. */
  disabled_at: number | null;
}

export interface SessionsTable {
  /** SHA-256 (hex) of the cookie's secret. */
  id: string;
  username: string;
  /** The token a cookie-authenticated change must echo in X-CSRF-Token. */
  csrf: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
  revoked_at: number | null;
  address: string | null;
  user_agent: string | null;
}

export interface ApiTokensTable {
  /** Public id (`tok_…`), the first part of the secret. */
  id: string;
  name: string;
  /** SHA-256 (hex) of the whole secret. */
  secret_hash: string;
  role: Role;
  area: string | null;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface GatewaysTable {
  id: string;
  /** The area its devices belong to when their site names none; null for none. */
  area: string | null;
  /** MQTT password in Mosquitto's password_file form (`$7$`: PBKDF2-SHA512). */
  password_hash: string;
  created_by: string;
  created_at: number;
  rotated_at: number | null;
  revoked_at: number | null;
}

/** One change, append-only. */
export interface AuditLogTable {
  /** Sorts by time: the list's cursor. */
  id: string;
  ts: number;
  /** Username, token id, or `cli` / `system`. */
  actor: string;
  actor_kind: 'user' | 'token' | 'cli' | 'system';
  /** e.g. `alarm.acknowledge`, `user.create`, `gateway.revoke`. */
  action: string;
  target_kind: string;
  target_id: string;
  /** JSON of the target before and after the change (secrets never included). */
  before: string | null;
  after: string | null;
  /** Client address of the request. */
  address: string | null;
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

/** One shift handover of a duty room (migrations/0004-shifts.ts, db/shifts.ts). */
export interface ShiftsTable {
  /** Sorts by handover time: the list's cursor. */
  id: string;
  /** The area of the operator who handed over (the duty room's); null for every area. */
  area: string | null;
  /** Where the shift began: the previous handover of the area, else 12 h before this one. */
  started_at: number;
  /** The handover. */
  ended_at: number;
  /** Username or token id of the outgoing operator. */
  handed_over_by: string;
  /** The outgoing operator's handover note. */
  note: string;
  /** The shift report at handover as JSON (reports/shift-report.ts ShiftReport). */
  report: string;
  /** The incoming operator who confirmed it; null until then. */
  confirmed_by: string | null;
  confirmed_at: number | null;
  confirm_note: string | null;
}

/** A household of the registry (SPEC §10). */
export interface HouseholdsTable {
  id: string;
  area: string;
  address: string;
  lat: number | null;
  lon: number | null;
  dwelling: string | null;
  occupant_count: number;
  /** JSON array of OCCUPANT_FLAGS. */
  occupant_flags: string;
  /** 1 when a flag makes it vulnerable (VULNERABLE_FLAGS), else 0. */
  vulnerable: number;
  /** JSON array of HEATING_KINDS. */
  heating: string;
  /** JSON array of {name, relation, phone}, in call order. */
  contacts: string;
  notes: string;
  created_at: number;
  updated_at: number;
}

/** A detector installed in a household: one household per device. */
export interface HouseholdDetectorsTable {
  device: string;
  household_id: string;
  location: string;
  /** YYYY-MM-DD. */
  installed_on: string | null;
  expires_on: string | null;
  created_at: number;
}

/**
 * How many homes an area has, by vulnerable flag (0009-household-indexes): kept by triggers on
 * `households`, read for a list's total. (SQLite's search index tables are read as SQL text.)
 */
export interface HouseholdCountsTable {
  area: string;
  vulnerable: number;
  households: number;
}

/** A home visit (migrations/0006-inspections.ts, db/inspections.ts). */
export interface InspectionsTable {
  /** Sorts by the time it was recorded. */
  id: string;
  household_id: string;
  /** The household's area when the visit was recorded: the scope of lists. */
  area: string;
  /** YYYY-MM-DD. */
  date: string;
  /** JSON array of names. */
  inspectors: string;
  /** JSON array of {item, result, note}, in checklist order. */
  items: string;
  /** Items found. */
  found_count: number;
  /** YYYY-MM-DD; null (with the outcome) when nothing was found. */
  rectify_deadline: string | null;
  /** pending | rectified | not_rectified. */
  rectify_outcome: string | null;
  rectified_on: string | null;
  rectify_note: string;
  note: string;
  /** Username or token id. */
  created_by: string;
  created_at: number;
  updated_at: number;
}

/** A photo of one checklist item of an inspection: the bytes themselves. */
export interface InspectionPhotosTable {
  /** Sorts by upload time. */
  id: string;
  inspection_id: string;
  item: string;
  /** image/jpeg, image/png or image/webp, from the bytes' signature. */
  content_type: string;
  size: number;
  bytes: Buffer;
  created_by: string;
  created_at: number;
}

/** A CO weather advisory as published for an area and a day (SPEC §10). */
export interface AdvisoriesTable {
  id: string;
  area: string;
  /** YYYY-MM-DD, the local day it is for. */
  day: string;
  grade: number;
  text: string;
  /** 'entered' by the duty room, or 'fetched' from a configured URL. */
  source: string;
  entered_by: string;
  created_at: number;
}

/** A weekly ledger as made (migrations/0008-ledgers.ts, db/ledgers.ts). */
export interface LedgersTable {
  /** Sorts by the time it was made. */
  id: string;
  /** The township (or other area) it is of. */
  area: string;
  /** First and last local day of its week, YYYY-MM-DD. */
  week_start: string;
  week_end: string;
  generated_at: number;
  /** 'schedule', or the username or token id who asked for it. */
  generated_by: string;
  /** `<area>/<week start>` for the scheduled run's ledger (unique: the run's lock); null otherwise. */
  schedule_key: string | null;
  /** The numbers as JSON (reports/ledger-schema.ts LedgerNumbers). */
  numbers: string;
}

/** A confined space of the register (migrations/0011-permits.ts, db/spaces.ts). */
export interface SpacesTable {
  id: string;
  name: string;
  area: string;
  /** The site whose permit rules apply; null: the defaults'. */
  site: string | null;
  location: string;
  /** SPACE_KINDS. */
  kind: string;
  /** JSON array of SPACE_HAZARDS. */
  hazards: string;
  /** JSON array of gas identities expected there. */
  gases: string;
  large: number;
  oxygen_enriched: number;
  /** PERMIT_RULE_SET_IDS; null: the site's. */
  rule_set: string | null;
  notes: string;
  created_at: number;
  updated_at: number;
}

/** A permit (migrations/0011-permits.ts, db/permits.ts): the form of annex A. */
export interface PermitsTable {
  /** Sorts by the time it was drawn up. */
  id: string;
  kind: string;
  /** Hot work: special | level1 | level2; null for confined space. */
  level: string | null;
  state: string;
  area: string;
  site: string | null;
  space_id: string | null;
  location: string;
  hot_work_site: string | null;
  large: number;
  oxygen_enriched: number;
  rule_set: string;
  /** The effective PermitRuleSet as JSON, as it was when the permit was drawn up. */
  rules: string;
  work: string;
  /** JSON {name, certificate, unit}. */
  applicant: string;
  /** JSON [{name, certificate, role}]. */
  crew: string;
  attendant: string;
  /** JSON [{text, confirmed: {by, name, role, at} | null}]. */
  measures: string;
  /** JSON array of permit ids. */
  related: string;
  notes: string;
  /** Every person named and every signer, one per line, lower case. */
  people: string;
  planned_start: number;
  planned_end: number;
  valid_until: number;
  monitor_device: string | null;
  monitor_gw: string | null;
  monitor_instrument: string | null;
  /** JSON [{channel, gas}] of the monitoring device; null without one. */
  monitor_gases: string | null;
  /** The seq of its last event (0 before the first). */
  seq: number;
  created_by: string;
  created_at: number;
  updated_at: number;
  closed_at: number | null;
  keep_until: number | null;
}

/** One state change of a permit, append-only: the signed record. */
export interface PermitEventsTable {
  permit_id: string;
  seq: number;
  at: number;
  action: string;
  from_state: string;
  to_state: string;
  /** Username, token id, or `system`. */
  actor: string;
  actor_kind: 'user' | 'token' | 'system';
  actor_name: string;
  /** The signer's role then, or `system`. */
  actor_role: string;
  note: string;
  /** JSON: what the change rests on (test id, the reason and reading of a suspension). */
  data: string;
  /** SHA-256 (hex) of the previous record's hash and this record (db/permits.ts eventHash). */
  hash: string;
}

/** A gas test of a permit. */
export interface PermitTestsTable {
  id: string;
  permit_id: string;
  /** in_progress | passed | failed | abandoned. */
  status: string;
  device: string | null;
  gw: string | null;
  instrument: string | null;
  response_time_s: number;
  /** JSON [{channel, gas}]. */
  gases: string;
  /** JSON [{position, gas, check}]. */
  steps: string;
  /** JSON [{position, at, by}]. */
  placements: string;
  note: string;
  started_by: string;
  started_name: string;
  started_role: string;
  started_at: number;
  completed_at: number | null;
}

/** One gas reading of a test, at one position. */
export interface PermitTestReadingsTable {
  id: string;
  test_id: string;
  position: string;
  /** JSON of the gas identity. */
  gas: string;
  check_kind: string;
  value: number;
  unit: string;
  pass: number;
  /** JSON of judgeReading's checks. */
  checks: string;
  placed_at: number;
  read_at: number;
  /** The detector's own time of the reading; null when typed in. */
  sampled_at: number | null;
  /** live | manual. */
  source: string;
  recorded_by: string;
  recorded_name: string;
  recorded_role: string;
}

/** A monitoring record kept during the work. */
export interface PermitMonitoringTable {
  id: string;
  permit_id: string;
  at: number;
  device: string | null;
  instrument: string | null;
  /** JSON [{gas, value, unit}]. */
  readings: string;
  pass: number;
  /** JSON array of the GasChecks that failed (judgeReading's), worded when shown. */
  reasons: string;
  /** start | interval | failed | manual. */
  why: string;
  recorded_by: string;
  note: string;
}
/** One bump test of a detector (migrations/0010-maintenance.ts, db/maintenance.ts). */
export interface BumpTestsTable {
  /** timeOrderedId of the recording; `gw-<at base 36>-<device>` for a gateway's test. */
  id: string;
  device: string;
  /** When the test was done, ms since epoch. */
  at: number;
  /** pass | fail. */
  result: string;
  /** JSON array of {gas, result, peak}. */
  gases: string;
  /** gateway | docking_station | manual. */
  method: string;
  /** Who did the test (for a gateway test: who started it). */
  done_by: string;
  note: string;
  /** Username or token id; `gateway:<id>` for a gateway's own record. */
  recorded_by: string;
  recorded_at: number;
}

/** One calibration of a detector. */
export interface CalibrationsTable {
  id: string;
  device: string;
  at: number;
  /** pass | fail. */
  result: string;
  /** YYYY-MM-DD; null after a failed calibration. */
  next_due: string | null;
  done_by: string;
  certificate: string;
  note: string;
  recorded_by: string;
  recorded_at: number;
}

/** Per maintained device: its dates and its latest bump test and calibration (by when they were done). */
export interface DeviceMaintenanceTable {
  device: string;
  /** YYYY-MM-DD. */
  sensor_eol: string | null;
  last_self_test: string | null;
  bump_id: string | null;
  bump_at: number | null;
  bump_result: string | null;
  cal_id: string | null;
  cal_at: number | null;
  cal_result: string | null;
  cal_next_due: string | null;
  updated_at: number;
}

/** One message to one contact (notify/record.ts NotificationRow: the dispatcher writes it). */
export type NotificationsTable = NotificationRow;
