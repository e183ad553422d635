// The console's types come from the server and shared/ themselves (type-only: nothing of them is
// bundled), so the app cannot drift from the API it reads.
import type {
  AreaKind,
  BumpTest,
  BumpTestBody,
  BumpTestMethod,
  Calibration,
  CalibrationBody,
  Fitness,
  GasCheck,
  GasIdentity,
  GasTest,
  GasTestInput,
  Household,
  HouseholdContact,
  HouseholdDetector,
  HouseholdInput,
  Inspection,
  InspectionHazard,
  InspectionInput,
  InspectionItemId,
  InspectionPatch,
  InspectionPhoto,
  InspectionResult,
  LockoutReason,
  MaintenanceView,
  MonitoringInput,
  MonitoringRecord,
  NextAction,
  OccupantFlag,
  Permit,
  PermitAction,
  PermitDetail,
  PermitEvent,
  PermitInput,
  PermitPatch,
  PermitRuleSet,
  PermitState,
  ReadingStatus,
  RectificationOutcome,
  Refusal,
  Reminder,
  Role,
  SounderStatus,
  Space,
  SpaceInput,
  TestPosition,
} from '@gaswatch/shared';
import type { AlarmDetail, AlarmRow } from '../../../src/alarms/detail-schema.js';
import type { MapAnswer } from '../../../src/alarms/map-schema.js';
import type { DeviceSetPoints, SetPoint } from '../../../src/alarms/set-points.js';
import type { ConsoleCatalogue } from '../../../src/catalogue.js';
import type { ImportAnswer, ImportIssue, ImportIssueCode } from '../../../src/households/import-schema.js';
import type { deviceView } from '../../../src/ingest/device-view.js';
import type { deviceEventView } from '../../../src/live/views.js';
import type { Ledger, LedgerHead } from '../../../src/reports/ledger-schema.js';
import type { ResponseTimesReport } from '../../../src/reports/response-times.js';
import type { ShiftReport } from '../../../src/reports/shift-report.js';
import type { CurrentShift, Shift, ShiftHead, ShiftPage } from '../../../src/reports/shift-schema.js';
import type { AggregateRow } from '../../../src/store/types.js';

/** An alarm as the API answers it: with its household's summary when its detector is in one. */
export type Alarm = AlarmRow;
export type {
  AlarmDetail,
  BumpTest,
  BumpTestBody,
  BumpTestMethod,
  Calibration,
  CalibrationBody,
  ConsoleCatalogue,
  CurrentShift,
  Fitness,
  GasCheck,
  GasIdentity,
  GasTest,
  GasTestInput,
  Household,
  HouseholdContact,
  HouseholdInput,
  ImportAnswer,
  ImportIssue,
  ImportIssueCode,
  Inspection,
  InspectionHazard,
  InspectionInput,
  InspectionItemId,
  InspectionPatch,
  InspectionPhoto,
  InspectionResult,
  Ledger,
  LedgerHead,
  LockoutReason,
  MaintenanceView,
  MapAnswer,
  MonitoringInput,
  MonitoringRecord,
  NextAction,
  OccupantFlag,
  Permit,
  PermitAction,
  PermitDetail,
  PermitEvent,
  PermitInput,
  PermitPatch,
  PermitRuleSet,
  PermitState,
  ReadingStatus,
  RectificationOutcome,
  Refusal,
  Reminder,
  ResponseTimesReport,
  Role,
  SetPoint,
  Shift,
  ShiftHead,
  ShiftPage,
  ShiftReport,
  SounderStatus,
  Space,
  SpaceInput,
  TestPosition,
};
/** Response times of one span: to acknowledge and to resolve, p50/p90 in seconds. */
export type ResponseTimes = ShiftReport['responseTimes']['overall'];
export type ShiftNote = ShiftReport['notes'][number];
export type AlarmHistoryEntry = AlarmDetail['events'][number];
export type ResolutionReason = NonNullable<Alarm['resolution']>['reason'];
export type CallOutcome = NonNullable<AlarmHistoryEntry['outcome']>;
/** What POST /api/alarms/:id/responses takes. */
export type AlarmResponseBody =
  | { kind: 'call'; contact: { name: string; phone?: string }; outcome: CallOutcome; note: string }
  | { kind: 'on_my_way' | 'on_site'; note: string };

/** What PUT /api/households/:id/detectors/:device takes: where and when (the device is in the path). */
export type HouseholdDetectorInput = Omit<HouseholdDetector, 'device'>;

/** What GET and POST /api/session answer. */
export interface Who {
  user: { username: string; displayName: string; role: Role; area: string | null };
  via: 'session' | 'token';
  csrfToken: string | null;
  expiresAt: string | null;
}

/** One page of a list: every list of the API is paged with a cursor and says its total. */
export interface Page {
  total: number;
  nextCursor: string | null;
}

/** A row of GET /api/devices (and the `device` of a live reading or device state). */
export type Device = ReturnType<typeof deviceView> & { area: string | null };

/** GET /api/devices/:id: the row, the alarm profile it runs and the set points of its gases. */
export type DeviceDetail = Device & {
  alarmProfile: DeviceSetPoints['profile'] | null;
  setPoints: SetPoint[];
};

/** A row of GET /api/areas. */
export interface Area {
  id: string;
  parent: string | null;
  name: string;
  kind: AreaKind;
}

/** A row of GET /api/events (a gateway event or a command result), as /api/live pushes it too. */
export type DeviceEventRow = ReturnType<typeof deviceEventView>;

/** An aggregated row of GET /api/readings?every=. */
export type ReadingBucket = Omit<AggregateRow, 'ts'> & { ts: string };

/** What GET /api/readings?every= answers. */
export interface ReadingBuckets {
  device: string;
  from: string;
  to: string;
  everyMs: number | null;
  rows: ReadingBucket[];
}

/** A live reading (routes/live.ts, live/hub.ts): the reading and its device's row after it. */
export interface LiveReading {
  gw: string;
  dev: string;
  ts: string;
  seq: number;
  values: NonNullable<Device['lastReading']>['values'];
  status: ReadingStatus;
  late: boolean;
  device: Device;
}

/** One /api/live message. */
export type LiveMessage =
  | { type: 'alarm'; data: { alarmId: string; alarm: Alarm | null } }
  | { type: 'notification'; data: { alarmId: string } }
  | { type: 'heartbeat'; data: { now: string } }
  | { type: 'reading'; data: LiveReading }
  | { type: 'deviceState'; data: { gw: string; dev: string; device: Device } }
  | { type: 'deviceEvent'; data: DeviceEventRow }
  | { type: 'commandResult'; data: DeviceEventRow }
  | { type: 'maintenance'; data: { dev: string; maintenance: MaintenanceView } }
  | { type: 'permit'; data: PermitLive };

/**
 * A permit's change pushed over /api/live (server/src/bus.ts PermitLiveEvent): `evacuate` is the
 * server stopping the work (everyone out, test again); `state`, `test` and `monitoring` say
 * something else changed.
 */
export interface PermitLive {
  kind: 'state' | 'evacuate' | 'evacuation_ack' | 'sounder' | 'test' | 'monitoring';
  permitId: string;
  area: string;
  /** The permit's state after it. */
  state: PermitState;
  /** Server wall clock, ms. */
  at: number;
  /** evacuate: the signed record of the suspension. */
  seq?: number;
  /** evacuate: why (alarm, reading_failed, offline, detector_status, permit_expired). */
  reason?: string;
  location?: string;
  device?: string | null;
  /** evacuate: the alert in each language. */
  text?: { 'zh-CN': string; en: string };
  /** evacuation_ack: who took it in (username or token id) and their display name. */
  by?: string;
  name?: string;
  /** sounder: the command's fate (sent, send_failed, sounding, refused) and the words with it. */
  status?: SounderStatus;
  message?: string;
  command?: string;
}

/** What POST /api/devices/:id/maintenance/bump-tests/start answers (202). */
export interface BumpTestStart {
  command: string;
  started: true | null;
  message: string;
}

/** A CO weather advisory as the server answers it (routes/advisories.ts). */
export interface Advisory {
  id: string;
  area: string;
  areaName: string;
  day: string;
  grade: number;
  text: string;
  source: 'entered' | 'fetched';
  enteredBy: string;
  createdAt: string;
}

/** A household detector that needs a visit (GET /api/households/attention). */
export interface AttentionRow {
  device: string;
  household: string;
  area: string;
  areaName: string;
  address: string;
  location: string;
  installedOn: string | null;
  expiresOn: string | null;
  issues: ('never_reported' | 'offline' | 'fault' | 'expired' | 'expires_soon')[];
}
