import { z } from 'zod';
import { type Alarm, AlarmSchema } from '../alarms/model.js';
import { AlarmRecordError, type AlarmRecords } from '../alarms/records.js';
import { type AlarmEventRecord, alarmEventData } from '../store/types.js';
import type { Db } from './database.js';
import type { AlarmEventsTable, AlarmsTable } from './schema.js';

/**
 * Alarms and their events in SQL, with the contract the time-series store's alarm-event methods
 * have (server/src/store/types.ts): append idempotently, list in time order. Each appended event
 * also upserts its alarm's row, so the current state of every alarm is one read away. The alarm
 * engine writes here and rebuilds from here (sqlAlarmRecords).
 */

/** Ms since epoch as a `bigint` column takes it: PostgreSQL refuses a fraction, NaN or Infinity. */
const TimeSchema = z.number().int();

/**
 * A key column (an alarm's or an event's id): PostgreSQL's `text` refuses NUL, and cleaning it
 * out (as `column` does) would make the row name another alarm than the JSON it carries.
 */
const KeySchema = z
  .string()
  .refine((s) => s !== '' && !s.includes('\u0000'), 'must be a non-empty text without NUL');

/** What a row needs from a record's data; the data itself is kept whole, as JSON. */
const RecordFieldsSchema = z.object({
  type: z.string().min(1),
  seq: z.number().int().positive(),
  actor: z.string().optional(),
  alarm: AlarmSchema.pick({
    id: true,
    gw: true,
    dev: true,
    site: true,
    key: true,
    rule: true,
    severity: true,
    state: true,
  }).extend({
    id: KeySchema,
    raisedAt: TimeSchema,
    clearedAt: TimeSchema.nullable(),
  }),
});

/**
 * A text column's value: PostgreSQL's `text` refuses NUL (U+0000), so it becomes U+FFFD there
 * (on SQLite too, so both answer the same). Only the columns, which lists filter on: the JSON
 * keeps the exact text, escaped.
 */
const column = (s: string): string => s.replaceAll('\u0000', '\uFFFD');

/** Rows per INSERT: far below SQLite's 32 766 and PostgreSQL's 65 535 bound parameters. */
const CHUNK = 500;

type RecordFields = z.infer<typeof RecordFieldsSchema>;

function parseRecord(r: AlarmEventRecord): { fields: RecordFields } | { problem: string } {
  const parsed = RecordFieldsSchema.safeParse(r.data);
  if (!parsed.success)
    return {
      problem: parsed.error.issues.map((i) => `${i.path.join('.') || 'data'}: ${i.message}`).join('; '),
    };
  const { id } = parsed.data.alarm;
  if (id !== r.alarmId) return { problem: `it is of alarm ${r.alarmId} but carries alarm ${id}` };
  if (!TimeSchema.safeParse(r.ts).success) return { problem: `ts: ${r.ts} is not a whole number of ms` };
  if (!KeySchema.safeParse(r.id).success) return { problem: 'id: must be a non-empty text without NUL' };
  return { fields: parsed.data };
}

/** Why a record cannot be stored as a row (appendAlarmEvents would refuse it), or null when it can. */
export function alarmRecordProblem(r: AlarmEventRecord): string | null {
  const parsed = parseRecord(r);
  return 'problem' in parsed ? parsed.problem : null;
}

function toRows(r: AlarmEventRecord): { alarm: AlarmsTable; event: AlarmEventsTable } {
  const parsed = parseRecord(r);
  if ('problem' in parsed)
    throw new AlarmRecordError(r.id, `alarm event ${r.id} cannot be stored: ${parsed.problem}`);
  const { type, seq, actor, alarm: a } = parsed.fields;
  return {
    alarm: {
      id: a.id,
      gw: column(a.gw),
      dev: column(a.dev),
      site: a.site === null ? null : column(a.site),
      key: column(a.key),
      rule: column(a.rule),
      severity: a.severity,
      state: a.state,
      raised_at: a.raisedAt,
      cleared_at: a.clearedAt,
      seq,
      updated_at: r.ts,
      alarm: JSON.stringify({ ...(r.data.alarm as object), seq }),
    },
    event: {
      id: r.id,
      alarm_id: r.alarmId,
      seq,
      ts: r.ts,
      type: column(type),
      actor: actor === undefined ? null : column(actor),
      data: JSON.stringify(r.data),
    },
  };
}

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += CHUNK) out.push(rows.slice(i, i + CHUNK));
  return out;
}

/**
 * Stores alarm events in one transaction. Idempotent by (alarm id, seq): an event already stored
 * is kept as it was. An alarm's row takes the alarm of its highest-seq event, whatever order
 * events arrive in. Throws AlarmRecordError, storing nothing, when a record lacks what a row
 * needs (its seq, type, or the alarm of its id).
 */
export async function appendAlarmEvents(db: Db, records: readonly AlarmEventRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map(toRows);
  // One row per alarm (PostgreSQL refuses an upsert that touches a row twice), and rows in one
  // order, so two concurrent appends lock alarms in the same order and cannot deadlock.
  const latest = new Map<string, AlarmsTable>();
  for (const { alarm } of rows) {
    const prev = latest.get(alarm.id);
    if (prev === undefined || alarm.seq > prev.seq) latest.set(alarm.id, alarm);
  }
  const alarms = [...latest.values()].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  const events = rows
    .map((r) => r.event)
    .sort((x, y) => (x.alarm_id < y.alarm_id ? -1 : x.alarm_id > y.alarm_id ? 1 : x.seq - y.seq));
  await db.transaction().execute(async (trx) => {
    for (const part of chunks(alarms))
      await trx
        .insertInto('alarms')
        .values(part)
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet((eb) => ({
              gw: eb.ref('excluded.gw'),
              dev: eb.ref('excluded.dev'),
              site: eb.ref('excluded.site'),
              key: eb.ref('excluded.key'),
              rule: eb.ref('excluded.rule'),
              severity: eb.ref('excluded.severity'),
              state: eb.ref('excluded.state'),
              raised_at: eb.ref('excluded.raised_at'),
              cleared_at: eb.ref('excluded.cleared_at'),
              seq: eb.ref('excluded.seq'),
              updated_at: eb.ref('excluded.updated_at'),
              alarm: eb.ref('excluded.alarm'),
            }))
            .where((eb) => eb('alarms.seq', '<', eb.ref('excluded.seq'))),
        )
        .execute();
    for (const part of chunks(events))
      await trx
        .insertInto('alarm_events')
        .values(part)
        .onConflict((oc) => oc.columns(['alarm_id', 'seq']).doNothing())
        .execute();
  });
}

/** Alarm events in time order (ties by alarm, then seq); `since` is inclusive, ms since epoch. */
export async function listAlarmEvents(
  db: Db,
  opts: { alarmId?: string; since?: number } = {},
): Promise<AlarmEventRecord[]> {
  let q = db.selectFrom('alarm_events').select(['id', 'alarm_id', 'ts', 'data']);
  if (opts.alarmId !== undefined) q = q.where('alarm_id', '=', opts.alarmId);
  if (opts.since !== undefined) q = q.where('ts', '>=', opts.since);
  const rows = await q.orderBy('ts').orderBy('alarm_id').orderBy('seq').execute();
  // A record that does not parse (a hand edit) comes back with `{}`: the rebuild skips and counts it.
  return rows.map((r) => ({ id: r.id, alarmId: r.alarm_id, ts: r.ts, data: alarmEventData(r.data) }));
}

/** An alarm as of its latest stored event, or undefined for an id never stored. */
export async function getAlarm(db: Db, id: string): Promise<Alarm | undefined> {
  const row = await db.selectFrom('alarms').select('alarm').where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : (JSON.parse(row.alarm) as Alarm);
}

/** The alarm engine's records (AlarmRecords) in this database. */
export function sqlAlarmRecords(db: Db): AlarmRecords {
  return {
    appendAlarmEvents: (records) => appendAlarmEvents(db, records),
    listAlarmEvents: () => listAlarmEvents(db),
  };
}
