import { type Influxd, type Mosquitto, startInfluxd, startMosquitto } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMessages, publishAll } from '../bench/common.js';
import { startTestServer, type TestServer, waitForCount } from './helpers.js';

/**
 * The bus contract: 'reading' events come in per-device order. Under load, with the first reading
 * of every device waiting for a store lookup, an earlier version of the pipelined Mosquitto client
 * announced a few readings out of order; this is the regression test for it.
 */
let influxd: Influxd;
let mosquitto: Mosquitto;
let server: TestServer;
beforeAll(async () => {
  influxd = await startInfluxd();
  mosquitto = await startMosquitto();
  server = await startTestServer({
    MQTT_URL: mosquitto.url,
    INFLUX_URL: influxd.url,
    MQTT_CLIENT_ID: 'gaswatch-order',
  });
});
afterAll(async () => {
  await server?.close();
  await mosquitto?.stop();
  await influxd?.stop();
});

describe('per-device order of bus events under load (Mosquitto + InfluxDB)', () => {
  it('announces 30 000 readings from 32 devices each in sampling order', async () => {
    const last = new Map<string, number>();
    const inversions: string[] = [];
    let n = 0;
    server.app.bus.on('reading', (e) => {
      n++;
      const prev = last.get(e.dev) ?? Number.NEGATIVE_INFINITY;
      if (e.ts <= prev) inversions.push(`${e.dev} seq ${e.reading.seq}`);
      last.set(e.dev, e.ts);
    });
    await publishAll(mosquitto.url, makeMessages(30_000, 32, 'order'), 4, 100, 'order');
    await waitForCount(async () => n, 30_000, 'every reading announced', 60_000);
    expect(inversions).toEqual([]);
    expect(n).toBe(30_000);
  });
});
