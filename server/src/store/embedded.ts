import { mkdirSync } from 'node:fs';
import type { GasId } from '@gaswatch/shared';
import { ClassicLevel } from 'classic-level';
import type { Logger } from 'pino';
import { StoreError } from '../errors.js';
import { aggregate } from './aggregate.js';
import { withReadingExtras } from './reading-extras.js';
import {
  type AggregateRow,
  type AlarmEventRecord,
  alarmEventData,
  asObject,
  type DeviceEventRecord,
  type ReadingQuery,
  type ReadingRow,
  type Store,
  type StoredReading,
} from './types.js';

/*
 * Key layout (LevelDB sorts keys bytewise):
 *   r!<dev>!<ts, 15 digits>      → reading (one row per (dev, ts): a replay overwrites itself)
 *   a!<ts, 15 digits>!<eventId>  → alarm event, time ordered
 *   e!<ts, 15 digits>!<id>       → device event / command result, time ordered
 *   f!<dev>!<ts, 15 digits>!<id> → the same device event, by device (command results have none)
 * A device's readings in a time range are one contiguous range scan.
 */
const pad = (n: number): string => Math.max(0, Math.trunc(n)).toString().padStart(15, '0');
const readingKey = (dev: string, ts: number): string => `r!${dev}!${pad(ts)}`;
/**
 * Whether a stored reading (as JSON) has a value for `gas`, without parsing it: `values` is a
 * flat object of gas ids written by writeReadings, so its text runs to the first `}`. Parsing
 * every value of a week of readings to count them cost three times as long.
 */
function carries(json: string, gas: GasId): boolean {
  const at = json.indexOf('"values":{');
  if (at < 0) return false;
  const end = json.indexOf('}', at);
  return json.slice(at + 10, end).includes(`"${gas}":`);
}

/** Upper bound of a time key range when `to` is open. */
const END = '~';

/**
 * An alarm event from its `a!` record. A damaged record keeps the id and time of its key and gets
 * no alarm id and empty data: the rebuild skips and counts it instead of failing on it.
 */
function alarmEventRecord(key: string, value: string): AlarmEventRecord {
  const e = alarmEventData(value);
  if (typeof e.id === 'string' && typeof e.alarmId === 'string' && typeof e.ts === 'number')
    return { id: e.id, alarmId: e.alarmId, ts: e.ts, data: asObject(e.data) };
  const [, ts = '0', id = key] = key.split('!');
  return { id, alarmId: '', ts: Number(ts), data: {} };
}

interface StoredValue {
  gw: string;
  seq: number;
  values: StoredReading['values'];
  status: StoredReading['status'];
  faults?: StoredReading['faults'];
  quality?: StoredReading['quality'];
  alarm?: StoredReading['alarm'];
  receivedAt: number;
  late: boolean;
}

export interface EmbeddedStoreOptions {
  /** Directory of the LevelDB database (created if missing). */
  dir: string;
  logger: Logger;
}

/** The one-box store: LevelDB through classic-level, durable across kill -9 once a write resolves. */
export function createEmbeddedStore(opts: EmbeddedStoreOptions): Store {
  const log = opts.logger.child({ store: 'embedded' });
  let db: ClassicLevel<string, string> | null = null;

  const open = (): ClassicLevel<string, string> => {
    if (db?.status !== 'open') throw new StoreError('embedded store is not open');
    return db;
  };

  async function* scan(
    gte: string,
    lt: string,
    limit = -1,
    reverse = false,
  ): AsyncGenerator<[string, string]> {
    for await (const entry of open().iterator({ gte, lt, limit, reverse })) yield entry;
  }

  return {
    kind: 'embedded',
    async start() {
      mkdirSync(opts.dir, { recursive: true });
      db = new ClassicLevel<string, string>(opts.dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
      await db.open();
      log.debug({ dir: opts.dir }, 'embedded store open');
    },
    async stop() {
      if (db) await db.close();
      db = null;
    },
    async ping() {
      return db?.status === 'open';
    },
    async writeReadings(batch) {
      if (batch.length === 0) return;
      const ops = batch.map((r) => ({
        type: 'put' as const,
        key: readingKey(r.dev, r.ts),
        value: JSON.stringify({
          gw: r.gw,
          seq: r.seq,
          values: r.values,
          status: r.status,
          // JSON.stringify leaves out the ones that are undefined.
          faults: r.faults,
          quality: r.quality,
          alarm: r.alarm,
          receivedAt: r.receivedAt,
          late: r.late,
        } satisfies StoredValue),
      }));
      try {
        await open().batch(ops);
      } catch (err) {
        throw new StoreError(`embedded store write failed: ${(err as Error).message}`, { cause: err });
      }
    },
    async queryReadings(q: ReadingQuery): Promise<ReadingRow[] | AggregateRow[]> {
      const rows: ReadingRow[] = [];
      const rawLimit = q.everyMs ? -1 : (q.limit ?? -1);
      for await (const [key, value] of scan(readingKey(q.dev, q.from), readingKey(q.dev, q.to))) {
        const ts = Number(key.slice(key.lastIndexOf('!') + 1));
        const v = JSON.parse(value) as StoredValue;
        let values: Partial<Record<GasId, number>> = v.values;
        if (q.gas) {
          const x = v.values[q.gas];
          if (x === undefined) continue;
          values = { [q.gas]: x };
        }
        rows.push(withReadingExtras<ReadingRow>({ ts, seq: v.seq, values, status: v.status }, v));
        if (rawLimit > 0 && rows.length >= rawLimit) break;
      }
      if (!q.everyMs) return rows;
      const agg = aggregate(rows, q.everyMs, q.from);
      return q.limit ? agg.slice(0, q.limit) : agg;
    },
    async countReadings(dev, range) {
      const gte = range === undefined ? `r!${dev}!` : readingKey(dev, range.from);
      const lt = range === undefined ? `r!${dev}!~` : readingKey(dev, range.to);
      const cap = range?.cap ?? Number.POSITIVE_INFINITY;
      const gas = range?.gas;
      // Keys only unless a gas is asked for; in chunks, since one await per key costs more than
      // reading the key (100 000 keys: ~130 ms one by one, ~40 ms in chunks of 1 000).
      const it =
        gas === undefined
          ? open().keys({ gte, lt, limit: Number.isFinite(cap) ? cap : -1 })
          : open().values({ gte, lt });
      let n = 0;
      try {
        for (;;) {
          const chunk = await it.nextv(1_000);
          if (chunk.length === 0) return n;
          if (gas === undefined) n += chunk.length;
          else for (const value of chunk) if (carries(value, gas) && ++n >= cap) return n;
          if (n >= cap) return cap;
        }
      } finally {
        await it.close();
      }
    },
    async appendAlarmEvents(events) {
      if (events.length === 0) return;
      await open().batch(
        events.map((e) => ({
          type: 'put' as const,
          key: `a!${pad(e.ts)}!${e.id}`,
          value: JSON.stringify(e),
        })),
      );
    },
    async listAlarmEvents(o = {}) {
      const out: AlarmEventRecord[] = [];
      for await (const [key, value] of scan(`a!${pad(o.since ?? 0)}`, 'a!~')) {
        const e = alarmEventRecord(key, value);
        if (o.alarmId === undefined || e.alarmId === o.alarmId) out.push(e);
      }
      return out;
    },
    async appendDeviceEvents(events) {
      if (events.length === 0) return;
      const ops: { type: 'put'; key: string; value: string }[] = [];
      for (const e of events) {
        const value = JSON.stringify(e);
        ops.push({ type: 'put', key: `e!${pad(e.ts)}!${e.id}`, value });
        if (e.dev !== null) ops.push({ type: 'put', key: `f!${e.dev}!${pad(e.ts)}!${e.id}`, value });
      }
      try {
        await open().batch(ops);
      } catch (err) {
        if (err instanceof StoreError) throw err;
        throw new StoreError(`embedded store write failed: ${(err as Error).message}`, { cause: err });
      }
    },
    async listDeviceEvents(q = {}) {
      const out: DeviceEventRecord[] = [];
      const prefix = q.dev !== undefined ? `f!${q.dev}!` : 'e!';
      const gte = `${prefix}${pad(q.from ?? 0)}`;
      const lt = q.to !== undefined ? `${prefix}${pad(q.to)}` : `${prefix}${END}`;
      for await (const [, value] of scan(gte, lt, -1, true)) {
        const e = JSON.parse(value) as DeviceEventRecord;
        if (q.gw !== undefined && e.gw !== q.gw) continue;
        out.push(e);
        if (q.limit !== undefined && out.length >= q.limit) break;
      }
      return out;
    },
  };
}
