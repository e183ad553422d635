import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../src/alarms/model.js';
import { buildServer } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createEmbeddedStore } from '../src/store/embedded.js';
import type { ReadingQuery, Store } from '../src/store/types.js';
import {
  connectGateway,
  getJson,
  metric,
  publishReading,
  quietLogger,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
  waitForCount,
} from './helpers.js';

const data = tempDir();
let server: TestServer | undefined;
let gw: MqttClient | undefined;
afterAll(async () => {
  await gw?.endAsync(true);
  await server?.close();
  data.remove();
});

describe('de-duplication across a server restart', () => {
  it('does not announce again readings stored before the restart when a gateway replays them', async () => {
    const t0 = Date.now() - 600_000;
    server = await startTestServer({}, data.dir);
    gw = await connectGateway(server, 'gw-d', { clientId: 'gw-dedup-1' });
    for (let i = 0; i < 20; i++) await publishReading(gw, 'gw-d', 'co-d', reading(i, t0 + i * 1_000));
    await waitForCount(
      () => server?.app.store.countReadings('co-d') ?? Promise.resolve(0),
      20,
      'first 20 stored',
    );
    await gw.endAsync();
    await server.close();

    server = await startTestServer({}, data.dir);
    // The registry came back from DATA_DIR before the device spoke again.
    const { status, body } = await getJson<{ lastReading: { seq: number } }>(
      `${server.url}/api/devices/co-d`,
    );
    expect(status).toBe(200);
    expect(body.lastReading.seq).toBe(19);
    const announced: number[] = [];
    server.app.bus.on('reading', (e) => {
      if (e.dev === 'co-d') announced.push(e.reading.seq);
    });
    gw = await connectGateway(server, 'gw-d', { clientId: 'gw-dedup-2' });
    // the outbox replays 10..19 (already stored) and continues with 20..24
    for (let i = 10; i < 25; i++) await publishReading(gw, 'gw-d', 'co-d', reading(i, t0 + i * 1_000));
    await waitForCount(
      () => server?.app.store.countReadings('co-d') ?? Promise.resolve(0),
      25,
      'all 25 stored',
    );
    expect(announced).toEqual([20, 21, 22, 23, 24]);
    expect(await metric(server.url, 'gaswatch_ingest_duplicates_total')).toBe(10);
    expect(await server.app.store.countReadings('co-d')).toBe(25);
  });

  it('a reading the broker redelivers late after the restart opens no gap over seqs stored before it', async () => {
    const t0 = Date.now() - 300_000;
    const dir = tempDir();
    let s = await startTestServer({}, dir.dir);
    let c = await connectGateway(s, 'gw-l', { clientId: 'gw-late-1' });
    try {
      // Seq 6 is still at the broker when the server dies (Mosquitto can hand over messages out
      // of order); 0..5 and 7..9 are stored.
      for (const i of [0, 1, 2, 3, 4, 5, 7, 8, 9])
        await publishReading(c, 'gw-l', 'co-late', reading(i, t0 + i * 1_000));
      await waitForCount(() => s.app.store.countReadings('co-late'), 9, '9 stored');
      await c.endAsync();
      await s.close();

      s = await startTestServer({}, dir.dir);
      c = await connectGateway(s, 'gw-l', { clientId: 'gw-late-2' });
      // The first reading this server sees is 6, then 8 is redelivered (a duplicate), then 10.
      for (const i of [6, 8, 10]) await publishReading(c, 'gw-l', 'co-late', reading(i, t0 + i * 1_000));
      await waitForCount(() => s.app.store.countReadings('co-late'), 11, 'all 11 stored');
      const { body } = await getJson<{ seqGaps: number; seqResets: number }>(`${s.url}/api/devices/co-late`);
      expect(body).toMatchObject({ seqGaps: 0, seqResets: 0 });
      // A real gap after that is still counted.
      await publishReading(c, 'gw-l', 'co-late', reading(13, t0 + 13 * 1_000));
      await waitForCount(() => s.app.store.countReadings('co-late'), 12, '12 stored');
      expect((await getJson<{ seqGaps: number }>(`${s.url}/api/devices/co-late`)).body.seqGaps).toBe(2);
    } finally {
      await c.endAsync(true);
      await s.close();
      dir.remove();
    }
  });

  it("reads a device's stored readings once after a restart: de-duplication and the alarm rules share the lookup", async () => {
    const MIN = 60_000;
    const dir = tempDir();
    const file = join(dir.dir, 'gaswatch.json');
    writeFileSync(file, JSON.stringify({ defaults: { coStandard: 'ul2034' } }));
    const env = { GASWATCH_CONFIG: file };
    const dataDir = join(dir.dir, 'data');
    // 150 ppm CO every 10 s from an hour ago (an outbox replay): 20 min before the restart, 40 after.
    const base = Date.now() - 60 * MIN;
    let first: TestServer | undefined = await startTestServer(env, dataDir);
    let c = await connectGateway(first, 'gw-o', { clientId: 'gw-once-1' });
    let app: Awaited<ReturnType<typeof buildServer>> | undefined;
    try {
      for (let i = 0; i < 120; i++)
        await publishReading(c, 'gw-o', 'co-once', reading(i, base + i * 10_000, { CO: 150 }));
      await waitForCount(
        () => first?.app.store.countReadings('co-once') ?? Promise.resolve(0),
        120,
        '120 stored',
      );
      await c.endAsync();
      await first.close();
      first = undefined;

      // The same store, counting the lookups it is asked for.
      const store = createEmbeddedStore({ dir: join(dataDir, 'store'), logger: quietLogger() });
      const lookups: ReadingQuery[] = [];
      const counting = new Proxy(store, {
        get(target, key) {
          if (key === 'queryReadings')
            return (q: ReadingQuery) => {
              lookups.push(q);
              return target.queryReadings(q);
            };
          const v = Reflect.get(target, key) as unknown;
          return typeof v === 'function' ? v.bind(target) : v;
        },
      }) as Store;
      const config = loadConfig({
        PORT: '0',
        MQTT_PORT: '0',
        DATA_DIR: dataDir,
        STORE_FLUSH_MS: '20',
        ...env,
      });
      app = await buildServer({ config, logger: quietLogger(), store: counting });
      await app.listen({ port: 0, host: '127.0.0.1' });
      c = await connectGateway({ app, mqttUrl: app.mqttUrl }, 'gw-o', { clientId: 'gw-once-2' });
      for (let i = 120; i < 360; i++)
        await publishReading(c, 'gw-o', 'co-once', reading(i, base + i * 10_000, { CO: 150 }));
      const s = app;
      await waitForCount(() => s.store.countReadings('co-once'), 360, 'all 360 stored');
      await app.alarms.idle();

      expect(lookups.filter((q) => q.dev === 'co-once')).toHaveLength(1);
      // The rules still started from the 20 min stored before the restart: UL 2034 at 150 ppm
      // raises at 90·ln(150/105) = 32.1 min from a clean start, not 20 + 32 min.
      const alarms = app.alarms.list({ dev: 'co-once' });
      expect(alarms.map((a: Alarm) => a.key)).toEqual(['CO:dose']);
      expect(((alarms[0] as Alarm).raisedAt - base) / MIN).toBeCloseTo(32.2, 0);
    } finally {
      await c.endAsync(true);
      await first?.close();
      await app?.close();
      dir.remove();
    }
  });
});
