import type { Alarm } from '../src/alarms/model.js';
import type { AlarmEventRecord } from '../src/store/types.js';

// Alarm event records shaped as the alarm engine writes them, for tests of where they are kept.

export const T0 = Date.UTC(2026, 10, 23, 18, 0, 0);

/** A CO dose alarm of the Lin family's detector, `over` changing what a test needs. */
export function alarmOf(id: string, over: Partial<Alarm> = {}): Alarm {
  return {
    id,
    gw: 'gw-1',
    dev: id.split('.')[0] ?? id,
    site: 'lin-family',
    key: 'CO:dose',
    rule: 'co-dose',
    profile: 'co-residential',
    gas: 'CO',
    severity: 'critical',
    state: 'active',
    message: 'CO dose above the 50 ppm limit',
    value: 212,
    threshold: 50,
    unit: 'ppm',
    raisedAt: T0,
    detectedAt: T0 + 40,
    late: false,
    clearedAt: null,
    ack: null,
    tier: 0,
    lastNotifiedAt: null,
    seq: 1,
    ...over,
  };
}

/** An event record as the alarm engine writes it (alarm-book.ts): the transition and the alarm after it. */
export function record(
  a: Alarm,
  seq: number,
  type: string,
  ts: number,
  extra: Record<string, unknown> = {},
): AlarmEventRecord {
  const alarm = { ...a, seq };
  return {
    id: `${a.id}#${seq}`,
    alarmId: a.id,
    ts,
    data: { ...extra, type, seq, state: alarm.state, alarm },
  };
}

/** One alarm's life: raised, acknowledged by Lin, cleared. */
export function lifeOf(id: string, t: number): AlarmEventRecord[] {
  const raised = alarmOf(id, { raisedAt: t });
  const ack = { actor: 'lin', at: t + 60_000, note: 'window opened' };
  const acked = { ...raised, state: 'acknowledged' as const, ack };
  const cleared = { ...acked, state: 'cleared' as const, clearedAt: t + 300_000 };
  return [
    record(raised, 1, 'raised', t),
    record(acked, 2, 'acknowledged', t + 60_000, { actor: 'lin', note: 'window opened' }),
    record(cleared, 3, 'cleared', t + 300_000),
  ];
}
