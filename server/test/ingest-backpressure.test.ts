// Back-pressure through an external broker: while the store is down and the journal is full, the
// server holds the PUBACKs of what it cannot buffer (Mosquitto keeps those messages queued) and
// retries them; once the store is back every reading is stored exactly once.
import {
  type Influxd,
  type Mosquitto,
  startInfluxd,
  startMosquitto,
  waitFor,
} from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  metric,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  waitForCount,
} from './helpers.js';

const BUFFER_MAX = 40;

let influxd: Influxd;
let mosquitto: Mosquitto;
let server: TestServer;
let gw: MqttClient;
beforeAll(async () => {
  influxd = await startInfluxd();
  mosquitto = await startMosquitto();
  server = await startTestServer({
    MQTT_URL: mosquitto.url,
    MQTT_CLIENT_ID: 'server-backpressure',
    INFLUX_URL: influxd.url,
    INFLUX_DB: 'backpressure',
    INGEST_BUFFER_MAX: String(BUFFER_MAX),
  });
  gw = await connectClient(mosquitto.url, { clientId: 'gw-backpressure' });
});
afterAll(async () => {
  await gw?.endAsync();
  await server?.close();
  await mosquitto?.stop();
  await influxd?.stop();
});

describe('journal full while the store is down (external broker)', () => {
  it('holds what it cannot buffer, then stores every reading exactly once', async () => {
    const t0 = Date.now() - 60_000;
    const count = () => server.app.store.countReadings('co-bp');
    for (let i = 0; i < 10; i++) await publishReading(gw, 'gw-1', 'co-bp', reading(i, t0 + i * 100));
    await waitForCount(count, 10, 'first readings stored');

    await influxd.pause();
    // Mosquitto acknowledges the gateway; the server can take only BUFFER_MAX into its journal.
    for (let i = 10; i < 150; i++) await publishReading(gw, 'gw-1', 'co-bp', reading(i, t0 + i * 100));
    await waitFor(
      async () => (await metric(server.url, 'gaswatch_ingest_rejects_total{reason="buffer_full"}')) > 0,
      'the journal refuses readings beyond its cap',
      20_000,
      100,
    );
    expect(await metric(server.url, 'gaswatch_ingest_buffered_readings')).toBeLessThanOrEqual(BUFFER_MAX);

    await influxd.start();
    await waitForCount(count, 150, 'every reading stored after the store came back', 60_000);
    expect(await count()).toBe(150);
    await waitFor(
      async () => (await metric(server.url, 'gaswatch_ingest_buffered_readings')) === 0,
      'journal drained',
      20_000,
      100,
    );
  });
});
