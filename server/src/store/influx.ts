import http from 'node:http';
import https from 'node:https';
import { GAS_IDS, type GasId } from '@gaswatch/shared';
import { FieldType, InfluxDB, escape as influxEscape } from 'influx';
import type { Logger } from 'pino';
import { StoreError, StoreRejectedError } from '../errors.js';
import { withoutCredentials } from '../urls.js';
import { newestFirst } from './device-events.js';
import {
  type AggregateRow,
  type AlarmEventRecord,
  alarmEventData,
  type DeviceEventRecord,
  type ReadingQuery,
  type ReadingRow,
  type Store,
  type StoredReading,
} from './types.js';

/*
 * Layout in InfluxDB 1.x (precision ms):
 *   reading      tags gw, dev; fields one float per gas, seq (int), receivedAt (int); status only when
 *                not "ok", late only when true (each field costs InfluxDB CPU per point: these two
 *                defaults cut influxd's CPU per reading by about a fifth); where the detector said so:
 *                faults (JSON array), quality (JSON object), alarm (bool)
 *   alarm_event  tags alarmId, eid (event id); fields data (JSON string)
 *   device_event tags kind (event | command_result), gw, dev (events only), eid; fields data (JSON
 *                string), receivedAt (int). Timestamp = the event's own ts; same id → same point.
 * A replayed reading has the same series (gw, dev) and timestamp, so InfluxDB keeps one point.
 */
const READING = 'reading';
const ALARM_EVENT = 'alarm_event';
const DEVICE_EVENT = 'device_event';

export interface InfluxStoreOptions {
  /** e.g. http://127.0.0.1:8086 (credentials in the URL are used). */
  url: string;
  database: string;
  logger: Logger;
}

const escTag = (s: string) => (/[ ,=\\]/.test(s) ? s.replace(/([ ,=\\])/g, '\\$1') : s);
const escStr = (s: string) => s.replace(/(["\\])/g, '\\$1');

/** One reading as an InfluxDB line: reading,dev=…,gw=… CO=35.2,seq=12i,receivedAt=…i ts */
function readingLine(r: StoredReading): string {
  let fields = '';
  if (r.status !== 'ok') fields += `status="${escStr(r.status)}",`;
  if (r.late) fields += 'late=true,';
  for (const g of GAS_IDS) {
    const v = r.values[g];
    if (v !== undefined) fields += `${g}=${v},`;
  }
  if (r.faults !== undefined) fields += `faults="${escStr(JSON.stringify(r.faults))}",`;
  if (r.quality !== undefined) fields += `quality="${escStr(JSON.stringify(r.quality))}",`;
  if (r.alarm !== undefined) fields += `alarm=${r.alarm},`;
  return `${READING},dev=${escTag(r.dev)},gw=${escTag(r.gw)} ${fields}seq=${r.seq}i,receivedAt=${Math.trunc(r.receivedAt)}i ${Math.trunc(r.ts)}`;
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '\\"')}"`;

export function createInfluxStore(opts: InfluxStoreOptions): Store {
  const log = opts.logger.child({ store: 'influx' });
  const u = new URL(opts.url);
  const influx = new InfluxDB({
    hosts: [
      {
        host: u.hostname,
        port: Number(u.port || (u.protocol === 'https:' ? 443 : 8086)),
        protocol: u.protocol === 'https:' ? 'https' : 'http',
      },
    ],
    database: opts.database,
    username: decodeURIComponent(u.username) || 'root',
    password: decodeURIComponent(u.password) || 'root',
    schema: [
      {
        measurement: READING,
        tags: ['gw', 'dev'],
        fields: {
          ...Object.fromEntries(GAS_IDS.map((g) => [g, FieldType.FLOAT])),
          seq: FieldType.INTEGER,
          status: FieldType.STRING,
          late: FieldType.BOOLEAN,
          receivedAt: FieldType.INTEGER,
          faults: FieldType.STRING,
          quality: FieldType.STRING,
          alarm: FieldType.BOOLEAN,
        },
      },
      { measurement: ALARM_EVENT, tags: ['alarmId', 'eid'], fields: { data: FieldType.STRING } },
      {
        measurement: DEVICE_EVENT,
        tags: ['kind', 'gw', 'dev', 'eid'],
        fields: { data: FieldType.STRING, receivedAt: FieldType.INTEGER },
      },
    ],
  });
  let dbReady = false;

  const ensureDb = async () => {
    if (dbReady) return;
    await influx.createDatabase(opts.database);
    dbReady = true;
  };

  const wrap = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      await ensureDb();
      return await f();
    } catch (err) {
      if (err instanceof StoreError || err instanceof StoreRejectedError) throw err;
      throw new StoreError(`influx ${what} failed: ${(err as Error).message}`, { cause: err });
    }
  };

  const writeUrl = new URL('/write', `${u.protocol}//${u.host}`);
  writeUrl.searchParams.set('db', opts.database);
  writeUrl.searchParams.set('precision', 'ms');
  if (u.username) writeUrl.searchParams.set('u', decodeURIComponent(u.username));
  if (u.password) writeUrl.searchParams.set('p', decodeURIComponent(u.password));

  // node:http with a keep-alive agent and the body as one Buffer: fetch (undici) spent about three
  // times the CPU per batch (a stream per body, and the body written in many chunks).
  const client = u.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: 4 });
  const post = (body: Buffer) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = client.request(
        writeUrl,
        {
          method: 'POST',
          agent,
          timeout: 30_000,
          headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < 500) text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: text.slice(0, 500) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', reject);
      req.end(body);
    });

  const postLines = async (lines: string): Promise<void> => {
    const res = await post(Buffer.from(lines));
    if (res.status === 204 || res.status === 200) return;
    const text = res.text;
    if (res.status === 404) dbReady = false; // database dropped: created again on the next attempt
    if (res.status >= 400 && res.status < 500 && res.status !== 404) {
      // InfluxDB refused points (e.g. a field type conflict); it stored the others. Retrying can
      // never succeed, so the caller must not keep the batch forever.
      throw new StoreRejectedError(`InfluxDB refused part of the batch: ${text}`);
    }
    throw new StoreError(`InfluxDB write answered ${res.status}: ${text}`);
  };

  const timeRange = (from: number, to: number) =>
    `time >= ${Math.trunc(from)}ms AND time < ${Math.trunc(to)}ms`;
  const rowTs = (row: Record<string, unknown>): number => (row.time as Date).getTime();

  return {
    kind: 'influx',
    async start() {
      try {
        await ensureDb();
      } catch (err) {
        // Not fatal: the journal holds readings until InfluxDB is reachable.
        log.warn(
          { err: (err as Error).message, url: withoutCredentials(opts.url) },
          'InfluxDB not reachable at start',
        );
      }
    },
    async stop() {
      agent.destroy();
    },
    async ping() {
      try {
        const hosts = await influx.ping(1_000);
        return hosts.some((h) => h.online);
      } catch {
        return false;
      }
    },
    async writeReadings(batch: readonly StoredReading[]) {
      if (batch.length === 0) return;
      // Line protocol built here, not by the influx client: the readings are already validated
      // (ids match the id pattern, status is an enum, values are finite), and serialising points
      // through the client's schema coercion costs more CPU than the whole ingest path.
      const body = batch.map(readingLine).join('\n');
      await wrap('write', () => postLines(body));
    },
    async queryReadings(q: ReadingQuery): Promise<ReadingRow[] | AggregateRow[]> {
      const where = `dev = ${influxEscape.stringLit(q.dev)} AND ${timeRange(q.from, q.to)}`;
      const gases: readonly GasId[] = q.gas ? [q.gas] : GAS_IDS;
      if (q.everyMs) {
        const every = Math.trunc(q.everyMs);
        // Buckets start at `from`, as the embedded store's do (InfluxDB aligns to the epoch otherwise).
        const offset = ((Math.trunc(q.from) % every) + every) % every;
        const sel = gases
          .flatMap((g) => [
            `MEAN(${quoteIdent(g)}) AS "${g}_mean"`,
            `MIN(${quoteIdent(g)}) AS "${g}_min"`,
            `MAX(${quoteIdent(g)}) AS "${g}_max"`,
            `COUNT(${quoteIdent(g)}) AS "${g}_count"`,
          ])
          .join(', ');
        const rows = await wrap('query', () =>
          influx.query<Record<string, unknown>>(
            `SELECT ${sel} FROM ${READING} WHERE ${where} GROUP BY time(${every}ms, ${offset}ms) fill(none)`,
            { precision: 'ms' },
          ),
        );
        const out: AggregateRow[] = [];
        for (const row of rows) {
          const ts = rowTs(row);
          for (const g of gases) {
            const count = row[`${g}_count`];
            if (typeof count !== 'number' || count === 0) continue;
            out.push({
              ts,
              gas: g,
              mean: row[`${g}_mean`] as number,
              min: row[`${g}_min`] as number,
              max: row[`${g}_max`] as number,
              count,
            });
          }
        }
        out.sort((a, b) => a.ts - b.ts || a.gas.localeCompare(b.gas));
        return q.limit ? out.slice(0, q.limit) : out;
      }
      const fields = [...gases.map(quoteIdent), 'seq', 'status', 'faults', 'quality', 'alarm'].join(', ');
      const limit = q.limit ? ` LIMIT ${Math.trunc(q.limit)}` : '';
      const gasFilter = q.gas ? ` AND ${quoteIdent(q.gas)} >= 0` : '';
      const rows = await wrap('query', () =>
        influx.query<Record<string, unknown>>(
          `SELECT ${fields} FROM ${READING} WHERE ${where}${gasFilter} ORDER BY time ASC${limit}`,
          { precision: 'ms' },
        ),
      );
      return rows.map((row) => {
        const values: Partial<Record<GasId, number>> = {};
        for (const g of gases) {
          const v = row[g];
          if (typeof v === 'number') values[g] = v;
        }
        const out: ReadingRow = {
          ts: rowTs(row),
          seq: row.seq as number,
          values,
          // Not written when "ok" (and points written before 24 Nov have it either way).
          status: (row.status ?? 'ok') as ReadingRow['status'],
        };
        // Written by this store from validated readings, so the JSON parses back to the same shape.
        if (typeof row.faults === 'string') out.faults = JSON.parse(row.faults) as ReadingRow['faults'];
        if (typeof row.quality === 'string') out.quality = JSON.parse(row.quality) as ReadingRow['quality'];
        if (typeof row.alarm === 'boolean') out.alarm = row.alarm;
        return out;
      });
    },
    async countReadings(dev, range) {
      // InfluxDB counts inside its engine and sends one number; the cap is applied after, so
      // both stores answer the same.
      const field = range?.gas === undefined ? 'seq' : quoteIdent(range.gas);
      const when = range === undefined ? '' : ` AND ${timeRange(range.from, range.to)}`;
      const rows = await wrap('count', () =>
        influx.query<{ count: number }>(
          `SELECT COUNT(${field}) AS count FROM ${READING} WHERE dev = ${influxEscape.stringLit(dev)}${when}`,
        ),
      );
      return Math.min(rows[0]?.count ?? 0, range?.cap ?? Number.POSITIVE_INFINITY);
    },
    async appendAlarmEvents(events: readonly AlarmEventRecord[]) {
      if (events.length === 0) return;
      await wrap('write', () =>
        influx.writePoints(
          events.map((e) => ({
            measurement: ALARM_EVENT,
            tags: { alarmId: e.alarmId, eid: e.id },
            fields: { data: JSON.stringify(e.data) },
            timestamp: e.ts,
          })),
          { precision: 'ms' },
        ),
      );
    },
    async listAlarmEvents(o = {}) {
      const conds = [`time >= ${Math.trunc(o.since ?? 0)}ms`];
      if (o.alarmId !== undefined) conds.push(`alarmId = ${influxEscape.stringLit(o.alarmId)}`);
      const rows = await wrap('query', () =>
        influx.query<{ time: Date; alarmId: string; eid: string; data: string }>(
          `SELECT data, alarmId, eid FROM ${ALARM_EVENT} WHERE ${conds.join(' AND ')} ORDER BY time ASC`,
          { precision: 'ms' },
        ),
      );
      return rows.map((r) => ({
        id: r.eid,
        alarmId: r.alarmId,
        ts: r.time.getTime(),
        data: alarmEventData(r.data),
      }));
    },
    async appendDeviceEvents(events: readonly DeviceEventRecord[]) {
      if (events.length === 0) return;
      await wrap('write', () =>
        influx.writePoints(
          events.map((e) => {
            const tags: Record<string, string> = { kind: e.kind, gw: e.gw, eid: e.id };
            if (e.dev !== null) tags.dev = e.dev;
            return {
              measurement: DEVICE_EVENT,
              tags,
              fields: { data: JSON.stringify(e.data), receivedAt: Math.trunc(e.receivedAt) },
              timestamp: Math.trunc(e.ts),
            };
          }),
          { precision: 'ms' },
        ),
      );
    },
    async listDeviceEvents(q = {}) {
      // No upper bound unless asked: events stamped ahead of the server clock are listed too.
      const conds = [`time >= ${Math.trunc(q.from ?? 0)}ms`];
      if (q.to !== undefined) conds.push(`time < ${Math.trunc(q.to)}ms`);
      if (q.dev !== undefined) conds.push(`dev = ${influxEscape.stringLit(q.dev)}`);
      if (q.gw !== undefined) conds.push(`gw = ${influxEscape.stringLit(q.gw)}`);
      const limit = q.limit !== undefined ? ` LIMIT ${Math.trunc(q.limit)}` : '';
      const rows = await wrap('query', () =>
        influx.query<{
          time: Date;
          kind: string;
          gw: string;
          dev: string | null;
          eid: string;
          data: string;
          receivedAt: number;
        }>(
          `SELECT data, receivedAt, kind, gw, dev, eid FROM ${DEVICE_EVENT} WHERE ${conds.join(' AND ')} ORDER BY time DESC${limit}`,
          { precision: 'ms' },
        ),
      );
      return rows
        .map((r) => {
          const base = { id: r.eid, gw: r.gw, ts: r.time.getTime(), receivedAt: r.receivedAt };
          // Written by this store from validated messages, so the JSON parses back to the same shape.
          return r.kind === 'command_result'
            ? ({ ...base, kind: 'command_result', dev: null, data: JSON.parse(r.data) } as DeviceEventRecord)
            : ({ ...base, kind: 'event', dev: r.dev ?? '', data: JSON.parse(r.data) } as DeviceEventRecord);
        })
        .sort(newestFirst);
    },
  };
}
