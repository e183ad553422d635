import { join } from 'node:path';
import { waitFor } from '@gaswatch/shared/testing';
import { sql } from 'kysely';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Alarm, rebuildAlarms } from '../src/alarms/model.js';
import { AlarmRecordError } from '../src/alarms/records.js';
import { appendAlarmEvents, getAlarm, listAlarmEvents } from '../src/db/alarm-records.js';
import {
  createDatabase,
  type DatabaseConfig,
  type Db,
  isPostgres,
  migrateToLatest,
} from '../src/db/database.js';
import { LegacyImportError, MigrationError } from '../src/db/errors.js';
import {
  ALARM_EVENTS_SOURCE,
  findLegacyImport,
  importLegacyAlarmEvents,
  markLegacyImport,
} from '../src/db/legacy-import.js';
import { MIGRATIONS } from '../src/db/migrations/index.js';
import { createEmbeddedStore } from '../src/store/embedded.js';
import type { AlarmEventRecord } from '../src/store/types.js';
import { alarmOf, lifeOf, record, T0 } from './alarm-fixtures.js';
import { deviceState, publishState } from './e2e/browser.js';
import {
  connectGateway,
  createUser,
  getJson,
  login,
  publishReading,
  quietLogger,
  reading,
  startTestServer,
} from './helpers.js';

/** A database for the suite to use; each `fresh()` is a new, empty one. */
export interface DbTarget {
  fresh(): Promise<{
    config: DatabaseConfig;
    /** Environment that points a server at this database. */
    env: Record<string, string>;
    /** DATA_DIR for a server over it (where the SQLite file lives); the target removes it. */
    dataDir: string;
  }>;
}

/**
 * A contract suite's databases: each call opens a fresh, migrated database of `target`, closed
 * after the test that opened it. Call it inside the suite's describe (it adds an afterEach there).
 */
export function migratedDatabases(target: () => DbTarget): () => Promise<Db> {
  const open: Db[] = [];
  afterEach(async () => {
    for (const db of open.splice(0)) await db.destroy();
  });
  return async () => {
    const { config } = await target().fresh();
    const db = createDatabase(config, quietLogger());
    open.push(db);
    await migrateToLatest(db);
    return db;
  };
}

export function dbContract(name: string, target: () => DbTarget): void {
  describe(`relational store contract: ${name}`, () => {
    const open: Db[] = [];
    const fresh = async (): Promise<Db> => {
      const { config } = await target().fresh();
      const db = createDatabase(config, quietLogger());
      open.push(db);
      return db;
    };
    afterEach(async () => {
      for (const db of open.splice(0)) await db.destroy();
    });

    const tables = async (db: Db) =>
      (await db.introspection.getTables()).map((t) => t.name).filter((n) => !n.startsWith('kysely_'));

    it('migrations apply on an empty database and are a no-op the second time', async () => {
      const db = await fresh();
      expect(await migrateToLatest(db)).toEqual(Object.keys(MIGRATIONS));
      // SQLite's household search index is tables (FTS5 and its own); PostgreSQL's is indexes.
      const search = isPostgres(db)
        ? []
        : [
            'household_search',
            'household_search_config',
            'household_search_data',
            'household_search_docsize',
            'household_search_idx',
            'household_search_keys',
          ];
      expect((await tables(db)).sort()).toEqual(
        [
          'advisories',
          'alarm_events',
          'alarms',
          'api_tokens',
          'areas',
          'audit_log',
          'gateways',
          'household_counts',
          'household_detectors',
          'households',
          'inspection_photos',
          'inspections',
          'ledgers',
          'legacy_imports',
          'notifications',
          'sessions',
          'shifts',
          'users',
          'bump_tests',
          'calibrations',
          'device_maintenance',
          'permit_events',
          'permit_monitoring',
          'permit_test_readings',
          'permit_tests',
          'permits',
          'spaces',
          ...search,
        ].sort(),
      );
      await appendAlarmEvents(db, lifeOf('kitchen.CO-dose.1', T0));
      expect(await migrateToLatest(db)).toEqual([]);
      expect(await listAlarmEvents(db)).toHaveLength(3);
    });

    it('a migration that fails leaves the schema as it was, and says which one and why', async () => {
      const db = await fresh();
      // After every real migration, so they all run in its transaction first.
      const broken = {
        ...MIGRATIONS,
        '9999-broken': {
          async up(d: typeof db) {
            await d.schema.createTable('half_done').addColumn('x', 'text').execute();
            await sql`select * from no_such_table`.execute(d);
          },
        },
      };
      const err = await migrateToLatest(db, broken).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as MigrationError).migration).toBe('9999-broken');
      expect((err as Error).message).toMatch(/migration 9999-broken failed.*no_such_table/);
      // The others ran in the same transaction: rolled back with it, not left half-migrated.
      expect(await tables(db)).toEqual([]);
      expect(await migrateToLatest(db)).toEqual(Object.keys(MIGRATIONS));
    });

    it('lists alarm events in time order, by alarm and since (inclusive), idempotent by (alarm, seq)', async () => {
      const db = await fresh();
      await migrateToLatest(db);
      const a = lifeOf('kitchen.CO-dose.1', T0);
      const b = lifeOf('hall.LEL-hi.1', T0 + 60_000);
      // Out of order across two batches; b's raise shares a's acknowledgement's ts.
      await appendAlarmEvents(db, [a[2], b[1]] as AlarmEventRecord[]);
      await appendAlarmEvents(db, [b[0], a[1], a[0], b[2]] as AlarmEventRecord[]);
      const ids = (await listAlarmEvents(db)).map((e) => e.id);
      expect(ids).toEqual([
        'kitchen.CO-dose.1#1',
        'hall.LEL-hi.1#1',
        'kitchen.CO-dose.1#2',
        'hall.LEL-hi.1#2',
        'kitchen.CO-dose.1#3',
        'hall.LEL-hi.1#3',
      ]);
      expect(await listAlarmEvents(db, { alarmId: 'kitchen.CO-dose.1' })).toEqual(a);
      expect((await listAlarmEvents(db, { since: T0 + 60_000 })).map((e) => e.id)).toEqual(ids.slice(1));
      expect(
        (await listAlarmEvents(db, { alarmId: 'hall.LEL-hi.1', since: T0 + 120_000 })).map((e) => e.id),
      ).toEqual(['hall.LEL-hi.1#2', 'hall.LEL-hi.1#3']);
      expect(await listAlarmEvents(db, { alarmId: 'nobody' })).toEqual([]);

      // A retried batch, and a different event claiming a stored (alarm, seq): the first is kept.
      await appendAlarmEvents(db, a);
      const impostor = { ...(a[1] as AlarmEventRecord), id: 'kitchen.CO-dose.1#2-again' };
      impostor.data = { ...impostor.data, actor: 'someone-else' };
      await appendAlarmEvents(db, [impostor]);
      expect(await listAlarmEvents(db, { alarmId: 'kitchen.CO-dose.1' })).toEqual(a);
    });

    it('gives back the data it was given, byte for byte: unicode, quotes, NUL, key order', async () => {
      const db = await fresh();
      await migrateToLatest(db);
      const note = '一氧化碳报警：已开窗通风，老人已转移 ✓ 🔥 "quoted" back\\slash \u0000 nul, tab\t';
      const [raised] = lifeOf('灶台-1.CO-dose.1', T0);
      const rec = {
        ...(raised as AlarmEventRecord),
        data: {
          zeta: 1,
          alpha: [0.1 + 0.2, 1e21, -7, null, { ключ: 'значение' }],
          ...(raised as AlarmEventRecord).data,
          note,
          actor: '王小明',
        },
      };
      await appendAlarmEvents(db, [rec]);
      const [back] = await listAlarmEvents(db);
      expect(back).toEqual(rec);
      expect(JSON.stringify(back?.data)).toBe(JSON.stringify(rec.data));
    });

    it("keeps each alarm's row at its highest-seq event, whatever order events arrive in", async () => {
      const db = await fresh();
      await migrateToLatest(db);
      const [raised, acked, cleared] = lifeOf('kitchen.CO-dose.1', T0) as [
        AlarmEventRecord,
        AlarmEventRecord,
        AlarmEventRecord,
      ];
      await appendAlarmEvents(db, [acked]);
      expect(await getAlarm(db, 'kitchen.CO-dose.1')).toMatchObject({ state: 'acknowledged', seq: 2 });
      await appendAlarmEvents(db, [cleared, raised]);
      const row = await db
        .selectFrom('alarms')
        .select(['state', 'seq', 'cleared_at', 'raised_at', 'updated_at', 'site'])
        .where('id', '=', 'kitchen.CO-dose.1')
        .executeTakeFirst();
      expect(row).toEqual({
        state: 'cleared',
        seq: 3,
        cleared_at: T0 + 300_000,
        raised_at: T0,
        updated_at: T0 + 300_000,
        site: 'lin-family',
      });
      // What the engine rebuilds from the events is the row's alarm.
      const { alarms } = rebuildAlarms(await listAlarmEvents(db));
      expect(alarms.get('kitchen.CO-dose.1')).toEqual(await getAlarm(db, 'kitchen.CO-dose.1'));
      expect(await getAlarm(db, 'nobody')).toBeUndefined();
    });

    it('refuses a record without what a row needs, storing nothing of its batch', async () => {
      const db = await fresh();
      await migrateToLatest(db);
      const good = lifeOf('kitchen.CO-dose.1', T0);
      const noSeq: AlarmEventRecord = { id: 'x#1', alarmId: 'x', ts: T0, data: { type: 'raised' } };
      await expect(appendAlarmEvents(db, [...good, noSeq])).rejects.toThrow(AlarmRecordError);
      await expect(appendAlarmEvents(db, [noSeq])).rejects.toThrow(/alarm event x#1 cannot be stored: seq/);
      const otherAlarm = { ...(good[0] as AlarmEventRecord), alarmId: 'hall.LEL-hi.1' };
      await expect(appendAlarmEvents(db, [otherAlarm])).rejects.toThrow(/carries alarm kitchen\.CO-dose\.1/);
      expect(await listAlarmEvents(db)).toEqual([]);
    });

    it('keeps a NUL in the JSON exactly and as U+FFFD in the columns; refuses one in an id, and a fractional time', async () => {
      // PostgreSQL's text and bigint refuse these with an error no retry cures: the event log
      // would retry such a batch for ever. Cleaned or refused (AlarmRecordError), the same on both.
      const db = await fresh();
      await migrateToLatest(db);
      const a = alarmOf('kitchen.CO-dose.1', {
        site: 'flat\u00007',
        ack: { actor: 'li\u0000', at: T0, note: '' },
      });
      const acked = record({ ...a, state: 'acknowledged' }, 1, 'acknowledged', T0, { actor: 'li\u0000' });
      await appendAlarmEvents(db, [acked]);
      expect(await listAlarmEvents(db)).toEqual([acked]);
      expect(await getAlarm(db, a.id)).toMatchObject({ site: 'flat\u00007', ack: { actor: 'li\u0000' } });
      const row = await db
        .selectFrom('alarm_events')
        .innerJoin('alarms', 'alarms.id', 'alarm_events.alarm_id')
        .select(['alarms.site', 'alarm_events.actor'])
        .executeTakeFirst();
      expect(row).toEqual({ site: 'flat\uFFFD7', actor: 'li\uFFFD' });

      const nulId = record(alarmOf('hall\u0000.CO-dose.1'), 1, 'raised', T0);
      await expect(appendAlarmEvents(db, [nulId])).rejects.toThrow(
        /alarm\.id: must be a non-empty text without NUL/,
      );
      const fraction = { ...record(alarmOf('hall.CO-dose.2'), 1, 'raised', T0), ts: T0 + 0.5 };
      await expect(appendAlarmEvents(db, [fraction])).rejects.toThrow(AlarmRecordError);
      const raisedAt = record(alarmOf('hall.CO-dose.3', { raisedAt: Number.NaN }), 1, 'raised', T0);
      await expect(appendAlarmEvents(db, [raisedAt])).rejects.toThrow(/alarm\.raisedAt/);
      expect(await listAlarmEvents(db)).toHaveLength(1);
    });

    it('stores a batch appended twice at the same moment once', async () => {
      const db = await fresh();
      await migrateToLatest(db);
      const batch = Array.from({ length: 40 }, (_, i) => lifeOf(`dev-${i}.CO-dose.1`, T0 + i * 1_000)).flat();
      const reversed = [...batch].reverse();
      await Promise.all([
        appendAlarmEvents(db, batch),
        appendAlarmEvents(db, reversed),
        appendAlarmEvents(db, batch),
      ]);
      const listed = await listAlarmEvents(db);
      expect(listed).toHaveLength(batch.length);
      expect(new Set(listed.map((e) => e.id)).size).toBe(batch.length);
      const { count } = await db
        .selectFrom('alarms')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('state', '=', 'cleared')
        .executeTakeFirstOrThrow();
      expect(count).toBe(40);
    });

    describe('import of the alarm events the time-series store kept before SQL', () => {
      const stores: Array<{ stop(): Promise<void> }> = [];
      afterEach(async () => {
        for (const st of stores.splice(0)) await st.stop();
      });
      /** An embedded store in a fresh DATA_DIR, holding `records` as the engine of before wrote them. */
      const legacyStore = async (records: AlarmEventRecord[]) => {
        const { dataDir } = await target().fresh();
        const store = createEmbeddedStore({ dir: join(dataDir, 'store'), logger: quietLogger() });
        await store.start();
        stores.push(store);
        await store.appendAlarmEvents(records);
        return store;
      };
      const importInto = (db: Db, store: Parameters<typeof importLegacyAlarmEvents>[0]['store']) =>
        importLegacyAlarmEvents({ db, store, logger: quietLogger(), clock: () => T0 + 3_600_000 });

      it('marks a source imported once: counts come back as numbers, a second marker keeps the first', async () => {
        const db = await fresh();
        await migrateToLatest(db);
        expect(await findLegacyImport(db, ALARM_EVENTS_SOURCE)).toBeUndefined();
        const first = { source: ALARM_EVENTS_SOURCE, importedAt: T0, events: 12, repaired: 1, skipped: 2 };
        await markLegacyImport(db, first);
        await markLegacyImport(db, { ...first, importedAt: T0 + 1, events: 99 });
        expect(await findLegacyImport(db, ALARM_EVENTS_SOURCE)).toEqual(first);
      });

      it('copies every event, repairs a damaged alarm, skips what cannot be kept, and does it once', async () => {
        const db = await fresh();
        await migrateToLatest(db);
        const kitchen = lifeOf('kitchen.CO-dose.1', T0);
        // The newest event of another alarm: its severity lost, its value garbled (SQL refuses it).
        const { severity: _lost, ...damaged } = alarmOf('hall.CO-dose.1', { raisedAt: T0 + 1_000 });
        const repairable = record({ ...damaged, value: 'high' } as unknown as Alarm, 1, 'raised', T0 + 1_000);
        const unreadable: AlarmEventRecord = {
          id: 'junk#1',
          alarmId: 'junk',
          ts: T0 + 2_000,
          data: { hi: 1 },
        };
        // Claims kitchen's raise id with another seq: SQL's primary key would refuse the whole batch.
        const impostor = record(alarmOf('kitchen.CO-dose.1'), 7, 'cleared', T0 + 3_000);
        impostor.id = 'kitchen.CO-dose.1#1';
        // The same event a second time (a retried write stored under another time): one event.
        const copy = { ...(kitchen[1] as AlarmEventRecord), ts: T0 + 400_000 };
        const store = await legacyStore([...kitchen, repairable, unreadable, impostor, copy]);

        const done = await importInto(db, store);
        expect(done).toEqual({
          source: ALARM_EVENTS_SOURCE,
          importedAt: T0 + 3_600_000,
          events: 4,
          repaired: 1,
          skipped: 2,
        });
        expect(await findLegacyImport(db, ALARM_EVENTS_SOURCE)).toEqual(done);
        expect(await listAlarmEvents(db, { alarmId: 'kitchen.CO-dose.1' })).toEqual(kitchen);
        // Repaired as the rebuild repairs it: loud (critical) and open, nothing else changed.
        expect(await getAlarm(db, 'hall.CO-dose.1')).toEqual({
          ...damaged,
          severity: 'critical',
          value: 0,
          seq: 1,
        });

        // Done: a later start reads nothing from the time-series store (here: no longer open).
        await store.stop();
        expect(await importInto(db, store)).toEqual(done);
      });

      it('interrupted half way, imports the rest on the next start, each event once', async () => {
        const db = await fresh();
        await migrateToLatest(db);
        const all = Array.from({ length: 30 }, (_, i) => lifeOf(`dev-${i}.CO-dose.1`, T0 + i * 1_000)).flat();
        const store = await legacyStore(all);
        // What a run killed between two batches leaves: some events stored, no marker.
        await appendAlarmEvents(db, all.slice(0, 40));
        const done = await importInto(db, store);
        expect(done).toMatchObject({ events: 90, repaired: 0, skipped: 0 });
        const listed = await listAlarmEvents(db);
        expect(listed).toHaveLength(90);
        expect(new Set(listed.map((e) => e.id)).size).toBe(90);
      });

      it('while the time-series store cannot be read, fails clearly and marks nothing', async () => {
        const db = await fresh();
        await migrateToLatest(db);
        const store = await legacyStore(lifeOf('kitchen.CO-dose.1', T0));
        await store.stop();
        const err = await importInto(db, store).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LegacyImportError);
        expect((err as Error).message).toMatch(
          /^cannot import the alarm events of the time-series store \(embedded\) into the database: /,
        );
        expect(await findLegacyImport(db, ALARM_EVENTS_SOURCE)).toBeUndefined();
        await store.start();
        expect(await importInto(db, store)).toMatchObject({ events: 3 });
      });
    });

    describe('in the server', () => {
      const stops: Array<() => Promise<void>> = [];
      afterAll(async () => {
        for (const s of stops.splice(0).reverse()) await s();
      });

      it('holds the records the alarm engine writes, and rebuilds the same alarm from them', async () => {
        const { env, dataDir } = await target().fresh();
        const server = await startTestServer(env, dataDir);
        stops.push(() => server.close());
        const gw = await connectGateway(server, 'gw-sql', { clientId: 'gw-sql' });
        stops.push(() => gw.endAsync());
        await publishState(
          gw,
          'gw-sql',
          'kitchen-co',
          deviceState({ site: '幸福里-3-501', location: '厨房', pollIntervalS: 10 }),
        );
        // 400 ppm CO over 3 minutes: raised by the real engine, then acknowledged over HTTP.
        const start = Date.now() - 180_000;
        for (let i = 0; i <= 18; i++)
          await publishReading(gw, 'gw-sql', 'kitchen-co', reading(i, start + i * 10_000, { CO: 400 }));
        let alarmId = '';
        await waitFor(async () => {
          const r = await getJson<{ alarms: Alarm[] }>(`${server.url}/api/alarms?state=open`);
          alarmId = r.body.alarms[0]?.id ?? '';
          return alarmId !== '';
        }, 'alarm raised');
        // A duty officer logged in to the console: the alarm records their username.
        await createUser(server.app.db, { username: 'wang.xm', displayName: '王小明', role: 'operator' });
        const duty = await login(server.url, 'wang.xm');
        const ack = await duty.fetch(`${server.url}/api/alarms/${encodeURIComponent(alarmId)}/ack`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ note: '已开窗通风' }),
        });
        expect(ack.status).toBe(200);

        // The engine wrote its events to SQL, and no longer to the time-series store.
        await server.app.alarms.idle();
        const records = await listAlarmEvents(server.app.db, { alarmId });
        expect(records.map((r) => r.data.type)).toEqual(expect.arrayContaining(['raised', 'acknowledged']));
        expect(await server.app.store.listAlarmEvents()).toEqual([]);
        const rebuilt = rebuildAlarms(records).alarms.get(alarmId);
        expect(rebuilt).toEqual(server.app.alarms.get(alarmId));
        expect(await getAlarm(server.app.db, alarmId)).toEqual(rebuilt);
        expect(rebuilt).toMatchObject({
          state: 'acknowledged',
          site: '幸福里-3-501',
          ack: { actor: 'wang.xm', note: '已开窗通风' },
        });
        const [row] = await server.app.db
          .selectFrom('alarm_events')
          .select(['type', 'actor'])
          .where('alarm_id', '=', alarmId)
          .where('type', '=', 'acknowledged')
          .execute();
        expect(row).toEqual({ type: 'acknowledged', actor: 'wang.xm' });
      });

      it('migrates at start, answers /readyz, and keeps its records across a restart', async () => {
        const { env, dataDir } = await target().fresh();
        let server = await startTestServer(env, dataDir);
        stops.push(() => server.close());
        expect((await getJson(`${server.url}/readyz`)).status).toBe(200);
        await appendAlarmEvents(server.app.db, lifeOf('kitchen.CO-dose.1', T0));
        await server.app.close();

        server = await startTestServer(env, dataDir);
        expect((await listAlarmEvents(server.app.db)).map((e) => e.id)).toEqual([
          'kitchen.CO-dose.1#1',
          'kitchen.CO-dose.1#2',
          'kitchen.CO-dose.1#3',
        ]);
        expect(await getAlarm(server.app.db, 'kitchen.CO-dose.1')).toMatchObject({
          state: 'cleared',
          ack: { actor: 'lin' },
        });
        expect((await getJson(`${server.url}/readyz`)).status).toBe(200);
        // The engine rebuilt the alarm and its history from SQL.
        const { body } = await getJson<{ alarm: Alarm; events: Array<{ type: string; actor?: string }> }>(
          `${server.url}/api/alarms/kitchen.CO-dose.1`,
        );
        expect(body.alarm).toEqual(await getAlarm(server.app.db, 'kitchen.CO-dose.1'));
        expect(body.events.map((e) => [e.type, e.actor])).toEqual([
          ['raised', undefined],
          ['acknowledged', 'lin'],
          ['cleared', undefined],
        ]);
      });
    });
  });
}
