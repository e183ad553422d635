import { EventEmitter } from 'node:events';
import type {
  Command,
  CommandResult,
  DeviceEvent,
  DeviceState,
  GatewayStatus,
  MaintenanceView,
  Reading,
} from '@gaswatch/shared';
import type { AlarmLifecycleState } from './alarms/model.js';
import type { ReadingRow } from './store/types.js';

/** What the server knows about a device, from its retained DeviceState and its readings. */
export interface DeviceInfo {
  gw: string;
  dev: string;
  /** Latest DeviceState, if one arrived. */
  state: DeviceState | null;
  /** Wall-clock ms of the last reading received. */
  lastSeen: number | null;
  /**
   * What the alarm engine reads of `state`, without making the state: the registry keeps a state
   * as parts and makes the payload on each read (issue 18), and the engine reads these three on
   * every reading and for every device at start. Absent: read `state` (stateInfoOf).
   */
  readonly stateInfo?: DeviceStateInfo | null;
}

/** What the alarm engine reads of a DeviceState: which rules, which site, how often it reports. */
export type DeviceStateInfo = Pick<DeviceState, 'kind' | 'site' | 'pollIntervalS'>;

export const stateInfoOf = (d: DeviceInfo): DeviceStateInfo | null =>
  d.stateInfo === undefined ? d.state : d.stateInfo;

/**
 * What ingest's store lookup found for a device when its first reading after a start came in
 * (every stored row of the device with from <= ts < to), handed on with that reading so the alarm
 * engine rebuilds the device's rule state without asking the store again.
 */
export interface StoredLookup {
  from: number;
  to: number;
  rows: readonly ReadingRow[];
}

/** A reading accepted by ingest (validated, deduplicated, durably buffered for the store). */
export interface ReadingAccepted {
  gw: string;
  dev: string;
  reading: Reading;
  /** Sampling time, ms since epoch. */
  ts: number;
  /** Server wall clock at receipt, ms since epoch. */
  receivedAt: number;
  /** Arrived well after sampling (replayed from a gateway outbox). */
  late: boolean;
  /** Sampling time is more than 5 min from the server clock (SPEC §6). */
  clockSuspect: boolean;
  device: DeviceInfo;
  /** On the device's first reading after a start: what the store held for it (see StoredLookup). */
  stored?: StoredLookup;
}

/** An alarm lifecycle transition, as the alarm engine announces it (forwarded on /api/live). */
export interface AlarmTransition {
  alarmId: string;
  dev: string;
  gw: string;
  /** The state the alarm is in after this transition. */
  state: AlarmLifecycleState;
  ts: number;
  [key: string]: unknown;
}

/**
 * Something happened to a permit (permits/service.ts), forwarded on /api/live to the callers who
 * see its area. `evacuate`: the server stopped the work (an alarm, a failed reading, the detector
 * offline): everyone out, test again. It is also the hook a notification channel subscribes to.
 * `evacuation_ack`: someone at a console took that evacuation in (`seq`, `by`, `name`): every
 * console stops its banner and sound for it.
 */
export interface PermitLiveEvent {
  kind: 'state' | 'evacuate' | 'sounder' | 'evacuation_ack' | 'test' | 'monitoring';
  permitId: string;
  area: string;
  /** The permit's state after it. */
  state: string;
  /** Wall clock, ms. */
  at: number;
  [key: string]: unknown;
}

/** In-process events between server plugins (zigbee2mqtt eventBus style). */
export interface ServerEvents {
  reading: [ReadingAccepted];
  deviceState: [{ gw: string; dev: string; state: DeviceState; device: DeviceInfo }];
  gatewayStatus: [{ gw: string; status: GatewayStatus }];
  deviceEvent: [{ gw: string; dev: string; event: DeviceEvent }];
  commandResult: [{ gw: string; result: CommandResult }];
  alarm: [AlarmTransition];
  permit: [PermitLiveEvent];
  /** A notification of this alarm was queued, sent, delivered, answered or failed (its card's log). */
  notification: [{ alarmId: string; gw: string; dev: string; site: string | null }];
  /** A bump test, calibration or date of a device was recorded: its maintenance as it is now. */
  maintenance: [{ gw: string | null; dev: string; site: string | null; view: MaintenanceView }];
  /** A gateway's password was rotated or the gateway revoked: its live MQTT connection must end. */
  gatewayAccessChanged: [{ gw: string }];
}

export type ServerBus = EventEmitter<ServerEvents>;
export const createBus = (): ServerBus => new EventEmitter<ServerEvents>();

/** Sends a command to a gateway (QoS 1 on gaswatch/v1/{gw}/cmd). */
export type SendCommand = (gw: string, cmd: Command) => Promise<void>;
