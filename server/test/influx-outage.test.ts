import { type Influxd, startInfluxd, waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../src/alarms/model.js';
import { ALARM_EVENTS_SOURCE, findLegacyImport } from '../src/db/legacy-import.js';
import { createInfluxStore } from '../src/store/influx.js';
import type { ReadingRow } from '../src/store/types.js';
import { lifeOf, T0 } from './alarm-fixtures.js';
import {
  apiFetch,
  connectGateway,
  getJson,
  publishReading,
  quietLogger,
  reading,
  startTestServer,
  type TestServer,
  waitForCount,
} from './helpers.js';

let influxd: Influxd;
let server: TestServer;
let gw: MqttClient;
beforeAll(async () => {
  influxd = await startInfluxd();
  server = await startTestServer({ INFLUX_URL: influxd.url, INFLUX_DB: 'outage' });
  gw = await connectGateway(server, 'gw-1', { clientId: 'gw-outage' });
});
afterAll(async () => {
  await gw?.endAsync();
  await server?.close();
  await influxd?.stop();
});

describe('InfluxDB down for a while', () => {
  it('acknowledges readings into the journal, reports why it is not ready, then drains every reading once', async () => {
    const t0 = Date.now() - 60_000;
    const count = () => server.app.store.countReadings('co-out');
    for (let i = 0; i < 50; i++) await publishReading(gw, 'gw-1', 'co-out', reading(i, t0 + i * 100));
    await waitForCount(count, 50, 'first 50 in influx');

    await influxd.pause();
    // Every one of these is PUBACKed by the broker (publishAsync resolves) while InfluxDB is down.
    for (let i = 50; i < 250; i++) await publishReading(gw, 'gw-1', 'co-out', reading(i, t0 + i * 100));
    let ready: { status: number; body: { ready: boolean; reasons: string[]; buffered: number } } | undefined;
    await waitFor(async () => {
      ready = await getJson(`${server.url}/readyz`);
      return ready.status === 503 && ready.body.buffered === 200;
    }, '/readyz 503 with 200 buffered');
    expect(ready?.body.ready).toBe(false);
    expect(ready?.body.reasons.join()).toMatch(/store unreachable, 200 readings buffered/);
    // Queries cannot be answered meanwhile: a clear 503, not a stack or a hang.
    const q = await getJson<{ error: string }>(`${server.url}/api/readings?device=co-out`);
    // ... and says so in words, without the store's host, port or response (they are logged).
    expect(q).toMatchObject({
      status: 503,
      body: { error: 'store_unavailable', message: 'the store is unreachable; try again shortly' },
    });
    // A replay of already-buffered readings during the outage is still stored once.
    for (let i = 240; i < 250; i++) await publishReading(gw, 'gw-1', 'co-out', reading(i, t0 + i * 100));

    await influxd.start();
    await waitForCount(count, 250, 'all 250 in influx after it came back', 30_000);
    await waitFor(
      async () => (await getJson(`${server.url}/readyz`)).status === 200,
      '/readyz 200 again',
      15_000,
    );
    expect(await count()).toBe(250);
    const rows = (await server.app.store.queryReadings({
      dev: 'co-out',
      from: t0,
      to: t0 + 60_000,
      limit: 1_000,
    })) as ReadingRow[];
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });
});

describe('server started while InfluxDB is down', () => {
  it('is not ready, nor are its alarms, until the alarm events kept in InfluxDB are imported into SQL', async () => {
    const down = await startInfluxd();
    // What the version before SQL left in InfluxDB: an alarm raised, acknowledged and cleared.
    const legacy = createInfluxStore({ url: down.url, database: 'late', logger: quietLogger() });
    await legacy.start();
    await legacy.appendAlarmEvents(lifeOf('kitchen.CO-dose.1', T0));
    await legacy.stop();
    await down.pause();
    const late = await startTestServer({ INFLUX_URL: down.url, INFLUX_DB: 'late' });
    try {
      const r = await getJson<{ reasons: string[] }>(`${late.url}/readyz`);
      expect(r.status).toBe(503);
      expect(r.body.reasons).toContain(
        'alarm state not rebuilt from the database yet: readings are not evaluated for alarms',
      );
      // Not an empty list that would read as "no alarms", nor a shift report of none.
      for (const path of ['/api/alarms', '/api/shifts/current', '/api/reports/response-times'])
        expect(await getJson(`${late.url}${path}`), path).toMatchObject({
          status: 503,
          body: { error: 'alarms_loading' },
        });
      const handover = await apiFetch(`${late.url}/api/shifts/handover`, { method: 'POST' });
      expect([handover.status, ((await handover.json()) as { error: string }).error]).toEqual([
        503,
        'alarms_loading',
      ]);
      expect(await findLegacyImport(late.app.db, ALARM_EVENTS_SOURCE)).toBeUndefined();

      await down.start();
      await waitFor(
        async () => (await getJson(`${late.url}/readyz`)).status === 200,
        '/readyz 200 once the alarm state is loaded',
        30_000,
      );
      expect(late.app.alarms.ready()).toBe(true);
      expect(await findLegacyImport(late.app.db, ALARM_EVENTS_SOURCE)).toMatchObject({ events: 3 });
      const { body } = await getJson<{ alarm: Alarm; events: Array<{ type: string }> }>(
        `${late.url}/api/alarms/kitchen.CO-dose.1`,
      );
      expect(body.alarm).toMatchObject({ state: 'cleared', ack: { actor: 'lin', note: 'window opened' } });
      expect(body.events.map((e) => e.type)).toEqual(['raised', 'acknowledged', 'cleared']);
    } finally {
      await late.close();
      await down.stop();
    }
  });
});
