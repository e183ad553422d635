import { freePort, type Postgres, startPostgres, startTsNode, waitFor } from '@gaswatch/shared/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAlarmEvents } from '../src/db/alarm-records.js';
import { listAudit } from '../src/db/audit.js';
import { createDatabase, openDatabase } from '../src/db/database.js';
import { DatabaseUnavailableError } from '../src/db/errors.js';
import { householdSearchIndexed } from '../src/db/households.js';
import { accessContract } from './db-access-contract.js';
import { type DbTarget, dbContract } from './db-contract.js';
import { householdsContract } from './db-households-contract.js';
import { inspectionsContract } from './db-inspections-contract.js';
import { ledgersContract } from './db-ledgers-contract.js';
import { maintenanceContract } from './db-maintenance-contract.js';
import { notificationsContract } from './db-notifications-contract.js';
import { permitsContract } from './db-permits-contract.js';
import { deviceState, publishState } from './e2e/browser.js';
import {
  apiFetch,
  capturingLogger,
  connectGateway,
  getJson,
  publishReading,
  quietLogger,
  reading,
  SERVER_MAIN,
  startTestServer,
  tempDir,
} from './helpers.js';

let pg: Postgres;
const dirs: Array<{ remove(): void }> = [];
let n = 0;

beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  await pg?.stop();
  for (const d of dirs) d.remove();
});

/** A new, empty database in the test cluster. */
async function freshDatabase(): Promise<string> {
  const name = `gaswatch_${++n}`;
  const admin = createDatabase({ kind: 'postgres', url: pg.url }, quietLogger());
  try {
    await sql`create database ${sql.id(name)}`.execute(admin);
  } finally {
    await admin.destroy();
  }
  const u = new URL(pg.url);
  u.pathname = `/${name}`;
  return u.toString();
}

const postgresTarget = (): DbTarget => ({
  async fresh() {
    const url = await freshDatabase();
    const d = tempDir('gaswatch-db-pg-');
    dirs.push(d);
    return { config: { kind: 'postgres', url }, env: { DATABASE_URL: url }, dataDir: d.dir };
  },
});
dbContract('PostgreSQL', postgresTarget);
accessContract('PostgreSQL', postgresTarget);
inspectionsContract('PostgreSQL', postgresTarget);
ledgersContract('PostgreSQL', postgresTarget);
maintenanceContract('PostgreSQL', postgresTarget);
permitsContract('PostgreSQL', postgresTarget);
householdsContract('PostgreSQL', postgresTarget);

describe('PostgreSQL without pg_trgm', () => {
  it('migrates, answers a search by reading the homes, and says so at start', async () => {
    // A database whose user may make tables but not extensions (no CREATE on the database).
    const url = new URL(await freshDatabase());
    const owner = createDatabase({ kind: 'postgres', url: url.toString() }, quietLogger());
    try {
      await sql`create role no_extensions login`.execute(owner);
      await sql`grant create on schema public to no_extensions`.execute(owner);
    } finally {
      await owner.destroy();
    }
    url.username = 'no_extensions';
    const d = tempDir('gaswatch-db-pg-');
    dirs.push(d);
    const { logger, lines } = capturingLogger();
    const server = await startTestServer({ DATABASE_URL: url.toString() }, d.dir, logger);
    try {
      expect(await householdSearchIndexed(server.app.db)).toBe(false);
      expect(lines).toContainEqual(
        expect.objectContaining({ level: 40, msg: expect.stringMatching(/^household search has no index/) }),
      );
      const post = (path: string, body: unknown) =>
        apiFetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect(
        (await post('/api/areas', { id: 'dapu', name: '大埔镇', kind: 'township', parent: null })).status,
      ).toBe(201);
      for (const [id, address] of [
        ['dp-1', '大埔镇柳江村 3 组 12 号'],
        ['dp-2', '大埔镇河西村 1 组 2 号'],
      ])
        expect((await post('/api/households', { id, area: 'dapu', address })).status).toBe(201);
      const found = await getJson<{ households: { id: string }[]; total: number }>(
        `${server.url}/api/households?q=${encodeURIComponent('柳江村 3 组')}`,
      );
      expect([found.body.households.map((h) => h.id), found.body.total]).toEqual([['dp-1'], 1]);
    } finally {
      await server.close();
    }
  }, 60_000);
});
notificationsContract('PostgreSQL', postgresTarget);

describe('PostgreSQL unreachable', () => {
  it('at start is a clear error naming where, never the password', async () => {
    const port = await freePort();
    const url = `postgres://gaswatch:s3cret-pw@127.0.0.1:${port}/gaswatch`;
    const err = await openDatabase({ kind: 'postgres', url }, quietLogger()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect((err as Error).message).toBe(
      `cannot open the database (PostgreSQL 127.0.0.1:${port}/gaswatch): connect ECONNREFUSED 127.0.0.1:${port}`,
    );

    const d = tempDir('gaswatch-db-pg-');
    dirs.push(d);
    const proc = startTsNode(SERVER_MAIN, [], {
      env: { PORT: '0', MQTT_PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: d.dir, DATABASE_URL: url },
    });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toContain(
      `gaswatch-server: could not start: cannot open the database (PostgreSQL 127.0.0.1:${port}/gaswatch)`,
    );
    expect(proc.output()).not.toContain('s3cret-pw');
  }, 60_000);

  it('while alarms change: an acknowledgement is answered stored:false, kept, and stored once it is back', async () => {
    const own = await startPostgres();
    let server = await startTestServer({ DATABASE_URL: own.url });
    const gw = await connectGateway(server, 'gw-pg-down', { clientId: 'gw-pg-down' });
    try {
      await publishState(gw, 'gw-pg-down', 'kitchen-co', deviceState({ site: 'flat-9', pollIntervalS: 10 }));
      // 400 ppm CO over 3 minutes: the real engine raises an alarm and stores it in PostgreSQL.
      const start = Date.now() - 180_000;
      for (let i = 0; i <= 18; i++)
        await publishReading(gw, 'gw-pg-down', 'kitchen-co', reading(i, start + i * 10_000, { CO: 400 }));
      let alarmId = '';
      await waitFor(async () => {
        alarmId = server.app.alarms.list({ state: 'open' })[0]?.id ?? '';
        return alarmId !== '';
      }, 'alarm raised');
      await server.app.alarms.idle();
      // The console has been showing the alarm: its login was checked while the database answered.
      expect((await getJson(`${server.url}/api/alarms/${encodeURIComponent(alarmId)}`)).status).toBe(200);

      await own.pause();
      const res = await apiFetch(`${server.url}/api/alarms/${encodeURIComponent(alarmId)}/ack`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ note: '已开窗' }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ stored: false, alarm: { state: 'acknowledged' } });
      // A login never checked before cannot be checked now: a clear 503, not a 500.
      const stranger = await fetch(`${server.url}/api/alarms`, {
        headers: { authorization: 'Bearer gwt_tok_x_y' },
      });
      expect([stranger.status, ((await stranger.json()) as { error: string }).error]).toEqual([
        503,
        'database_unavailable',
      ]);
      const ready = await getJson<{ reasons: string[] }>(`${server.url}/readyz`);
      expect(ready.body.reasons).toContainEqual(expect.stringMatching(/^database unreachable/));
      expect((await getJson(`${server.url}/api/alarms/${encodeURIComponent(alarmId)}`)).status).toBe(200);

      await own.start();
      await waitFor(
        async () =>
          (await listAlarmEvents(server.app.db, { alarmId })).some(
            (e) => e.data.type === 'acknowledged' && String(e.data.actor).startsWith('tok_'),
          ),
        'acknowledgement stored once PostgreSQL is back',
        20_000,
      );
      // Its audit row waited for the database too, and was not lost.
      await waitFor(
        async () =>
          (await listAudit(server.app.db, { limit: 10, targetKind: 'alarm', targetId: alarmId })).total === 1,
        'the acknowledgement in the audit log',
        20_000,
      );
      await server.app.alarms.idle();
      await gw.endAsync();
      await server.close();

      // A new DATA_DIR: everything it knows of the alarm comes from PostgreSQL.
      server = await startTestServer({ DATABASE_URL: own.url });
      expect(server.app.alarms.get(alarmId)).toMatchObject({
        state: 'acknowledged',
        ack: { actor: expect.stringMatching(/^tok_/), note: '已开窗' },
      });
    } finally {
      await gw.endAsync();
      await server.close();
      await own.stop();
    }
  }, 60_000);

  it('while running: /readyz answers 503 "database unreachable (…)"', async () => {
    const own = await startPostgres();
    const server = await startTestServer({ DATABASE_URL: own.url });
    try {
      expect((await getJson(`${server.url}/readyz`)).status).toBe(200);
      await own.stop();
      const { status, body } = await getJson<{ reasons: string[] }>(`${server.url}/readyz`);
      expect(status).toBe(503);
      expect(body.reasons).toEqual([expect.stringMatching(/^database unreachable \(.+\)$/)]);
    } finally {
      await server.close();
      await own.stop();
    }
  }, 60_000);
});
