import { ALARM_KINDS, type AlarmKind, GasIdSchema } from '@gaswatch/shared';
import { z } from 'zod';
import type { AlarmEventRecord } from '../store/types.js';

/**
 * SPEC §6 lifecycle states of an alarm. `cleared` is closed; the other three are open. (The rule
 * sets' own state, dose and windows, is `AlarmState` in shared/.)
 */
export const LIFECYCLE_STATES = ['active', 'acknowledged', 'cleared', 'cleared_unacked'] as const;
export type AlarmLifecycleState = (typeof LIFECYCLE_STATES)[number];

/** Condition key of the wall-clock offline alarm (the rule sets never use it). */
export const OFFLINE_KEY = 'offline';
/**
 * Condition key of the maintenance alarm: the device's last bump test failed (SPEC §11). Raised
 * and cleared by what is recorded of its bump tests (maintenance/service.ts), never by readings.
 */
export const MAINTENANCE_KEY = 'maintenance';

/**
 * Condition keys of folded alarms (issue 18): one alarm for a gateway that went offline (`dev` is
 * the gateway id) and one for many silent devices of an area (`dev` is the area id), instead of an
 * offline alarm per device. Their `fold` says which devices they stand for.
 */
export const GATEWAY_OFFLINE_KEY = 'gateway-offline';
export const AREA_OFFLINE_KEY = 'area-offline';
export const isFoldKey = (key: string): boolean => key === GATEWAY_OFFLINE_KEY || key === AREA_OFFLINE_KEY;

/**
 * Condition key prefix of a fault burst (issue 18): many detectors of one gateway or area report
 * the same fault at once, one alarm for them (`dev` is the gateway or area id, the key ends with
 * the fault code: `fault-burst:comm_error`). Its `fold` lists the detectors and names the fault.
 */
export const FAULT_BURST_KEY = 'fault-burst';
export const isFaultBurstKey = (key: string): boolean => key.startsWith(`${FAULT_BURST_KEY}:`);

/** Whether the device's readings decide this alarm's condition (offline, folds and maintenance they do not). */
export const ruledByReadings = (key: string): boolean =>
  key !== OFFLINE_KEY && key !== MAINTENANCE_KEY && !isFoldKey(key) && !isFaultBurstKey(key);

export const ALARM_EVENT_TYPES = [
  'raised',
  'reraised',
  'acknowledged',
  'cleared',
  'escalated',
  'silence',
  'silence_result',
  'resolved',
  'call',
  'on_my_way',
  'on_site',
  'folded',
] as const;
export type AlarmEventType = (typeof ALARM_EVENT_TYPES)[number];

/**
 * What became of silencing the device's sounder after this alarm was acknowledged:
 * `held` — not sent, other alarms of the device are still active and unacknowledged (the last
 * acknowledgement sends it); `sent` — handed to the broker, no answer from the gateway yet;
 * `send_failed` — the broker did not take it; `confirmed` / `refused` — the gateway answered
 * ok:true / ok:false (its message says why); `unanswered` — no answer within 30 s (the sounder
 * may still be sounding; a late answer still turns it into confirmed / refused).
 */
export const AlarmSilenceSchema = z
  .object({
    status: z.enum(['held', 'sent', 'send_failed', 'confirmed', 'refused', 'unanswered']),
    command: z.string().nullable().describe('Silence command id (null while held)'),
    at: z.number().describe('Wall clock of the last change, ms since epoch'),
    message: z.string().optional().describe("Why it was held, why sending failed, or the gateway's answer"),
    heldBy: z.array(z.string()).optional().describe('Ids of the alarms that held it back'),
  })
  .describe('What became of silencing the sounder after acknowledgement');
export type AlarmSilence = z.infer<typeof AlarmSilenceSchema>;

/** SPEC §13: why an alarm was closed out, as the weekly ledger counts outcomes. */
export const RESOLUTION_REASONS = [
  'real_event',
  'false_alarm',
  'test',
  'maintenance',
  'device_fault',
] as const;
export type ResolutionReason = (typeof RESOLUTION_REASONS)[number];

/** What came of one phone call to a contact. */
export const CALL_OUTCOMES = ['reached', 'no_answer', 'wrong_number'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

export { ALARM_KINDS, type AlarmKind };

export function alarmKind(a: Pick<Alarm, 'key' | 'rule'>): AlarmKind {
  if (a.key === OFFLINE_KEY || isFoldKey(a.key)) return 'offline';
  if (a.rule === 'fault') return 'fault';
  if (a.key === MAINTENANCE_KEY || a.rule === 'maintenance') return 'maintenance';
  if (a.key === 'detector') return 'detector';
  return 'gas';
}

/** At most this many device ids are kept in a folded alarm's list (its count goes on). */
export const FOLD_LIST_MAX = 2_000;

/** What a folded alarm stands for: the devices whose own offline alarms it replaces. */
export const AlarmFoldSchema = z
  .object({
    scope: z
      .enum(['gateway', 'area'])
      .describe('gateway: its devices behind it; area: devices of one area (silent, or with the same fault)'),
    area: z.string().nullable().describe("The area the alarm belongs to (null: its gateway's)"),
    gateways: z.array(z.string()).describe('The gateways the devices report through'),
    count: z.number().int().describe('Devices folded into the alarm now'),
    devices: z
      .array(z.string())
      .describe(`The devices folded into it now, by id (the first ${FOLD_LIST_MAX})`),
    peak: z.number().int().describe('Most devices folded into it at once'),
    fault: z
      .string()
      .optional()
      .describe('A fault burst: the fault code every device reports (absent: an offline fold)'),
  })
  .describe('A folded alarm: the devices it stands for');
export type AlarmFold = z.infer<typeof AlarmFoldSchema>;

/** Who did something to an alarm, and when (wall clock, ms since epoch). */
export const AlarmStampSchema = z.object({ actor: z.string(), at: z.number() });
export type AlarmStamp = z.infer<typeof AlarmStampSchema>;

export const AlarmResolutionSchema = AlarmStampSchema.extend({
  reason: z.enum(RESOLUTION_REASONS),
  note: z.string(),
}).describe('How the alarm was closed out: the reason code and note of the operator who resolved it');
export type AlarmResolution = z.infer<typeof AlarmResolutionSchema>;

export const AlarmAckSchema = z.object({
  actor: z.string(),
  at: z.number().describe('Wall clock, ms since epoch'),
  note: z.string(),
});
export type AlarmAck = z.infer<typeof AlarmAckSchema>;

/**
 * One alarm: one (device, condition key) episode from raise until acknowledged and cleared. The
 * schema is also the API's (/api/alarms answers through it, so a field missing here would be
 * dropped from the answer) and checks alarms rebuilt from stored events.
 */
export const AlarmSchema = z
  .object({
    id: z.string(),
    gw: z.string(),
    dev: z.string(),
    site: z.string().nullable(),
    key: z.string().describe("Condition key, stable per device, e.g. 'CO:dose', 'offline'"),
    rule: z.string(),
    profile: z.string().describe('Alarm profile of SPEC §6 the rule belongs to'),
    gas: GasIdSchema.optional(),
    severity: z.enum(['warning', 'critical']),
    state: z.enum(LIFECYCLE_STATES),
    message: z.string(),
    value: z.number().describe('Value and set point when raised (unit `unit`)'),
    peak: z
      .number()
      .optional()
      .describe('Highest value seen while the condition held (for O2-low, where low is bad, not meaningful)'),
    threshold: z.number(),
    unit: z.string().optional(),
    raisedAt: z
      .number()
      .describe("Event time of the raise (the reading's ts; wall clock for offline alarms)"),
    detectedAt: z.number().describe('Wall clock when the engine raised it'),
    late: z.boolean().describe('Raised from readings that arrived late (replayed from a gateway outbox)'),
    clearedAt: z.number().nullable().describe('Event time when the condition ended, or null while it holds'),
    ack: AlarmAckSchema.nullable(),
    tier: z.number().int().describe('Highest contact tier notified (0: none yet)'),
    lastNotifiedAt: z.number().nullable().describe('Wall clock of the last notification, or null'),
    seq: z.number().int().describe('Number of events stored for this alarm'),
    episode: z
      .number()
      .int()
      .optional()
      .describe(
        'Episodes of the condition: 1 at the raise, +1 per re-raise of the latched alarm (absent: 1)',
      ),
    silence: AlarmSilenceSchema.optional().describe(
      'The sounder silence after acknowledgement, once there is one',
    ),
    resolution: AlarmResolutionSchema.optional().describe(
      'Set once the alarm is resolved. An alarm whose condition still holds stays open until it clears',
    ),
    onMyWay: AlarmStampSchema.optional().describe('The first "on my way" of someone going to the door'),
    onSite: AlarmStampSchema.optional().describe('The first "on site"'),
    calls: z.number().int().optional().describe('Phone calls logged (each is an event in the history)'),
    fold: AlarmFoldSchema.optional().describe(
      'A gateway or area alarm standing for many devices (key gateway-offline / area-offline)',
    ),
  })
  .describe('Alarm');
export type Alarm = z.infer<typeof AlarmSchema>;

/** What an alarm event says of its transition: kept in the stored event's data, shown in its history. */
export const AlarmEventFieldsSchema = z.object({
  type: z.enum(ALARM_EVENT_TYPES),
  seq: z.number().int().describe("The alarm's event number: 1 at the raise, +1 per event"),
  state: z.enum(LIFECYCLE_STATES).describe('The lifecycle state after the transition'),
  actor: z.string().optional(),
  note: z.string().optional(),
  tier: z.number().int().optional(),
  contacts: z.array(z.string()).optional(),
  ok: z.boolean().optional(),
  command: z.string().optional().describe('Silence events: the command id'),
  message: z.string().optional().describe("Silence events: the gateway's or the engine's message"),
  heldBy: z.array(z.string()).optional().describe('Silence events: what held it back'),
  silenceStatus: AlarmSilenceSchema.shape.status.optional().describe('Silence events: the status it led to'),
  reason: z.enum(RESOLUTION_REASONS).optional().describe('Resolved events: the reason code'),
  contact: z
    .object({ name: z.string(), phone: z.string().optional() })
    .optional()
    .describe('Call events: who was called'),
  outcome: z.enum(CALL_OUTCOMES).optional().describe('Call events: what came of it'),
});
export type AlarmEventFields = z.infer<typeof AlarmEventFieldsSchema>;

/** What a responder records on an alarm (SPEC §13): a phone call, "on my way", "on site". */
export type AlarmResponse = AlarmStamp & { note: string } & (
    | { kind: 'call'; contact: { name: string; phone?: string }; outcome: CallOutcome }
    | { kind: 'on_my_way' | 'on_site' }
  );

/** One entry of an alarm's history as the API shows it. */
export const AlarmHistoryEntrySchema = AlarmEventFieldsSchema.extend({
  id: z.string().describe("The event's id in the store"),
  ts: z.number().describe('Event time, ms since epoch'),
  late: z.boolean().optional(),
});
export type AlarmHistoryEntry = z.infer<typeof AlarmHistoryEntrySchema>;

/** What an alarm event record's `data` holds: the transition and the alarm right after it. */
export interface AlarmEventData extends AlarmEventFields {
  alarm: Alarm;
  [key: string]: unknown;
}

/** Open: not yet closed out (every state but cleared). Takes a state alone too (the catalogue). */
export const isOpen = (a: Pick<Alarm, 'state'>): boolean => a.state !== 'cleared';
/** The condition still holds (not yet cleared). */
export const conditionOn = (a: Alarm): boolean => a.state === 'active' || a.state === 'acknowledged';
/** Awaiting acknowledgement. Takes a state alone too (the catalogue). */
export const unacked = (a: Pick<Alarm, 'state'>): boolean =>
  a.state === 'active' || a.state === 'cleared_unacked';

/** Deterministic: the same condition raised at the same event time is the same alarm. */
export function alarmIdFor(dev: string, key: string, raisedAt: number): string {
  return `${dev}.${key.replace(/[^A-Za-z0-9_-]/g, '-')}.${raisedAt.toString(36)}`;
}

/** The record's data has what the rebuild folds: a type, a seq and an alarm with id, dev and key. */
export function isEventData(d: Record<string, unknown> | null): d is AlarmEventData {
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
 * What a rebuilt alarm gets for a field its stored record lacks or has garbled (a damaged disk, a
 * record of an older version): shown, open and loud rather than dropped, since an alarm that
 * vanishes at restart is worse than one that says less than it should.
 */
function repairDefaults(a: Partial<Alarm>, at: number): Record<string, unknown> {
  return {
    site: null,
    rule: 'unknown',
    profile: 'unknown',
    severity: 'critical',
    state: 'active',
    message: `alarm ${String(a.id)} restored from a damaged record`,
    value: 0,
    threshold: 0,
    raisedAt: at,
    detectedAt: at,
    late: false,
    clearedAt: null,
    ack: null,
    tier: 0,
    lastNotifiedAt: null,
    seq: 0,
  };
}

/**
 * An alarm as the API and the engine need it (AlarmSchema): fields the record lacks or garbled
 * take repairDefaults; `repaired` says it happened; null when even that does not make it one.
 */
export function soundAlarm(a: Alarm, at: number): { alarm: Alarm; repaired: boolean } | null {
  const first = AlarmSchema.safeParse(a);
  if (first.success) return { alarm: a, repaired: false };
  const defaults = repairDefaults(a, at);
  const fixed: Record<string, unknown> = { ...a };
  for (const issue of first.error.issues) {
    const key = issue.path[0];
    if (typeof key === 'string') {
      if (key in defaults) fixed[key] = defaults[key];
      else delete fixed[key]; // an optional field (gas, peak, silence...) that is garbled
    }
  }
  const second = AlarmSchema.safeParse(fixed);
  return second.success ? { alarm: second.data, repaired: true } : null;
}

/**
 * Folds stored events into alarm state: each event carries the alarm as it was right after the
 * transition, so the event with the highest seq per alarm wins. Unreadable records are skipped
 * and counted, never fatal; an alarm whose fields are damaged is repaired (repairDefaults) and
 * counted, so it stays listed and /api/alarms can still answer.
 */
export function rebuildAlarms(records: readonly AlarmEventRecord[]): {
  alarms: Map<string, Alarm>;
  skipped: number;
  repaired: string[];
} {
  const latest = new Map<string, { alarm: Alarm; ts: number }>();
  let skipped = 0;
  for (const r of records) {
    if (!isEventData(r.data)) {
      skipped++;
      continue;
    }
    const prev = latest.get(r.alarmId);
    if (prev === undefined || r.data.seq >= prev.alarm.seq)
      latest.set(r.alarmId, { alarm: { ...r.data.alarm, seq: r.data.seq }, ts: r.ts });
  }
  const alarms = new Map<string, Alarm>();
  const repaired: string[] = [];
  for (const [id, { alarm, ts }] of latest) {
    const sound = soundAlarm(alarm, ts);
    if (sound === null) {
      skipped++;
      continue;
    }
    if (sound.repaired) repaired.push(id);
    alarms.set(id, sound.alarm);
  }
  return { alarms, skipped, repaired };
}
