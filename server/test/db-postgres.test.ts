import { freePort, type Postgres, startPostgres, startTsNode } from '@gaswatch/shared/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, openDatabase } from '../src/db/database.js';
import { DatabaseUnavailableError } from '../src/db/errors.js';
import { accessContract } from './db-access-contract.js';
import { type DbTarget, dbContract } from './db-contract.js';
import { getJson, quietLogger, SERVER_MAIN, startTestServer, tempDir } from './helpers.js';

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
