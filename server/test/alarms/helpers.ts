import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, DeviceKind, DeviceState, GasId, Reading } from '@gaswatch/shared';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { type GaswatchConfig, GaswatchConfigSchema } from '../../src/alarms/config-schema.js';
import { type AlarmEngine, type AlarmEngineDeps, createAlarmEngine } from '../../src/alarms/engine.js';
import type { AlarmRecords } from '../../src/alarms/records.js';
import { createBus, type ReadingAccepted, type ServerBus } from '../../src/bus.js';
import { sqlAlarmRecords } from '../../src/db/alarm-records.js';
import { type Db, openDatabase } from '../../src/db/database.js';
import { sqlNotificationStore } from '../../src/db/notifications.js';
import { createEmbeddedStore } from '../../src/store/embedded.js';
import type { Store } from '../../src/store/types.js';
import type { Timers } from '../../src/timers.js';

export const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
export const MIN = 60_000;
export const T0 = Date.parse('2026-11-23T00:00:00.000Z');

/**
 * Simulated wall clock and timers: nothing fires until `advance` moves the clock past it, and
 * then timers fire in due order with the clock set to their due time.
 */
export function manualTime(start = T0) {
  let now = start;
  let nextId = 1;
  const pending = new Map<number, { due: number; fn: () => void }>();
  const timers: Timers = {
    setTimeout(fn, ms) {
      const id = nextId++;
      pending.set(id, { due: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(h) {
      pending.delete(h as number);
    },
  };
  return {
    clock: () => now,
    timers,
    pendingCount: () => pending.size,
    /** Moves the clock forward `ms`, firing due timers in order (bounded). */
    advance(ms: number) {
      const end = now + ms;
      for (let i = 0; i < 100_000; i++) {
        let first: [number, { due: number; fn: () => void }] | undefined;
        for (const e of pending)
          if (e[1].due <= end && (first === undefined || e[1].due < first[1].due)) first = e;
        if (first === undefined) break;
        pending.delete(first[0]);
        now = Math.max(now, first[1].due);
        first[1].fn();
      }
      now = end;
    },
  };
}

export function deviceState(kind: DeviceKind, site: string, pollIntervalS = 10): DeviceState {
  return {
    v: 1,
    ts: new Date(T0).toISOString(),
    online: true,
    model: kind === 'household-co' ? 'gaswatch-co' : kind === 'multigas' ? 'gaswatch-4gas' : 'gaswatch-lel',
    kind,
    site,
    location: 'test',
    lastError: null,
    pollIntervalS,
  };
}

/** A reading as core's ingest hands it to the bus. */
export function accepted(
  gw: string,
  dev: string,
  state: DeviceState | null,
  ts: number,
  seq: number,
  values: Partial<Record<GasId, number>>,
  opts: {
    status?: Reading['status'];
    receivedAt?: number;
    late?: boolean;
    faults?: string[];
    alarm?: boolean;
    clockSuspect?: boolean;
  } = {},
): ReadingAccepted {
  const reading: Reading = {
    v: 1,
    ts: new Date(ts).toISOString(),
    seq,
    values,
    status: opts.status ?? 'ok',
    ...(opts.faults ? { faults: opts.faults } : {}),
    ...(opts.alarm === undefined ? {} : { alarm: opts.alarm }),
  };
  return {
    gw,
    dev,
    reading,
    ts,
    receivedAt: opts.receivedAt ?? ts,
    late: opts.late ?? false,
    clockSuspect: opts.clockSuspect ?? false,
    device: { gw, dev, state, lastSeen: opts.receivedAt ?? ts },
  };
}

/** Stores readings as core's drainer would, then emits them on the bus (store first: what core guarantees). */
export async function feed(store: Store, bus: ServerBus, readings: ReadingAccepted[]): Promise<void> {
  await store.writeReadings(
    readings.map((r) => ({
      gw: r.gw,
      dev: r.dev,
      ts: r.ts,
      seq: r.reading.seq,
      values: r.reading.values,
      status: r.reading.status,
      faults: r.reading.faults,
      quality: r.reading.quality,
      alarm: r.reading.alarm,
      receivedAt: r.receivedAt,
      late: r.late,
    })),
  );
  for (const r of readings) bus.emit('reading', r);
}

/** Constant concentration `values` every `stepS` from `fromMs` (inclusive) to `toMs` (exclusive). */
export function series(
  gw: string,
  dev: string,
  state: DeviceState | null,
  fromMs: number,
  toMs: number,
  stepS: number,
  values: Partial<Record<GasId, number>>,
  seq0 = 0,
): ReadingAccepted[] {
  const out: ReadingAccepted[] = [];
  for (let ts = fromMs, i = 0; ts < toMs && i < 1_000_000; ts += stepS * 1000, i++)
    out.push(accepted(gw, dev, state, ts, seq0 + i, values));
  return out;
}

export interface Rig {
  dir: string;
  /** The time-series store: readings (feed writes them here). */
  store: Store;
  /** SQLite in `dir`: where the engine keeps its events, as in the server. */
  db: Db;
  /** The engine's records over `db`. */
  records: AlarmRecords;
  bus: ServerBus;
  engine: AlarmEngine;
  commands: { gw: string; cmd: Command }[];
  registry: Registry;
  config: GaswatchConfig;
  /** A new engine over the same store, database and bus (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function makeRig(
  rawConfig: unknown,
  extra: Partial<AlarmEngineDeps> & { clock?: () => number } = {},
): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-alarms-'));
  const store = createEmbeddedStore({ dir: join(dir, 'store'), logger: quiet });
  await store.start();
  const { db } = await openDatabase({ kind: 'sqlite', file: join(dir, 'gaswatch.db') }, quiet);
  const records = sqlAlarmRecords(db);
  const bus = createBus();
  const config = GaswatchConfigSchema.parse(rawConfig);
  const commands: Rig['commands'] = [];
  const make = () => {
    const registry = new Registry();
    const engine = createAlarmEngine({
      store,
      records,
      bus,
      config,
      clock: extra.clock ?? (() => T0),
      logger: quiet,
      metrics: registry,
      sendCommand: async (gw, cmd) => {
        commands.push({ gw, cmd });
      },
      // Notifications are recorded in the same database, as in the server.
      notifications: sqlNotificationStore(db),
      ...extra,
    });
    return { engine, registry };
  };
  const first = make();
  try {
    await first.engine.start();
  } catch (err) {
    await db.destroy();
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const rig: Rig = {
    dir,
    store,
    db,
    records,
    bus,
    engine: first.engine,
    registry: first.registry,
    commands,
    config,
    async restart() {
      await rig.engine.stop();
      const next = make();
      await next.engine.start();
      rig.engine = next.engine;
      rig.registry = next.registry;
    },
    async close() {
      await rig.engine.stop();
      await db.destroy();
      await store.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}

export interface Received {
  headers: import('node:http').IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
}

/** A real HTTP server on 127.0.0.1 that records webhook POSTs; `respond` picks the status per request. */
export async function startReceiver(respond: (n: number) => number | 'hang' = () => 200) {
  const { createServer } = await import('node:http');
  const received: Received[] = [];
  let count = 0;
  const hanging = new Set<import('node:http').ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // recorded as is
      }
      received.push({ headers: req.headers, raw, body });
      const status = respond(count++);
      if (status === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    async close() {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
