import { waitFor } from '@gaswatch/shared/testing';
import { sql } from 'kysely';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Alarm, rebuildAlarms } from '../src/alarms/model.js';
import { appendAlarmEvents, getAlarm, listAlarmEvents } from '../src/db/alarm-records.js';
import { createDatabase, type DatabaseConfig, type Db, migrateToLatest } from '../src/db/database.js';
import { AlarmRecordError, MigrationError } from '../src/db/errors.js';
import { MIGRATIONS } from '../src/db/migrations/index.js';
import type { AlarmEventRecord } from '../src/store/types.js';
import { deviceState, publishState } from './e2e/browser.js';
import { connectGateway, getJson, publishReading, quietLogger, reading, startTestServer } from './helpers.js';

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

const T0 = Date.UTC(2026, 10, 23, 18, 0, 0);

function alarmOf(id: string, over: Partial<Alarm> = {}): Alarm {
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
function record(
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
function lifeOf(id: string, t: number): AlarmEventRecord[] {
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
      expect((await tables(db)).sort()).toEqual(['alarm_events', 'alarms']);
      await appendAlarmEvents(db, lifeOf('kitchen.CO-dose.1', T0));
      expect(await migrateToLatest(db)).toEqual([]);
      expect(await listAlarmEvents(db)).toHaveLength(3);
    });

    it('a migration that fails leaves the schema as it was, and says which one and why', async () => {
      const db = await fresh();
      const broken = {
        ...MIGRATIONS,
        '0002-broken': {
          async up(d: typeof db) {
            await d.schema.createTable('half_done').addColumn('x', 'text').execute();
            await sql`select * from no_such_table`.execute(d);
          },
        },
      };
      const err = await migrateToLatest(db, broken).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as MigrationError).migration).toBe('0002-broken');
      expect((err as Error).message).toMatch(/migration 0002-broken failed.*no_such_table/);
      // 0001 ran in the same transaction: rolled back with it, not left half-migrated.
      expect(await tables(db)).toEqual([]);
      expect(await migrateToLatest(db)).toEqual(['0001-alarms']);
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

    describe('in the server', () => {
      const stops: Array<() => Promise<void>> = [];
      afterAll(async () => {
        for (const s of stops.splice(0).reverse()) await s();
      });

      it('takes the records the alarm engine writes today, and rebuilds the same alarm from them', async () => {
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
        const ack = await fetch(`${server.url}/api/alarms/${encodeURIComponent(alarmId)}/ack`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ actor: '王小明', note: '已开窗通风' }),
        });
        expect(ack.status).toBe(200);

        // What the engine stored in the time-series store, appended to SQL as the next step will.
        const records = await server.app.store.listAlarmEvents({ alarmId });
        expect(records.map((r) => r.data.type)).toEqual(expect.arrayContaining(['raised', 'acknowledged']));
        await appendAlarmEvents(server.app.db, records);
        const back = await listAlarmEvents(server.app.db, { alarmId });
        expect(back).toEqual(records);
        const rebuilt = rebuildAlarms(records).alarms.get(alarmId);
        expect(rebuildAlarms(back).alarms.get(alarmId)).toEqual(rebuilt);
        expect(await getAlarm(server.app.db, alarmId)).toEqual(rebuilt);
        expect(rebuilt).toMatchObject({
          state: 'acknowledged',
          site: '幸福里-3-501',
          ack: { actor: '王小明', note: '已开窗通风' },
        });
        const [row] = await server.app.db
          .selectFrom('alarm_events')
          .select(['type', 'actor'])
          .where('alarm_id', '=', alarmId)
          .where('type', '=', 'acknowledged')
          .execute();
        expect(row).toEqual({ type: 'acknowledged', actor: '王小明' });
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
      });
    });
  });
}
