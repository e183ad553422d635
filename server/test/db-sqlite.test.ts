import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTsNode } from '@gaswatch/shared/testing';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { accessContract } from './db-access-contract.js';
import { type DbTarget, dbContract } from './db-contract.js';
import { householdsContract } from './db-households-contract.js';
import { inspectionsContract } from './db-inspections-contract.js';
import { ledgersContract } from './db-ledgers-contract.js';
import { maintenanceContract } from './db-maintenance-contract.js';
import { notificationsContract } from './db-notifications-contract.js';
import { permitsContract } from './db-permits-contract.js';
import { SERVER_MAIN, startTestServer, tempDir } from './helpers.js';

const dirs: Array<{ remove(): void }> = [];
afterAll(() => {
  for (const d of dirs) d.remove();
});
function freshDir(): string {
  const d = tempDir('gaswatch-db-sqlite-');
  dirs.push(d);
  return d.dir;
}

const sqliteTarget = (): DbTarget => ({
  async fresh() {
    const dataDir = freshDir();
    return { config: { kind: 'sqlite', file: join(dataDir, 'gaswatch.db') }, env: {}, dataDir };
  },
});
dbContract('SQLite', sqliteTarget);
accessContract('SQLite', sqliteTarget);
inspectionsContract('SQLite', sqliteTarget);
ledgersContract('SQLite', sqliteTarget);
householdsContract('SQLite', sqliteTarget);
maintenanceContract('SQLite', sqliteTarget);
permitsContract('SQLite', sqliteTarget);
notificationsContract('SQLite', sqliteTarget);

describe('SQLite file', () => {
  it('lives in DATA_DIR/gaswatch.db, in WAL mode with foreign keys enforced', async () => {
    const dataDir = freshDir();
    const server = await startTestServer({}, dataDir);
    try {
      const file = join(dataDir, 'gaswatch.db');
      expect(existsSync(file)).toBe(true);
      // WAL: the console's reads never wait for the engine's writes.
      expect(existsSync(`${file}-wal`)).toBe(true);
      // An event of an alarm that has no row is refused by the database itself.
      await expect(
        server.app.db
          .insertInto('alarm_events')
          .values({
            id: 'ghost#1',
            alarm_id: 'ghost',
            seq: 1,
            ts: 0,
            type: 'raised',
            actor: null,
            data: '{}',
          })
          .execute(),
      ).rejects.toThrow(/FOREIGN KEY/);
    } finally {
      await server.close();
    }
  });

  it('a migration that fails at start stops the server with exit 1, naming it and the cause, schema untouched', async () => {
    const dataDir = freshDir();
    // A table in the way of 0001-alarms' second table: its first (alarms) would succeed alone.
    const file = join(dataDir, 'gaswatch.db');
    const sqlite = new SQLite(file);
    sqlite.exec('create table alarm_events (x text)');
    sqlite.close();

    const proc = startTsNode(SERVER_MAIN, [], {
      env: { PORT: '0', MQTT_PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: dataDir },
    });
    const code = await proc.exited;
    expect(code).toBe(1);
    expect(proc.output()).toMatch(
      /gaswatch-server: could not start: database migration 0001-alarms failed, nothing was applied \(rolled back\): .*"alarm_events" already exists/,
    );
    expect(proc.output()).not.toMatch(/at .*\.ts:\d+/);

    const after = new SQLite(file, { readonly: true });
    const names = after
      .prepare("select name from sqlite_master where type = 'table' and name not like 'kysely_%'")
      .all()
      .map((r) => (r as { name: string }).name);
    after.close();
    expect(names).toEqual(['alarm_events']);
  }, 60_000);
});
