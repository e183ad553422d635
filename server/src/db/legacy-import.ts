import type { Logger } from 'pino';
import { isEventData, soundAlarm } from '../alarms/model.js';
import type { AlarmEventRecord, Store } from '../store/types.js';
import { alarmRecordProblem, appendAlarmEvents } from './alarm-records.js';
import { type Db, errorText } from './database.js';
import { LegacyImportError } from './errors.js';

/**
 * The one-off import of records kept before they moved to SQL, and its marker in
 * `legacy_imports`. Today: the alarm events the time-series store held until issue 11. They are
 * read, not deleted: the time-series store keeps them as they were.
 */

/** The `legacy_imports` source of the alarm events of the time-series store. */
export const ALARM_EVENTS_SOURCE = 'timeseries_alarm_events';

/** Records per transaction: an import interrupted half way keeps what it stored (re-running it is idempotent). */
const BATCH = 5_000;

/** How many skipped or repaired records a log line names (the counts are always whole). */
const LOG_LIMIT = 20;

export interface LegacyImport {
  source: string;
  /** Wall clock when the import finished, ms since epoch. */
  importedAt: number;
  /** Records stored, repaired ones included. */
  events: number;
  /** Records stored after their damaged alarm was repaired with defaults. */
  repaired: number;
  /** Records left out: damaged beyond repair, or claiming an id or seq another record holds. */
  skipped: number;
}

/** The finished import of `source`, or undefined when there has been none. */
export async function findLegacyImport(db: Db, source: string): Promise<LegacyImport | undefined> {
  const row = await db
    .selectFrom('legacy_imports')
    .selectAll()
    .where('source', '=', source)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : {
        source: row.source,
        importedAt: row.imported_at,
        events: row.events,
        repaired: row.repaired,
        skipped: row.skipped,
      };
}

/** Marks `source` imported. Two servers importing into one database at once: the first marker stays. */
export async function markLegacyImport(db: Db, done: LegacyImport): Promise<void> {
  await db
    .insertInto('legacy_imports')
    .values({
      source: done.source,
      imported_at: done.importedAt,
      events: done.events,
      repaired: done.repaired,
      skipped: done.skipped,
    })
    .onConflict((oc) => oc.column('source').doNothing())
    .execute();
}

interface SkippedRecord {
  id: string;
  alarmId: string;
  ts: number;
  problem: string;
}

/**
 * The legacy records as SQL can keep them, in their order: each as it is; or, when SQL refuses
 * it, with its alarm repaired as the rebuild repairs a damaged alarm (rebuildAlarms: defaults
 * for the damaged fields); or skipped — unreadable, beyond that repair, or claiming an id or an
 * (alarm, seq) an earlier record holds. A second copy of the same event (same id, alarm and seq)
 * is one event, neither stored twice nor counted as skipped.
 */
function prepareLegacyAlarmEvents(records: readonly AlarmEventRecord[]): {
  storable: AlarmEventRecord[];
  repaired: AlarmEventRecord[];
  skipped: SkippedRecord[];
} {
  const storable: AlarmEventRecord[] = [];
  const repaired: AlarmEventRecord[] = [];
  const skipped: SkippedRecord[] = [];
  /** Both are unique in SQL: the id (primary key), and (alarm, seq) as `<alarm id>#<seq>`. */
  const pairOfId = new Map<string, string>();
  const pairs = new Set<string>();
  for (const r of records) {
    const fit = storableRecord(r);
    if ('problem' in fit) {
      skipped.push({ id: r.id, alarmId: r.alarmId, ts: r.ts, problem: fit.problem });
      continue;
    }
    // storableRecord checked data.seq: a whole number.
    const pair = `${r.alarmId}#${fit.record.data.seq as number}`;
    const held = pairOfId.get(r.id);
    if (held === pair) continue;
    if (held !== undefined || pairs.has(pair)) {
      const problem =
        held === undefined ? 'an earlier record has its alarm and seq' : 'an earlier record has its id';
      skipped.push({ id: r.id, alarmId: r.alarmId, ts: r.ts, problem });
      continue;
    }
    pairOfId.set(r.id, pair);
    pairs.add(pair);
    storable.push(fit.record);
    if (fit.record !== r) repaired.push(fit.record);
  }
  return { storable, repaired, skipped };
}

function storableRecord(r: AlarmEventRecord): { record: AlarmEventRecord } | { problem: string } {
  const problem = alarmRecordProblem(r);
  if (problem === null) return { record: r };
  if (!isEventData(r.data)) return { problem };
  const sound = soundAlarm({ ...r.data.alarm, seq: r.data.seq }, r.ts);
  if (sound === null || !sound.repaired) return { problem };
  const fixed = { ...r, data: { ...r.data, alarm: sound.alarm } };
  const left = alarmRecordProblem(fixed);
  return left === null ? { record: fixed } : { problem: left };
}

export interface LegacyImportDeps {
  db: Db;
  /** The time-series store the engine kept its events in before SQL. */
  store: Pick<Store, 'kind' | 'listAlarmEvents'>;
  logger: Logger;
  clock: () => number;
}

/**
 * Imports the alarm events of the time-series store into SQL unless that was done already, and
 * marks it done; what the server runs before its first rebuild from SQL. Throws
 * LegacyImportError, marking nothing, while the time-series store cannot be read (the caller
 * retries: an empty SQL set must not pass for "no alarms").
 */
export async function importLegacyAlarmEvents(deps: LegacyImportDeps): Promise<LegacyImport> {
  const { db, store, logger: log } = deps;
  const done = await findLegacyImport(db, ALARM_EVENTS_SOURCE);
  if (done !== undefined) return done;
  const started = deps.clock();
  let legacy: AlarmEventRecord[];
  try {
    legacy = await store.listAlarmEvents();
  } catch (err) {
    throw new LegacyImportError(
      `cannot import the alarm events of the time-series store (${store.kind}) into the database: ${errorText(err)}`,
      { cause: err },
    );
  }
  const { storable, repaired, skipped } = prepareLegacyAlarmEvents(legacy);
  for (let i = 0; i < storable.length; i += BATCH) await appendAlarmEvents(db, storable.slice(i, i + BATCH));
  const result: LegacyImport = {
    source: ALARM_EVENTS_SOURCE,
    importedAt: deps.clock(),
    events: storable.length,
    repaired: repaired.length,
    skipped: skipped.length,
  };
  await markLegacyImport(db, result);

  if (repaired.length > 0)
    log.error(
      { repaired: repaired.length, alarms: [...new Set(repaired.map((r) => r.alarmId))].slice(0, LOG_LIMIT) },
      'imported alarm events whose alarm had damaged fields, restored with defaults: check these alarms on site',
    );
  if (skipped.length > 0)
    log.warn(
      { skipped: skipped.length, records: skipped.slice(0, LOG_LIMIT) },
      'alarm events the database cannot keep were not imported (they stay in the time-series store)',
    );
  log.info(
    { store: store.kind, read: legacy.length, ...result, ms: result.importedAt - started },
    'alarm events of the time-series store imported into the database (once; later starts skip this)',
  );
  return result;
}
