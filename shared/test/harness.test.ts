import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startInfluxd, startMosquitto, startPtyPair } from '../src/testing/index.js';

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
