import type { GasId } from '@gaswatch/shared';
import type { AlarmEventRecord } from '../store/types.js';

/**
 * SPEC §6 lifecycle states of an alarm. `cleared` is closed; the other three are open. (The rule
 * sets' own state, dose and windows, is `AlarmState` in shared/.)
 */
export const LIFECYCLE_STATES = ['active', 'acknowledged', 'cleared', 'cleared_unacked'] as const;
export type AlarmLifecycleState = (typeof LIFECYCLE_STATES)[number];

/** Condition key of the wall-clock offline alarm (the rule sets never use it). */
export const OFFLINE_KEY = 'offline';

export type AlarmEventType =
  | 'raised'
  | 'reraised'
  | 'acknowledged'
  | 'cleared'
  | 'escalated'
  | 'silence'
  | 'silence_result';

/**
 * What became of silencing the device's sounder after this alarm was acknowledged:
 * `held` — not sent, other alarms of the device are still active and unacknowledged (the last
 * acknowledgement sends it); `sent` — handed to the broker, no answer from the gateway yet;
 * `send_failed` — the broker did not take it; `confirmed` / `refused` — the gateway answered
 * ok:true / ok:false (its message says why); `unanswered` — no answer within 30 s (the sounder
 * may still be sounding; a late answer still turns it into confirmed / refused).
 */
export interface AlarmSilence {
  status: 'held' | 'sent' | 'send_failed' | 'confirmed' | 'refused' | 'unanswered';
  /** Silence command id (null while held). */
  command: string | null;
  /** Wall clock of the last change, ms since epoch. */
  at: number;
  /** Why it was held, why sending failed, or the gateway's answer. */
  message?: string;
  /** Ids of the alarms that held it back. */
  heldBy?: string[];
}

export interface AlarmAck {
  actor: string;
  /** Wall clock, ms since epoch. */
  at: number;
  note: string;
}

/** One alarm: one (device, condition key) episode from raise until acknowledged and cleared. */
export interface Alarm {
  id: string;
  gw: string;
  dev: string;
  site: string | null;
  /** Condition key, stable per device, e.g. 'CO:dose', 'offline'. */
  key: string;
  rule: string;
  profile: string;
  gas?: GasId;
  severity: 'warning' | 'critical';
  state: AlarmLifecycleState;
  message: string;
  /** Value and set point when raised (unit `unit`). */
  value: number;
  /** Highest value seen while the condition held (for O2-low, where low is bad, it is not meaningful). */
  peak?: number;
  threshold: number;
  unit?: string;
  /** Event time of the raise (the reading's ts; wall clock for offline alarms). */
  raisedAt: number;
  /** Wall clock when the engine raised it. */
  detectedAt: number;
  /** Raised from readings that arrived late (replayed from a gateway outbox). */
  late: boolean;
  /** Event time when the condition ended, or null while it holds. */
  clearedAt: number | null;
  ack: AlarmAck | null;
  /** Highest contact tier notified (0: none yet). */
  tier: number;
  /** Wall clock of the last notification, or null. */
  lastNotifiedAt: number | null;
  /** Number of events stored for this alarm. */
  seq: number;
  /** Episodes of the condition: 1 at the raise, +1 per re-raise of the latched alarm (absent: 1). */
  episode?: number;
  /** The sounder silence after acknowledgement, once there is one. */
  silence?: AlarmSilence;
}

/** What an alarm event says of its transition: kept in the stored event's data, shown in its history. */
export interface AlarmEventFields {
  type: AlarmEventType;
  /** The alarm's event number: 1 at the raise, +1 per event. */
  seq: number;
  /** The lifecycle state after the transition. */
  state: AlarmLifecycleState;
  actor?: string;
  note?: string;
  tier?: number;
  contacts?: string[];
  ok?: boolean;
  /** Silence events: the command id, the gateway's or the engine's message, what held it back. */
  command?: string;
  message?: string;
  heldBy?: string[];
}

/** What an alarm event record's `data` holds: the transition and the alarm right after it. */
export interface AlarmEventData extends AlarmEventFields {
  alarm: Alarm;
  [key: string]: unknown;
}

export const isOpen = (a: Alarm): boolean => a.state !== 'cleared';
/** The condition still holds (not yet cleared). */
export const conditionOn = (a: Alarm): boolean => a.state === 'active' || a.state === 'acknowledged';
export const unacked = (a: Alarm): boolean => a.state === 'active' || a.state === 'cleared_unacked';

/** Deterministic: the same condition raised at the same event time is the same alarm. */
export function alarmIdFor(dev: string, key: string, raisedAt: number): string {
  return `${dev}.${key.replace(/[^A-Za-z0-9_-]/g, '-')}.${raisedAt.toString(36)}`;
}

function isEventData(d: Record<string, unknown> | null): d is AlarmEventData {
  if (typeof d !== 'object' || d === null) return false;
  const a = d.alarm as Partial<Alarm> | undefined;
  return (
    typeof d.type === 'string' &&
    typeof d.seq === 'number' &&
    typeof a === 'object' &&
    a !== null &&
    typeof a.id === 'string' &&
    typeof a.dev === 'string' &&
    typeof a.key === 'string'
  );
}

/**
 * Folds stored events into alarm state: each event carries the alarm as it was right after the
 * transition, so the event with the highest seq per alarm wins. Unreadable records are skipped
 * and counted, never fatal.
 */
export function rebuildAlarms(records: readonly AlarmEventRecord[]): {
  alarms: Map<string, Alarm>;
  skipped: number;
} {
  const alarms = new Map<string, Alarm>();
  let skipped = 0;
  for (const r of records) {
    if (!isEventData(r.data)) {
      skipped++;
      continue;
    }
    const prev = alarms.get(r.alarmId);
    if (prev === undefined || r.data.seq >= prev.seq)
      alarms.set(r.alarmId, { ...r.data.alarm, seq: r.data.seq });
  }
  return { alarms, skipped };
}
