/**
 * Backup and restore of the embedded shape (docs/deploy.md "Backups"), through the commands an
 * operator runs: a server with readings, an acknowledged alarm, a user and a gateway login;
 * `gaswatch-server backup DIR` (refused while the server runs); DATA_DIR wiped;
 * `gaswatch-server restore DIR` (refused into a non-empty DATA_DIR or from a damaged backup); a new
 * server on the restored DATA_DIR has every reading, the alarm with its acknowledgement, and the
 * user and gateway can log in with their passwords.
 */
import { appendFileSync, cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startTsNode } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../src/alarms/model.js';
import {
  connectClient,
  connectGateway,
  createUser,
  gatewayLogin,
  login,
  publishReading,
  reading,
  SERVER_MAIN,
  startTestServer,
  type TestServer,
  tempDir,
  waitForCount,
} from '../helpers.js';

const GW = 'gw-backup';
const READINGS = 40;
const tmp = tempDir('gaswatch-backup-test-');
const dataDir = join(tmp.dir, 'data');
const backupDir = join(tmp.dir, 'backup-1');
const t0 = Date.now() - READINGS * 1000;
let before: { alarms: Alarm[]; gatewayPassword: string };

/** `gaswatch-server <args>` on DATA_DIR, as the operator runs it: exit code and output. */
async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const proc = startTsNode(SERVER_MAIN, args, { env: { DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env } });
  const code = await proc.exited;
  return { code, output: proc.output() };
}

async function allReadings(server: TestServer, dev: string): Promise<Array<{ ts: number; CO: unknown }>> {
  const rows = await server.app.store.queryReadings({ dev, from: 0, to: Date.now() + 60_000 });
  return rows.map((r) => ({ ts: r.ts, CO: (r as { values: Record<string, unknown> }).values.CO }));
}

beforeAll(async () => {
  const server = await startTestServer({}, dataDir);
  try {
    await createUser(server.app.db, {
      username: 'duty-wang',
      role: 'operator',
      password: 'night-shift-2026',
    });
    const gateway = await connectGateway(server, GW);
    for (let i = 0; i < READINGS; i++)
      await publishReading(gateway, GW, 'co-1', reading(i + 1, t0 + i * 1000, { CO: 10 + i }));
    await publishReading(gateway, GW, 'co-2', { ...reading(1, Date.now(), { CO: 150 }), alarm: true });
    await waitForCount(async () => server.app.store.countReadings('co-1'), READINGS, 'readings stored');
    await waitForCount(async () => server.app.alarms.list({ dev: 'co-2' }).length, 1, 'the alarm');
    const id = server.app.alarms.list({ dev: 'co-2' })[0]?.id ?? '';
    const duty = await login(server.url, 'duty-wang', 'night-shift-2026');
    const ack = await duty.fetch(`${server.url}/api/alarms/${id}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ note: '已电话确认' }),
    });
    expect(ack.status).toBe(200);
    await server.app.alarms.idle();
    await gateway.endAsync();
    before = {
      alarms: server.app.alarms.list({}),
      gatewayPassword: (await gatewayLogin(server, GW)).password,
    };
    expect(before.alarms.map((a) => a.state)).toEqual(['acknowledged']);
    expect(await allReadings(server, 'co-1')).toHaveLength(READINGS);

    // While the server runs, its embedded store is locked: the backup says to stop it first.
    const running = await cli(['backup', join(tmp.dir, 'while-running')]);
    expect(running.code).toBe(1);
    expect(running.output).toMatch(/embedded store .* is in use: stop the server first .*\(server_running\)/);
  } finally {
    await server.close();
  }
}, 90_000);

afterAll(() => tmp.remove());

describe('gaswatch-server backup and restore (embedded store, SQLite)', () => {
  it('backs DATA_DIR up with a manifest of every file, the SQLite records through its backup API', async () => {
    const r = await cli(['backup', backupDir]);
    expect(r.output).toMatch(new RegExp(`backed up ${dataDir} into ${backupDir}: \\d+ files, \\d+ bytes`));
    expect(r.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(backupDir, 'gaswatch-backup.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 1, database: 'sqlite', store: 'embedded', dataDir });
    const paths = manifest.files.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['gaswatch.db', 'devices.json']));
    expect(paths.some((p: string) => p.startsWith('store/'))).toBe(true);
    // SQLite's WAL is folded into the copy, never copied beside it.
    expect(paths.filter((p: string) => p.startsWith('gaswatch.db-'))).toEqual([]);
    // A second backup into the same directory would mix two: refused.
    const again = await cli(['backup', backupDir]);
    expect(again.code).toBe(1);
    expect(again.output).toMatch(/backup_dir_not_empty/);
  });

  it('restores only into an empty DATA_DIR, and not from a damaged backup', async () => {
    // DATA_DIR still holds the server's state: never overwritten.
    const over = await cli(['restore', backupDir]);
    expect(over.code).toBe(1);
    expect(over.output).toMatch(/DATA_DIR .* is not empty.*\(data_dir_not_empty\)/);

    const damaged = join(tmp.dir, 'backup-damaged');
    cpSync(backupDir, damaged, { recursive: true });
    appendFileSync(join(damaged, 'devices.json'), ' ');
    rmSync(dataDir, { recursive: true });
    const bad = await cli(['restore', damaged]);
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(
      /devices\.json in the backup is not the file that was backed up.*\(backup_damaged\)/,
    );
    // Nothing was written.
    expect(readdirSync(tmp.dir)).not.toContain('data');
  });

  it('brings back every reading, the alarm with its acknowledgement, the user and the gateway login', async () => {
    const r = await cli(['restore', backupDir]);
    expect(r.output).toMatch(/restored \d+ files of the backup of .* into .*\nstart the server now/);
    expect(r.code).toBe(0);
    const server = await startTestServer({}, dataDir);
    try {
      const readings = await allReadings(server, 'co-1');
      expect(readings).toEqual(
        Array.from({ length: READINGS }, (_, i) => ({ ts: t0 + i * 1000, CO: 10 + i })),
      );
      await waitForCount(async () => (server.app.alarms.ready() ? 1 : 0), 1, 'alarm state rebuilt');
      const alarms = server.app.alarms.list({});
      expect(alarms).toEqual(before.alarms);
      expect(alarms[0]?.ack).toMatchObject({ actor: 'duty-wang', note: '已电话确认' });
      // The operator logs in with the password of before the backup.
      const duty = await login(server.url, 'duty-wang', 'night-shift-2026');
      const res = await duty.fetch(`${server.url}/api/session`);
      expect(await res.json()).toMatchObject({ user: { username: 'duty-wang', role: 'operator' } });
      // And so does the gateway, at the restored server's broker.
      const client = await connectClient(server.mqttUrl, {
        username: GW,
        password: before.gatewayPassword,
        reconnectPeriod: 0,
      });
      expect(client.connected).toBe(true);
      await client.endAsync();
    } finally {
      await server.close();
    }
  });
});
