import { execFile } from 'node:child_process';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  POSTGRES_BIN,
  portOpen,
  startInfluxd,
  startMosquitto,
  startPostgres,
  startPtyPair,
} from '../src/testing/index.js';

describe('test harness', () => {
  const stops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
  });

  it('starts a private influxd that answers queries', async () => {
    const influx = await startInfluxd();
    stops.push(() => influx.stop());
    const res = await fetch(`${influx.url}/query?q=${encodeURIComponent('SHOW DATABASES')}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty('results');
  });

  it('starts a private mosquitto', async () => {
    const m = await startMosquitto();
    stops.push(() => m.stop());
    expect(m.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
  });

  it('starts a private PostgreSQL that answers queries, pauses and starts again, and is gone after stop', async () => {
    const pg = await startPostgres();
    stops.push(() => pg.stop());
    const { stdout } = await promisify(execFile)(join(POSTGRES_BIN, 'psql'), [
      pg.url,
      '-tAc',
      'select current_user, version()',
    ]);
    expect(stdout).toMatch(/^gaswatch\|PostgreSQL 15\./);
    // Paused for an outage and back, on the same port, with its data.
    const psql = (sql: string) => promisify(execFile)(join(POSTGRES_BIN, 'psql'), [pg.url, '-tAc', sql]);
    await psql('create table kept (x int); insert into kept values (7)');
    await pg.pause();
    expect(await portOpen(pg.port)).toBe(false);
    await pg.start();
    expect((await psql('select x from kept')).stdout.trim()).toBe('7');
    await pg.stop();
    expect(await portOpen(pg.port)).toBe(false);
  });

  it('says which package to install when PostgreSQL is missing', async () => {
    await expect(startPostgres({ bin: '/nonexistent/postgresql/bin' })).rejects.toThrow(
      'PostgreSQL 15 not found (/nonexistent/postgresql/bin/initdb): install the Debian package `postgresql`',
    );
  });

  it('links two ptys', async () => {
    const pair = await startPtyPair();
    stops.push(() => pair.stop());
    const fa = openSync(pair.a, 'r+');
    const fb = openSync(pair.b, 'r+');
    writeSync(fa, Buffer.from('hello'));
    await new Promise((r) => setTimeout(r, 100));
    const buf = Buffer.alloc(16);
    const n = readSync(fb, buf);
    expect(buf.subarray(0, n).toString()).toBe('hello');
    closeSync(fa);
    closeSync(fb);
  });
});
