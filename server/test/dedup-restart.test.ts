import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  getJson,
  metric,
  publishReading,
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
    gw = await connectClient(server.mqttUrl, { clientId: 'gw-dedup-1' });
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
    gw = await connectClient(server.mqttUrl, { clientId: 'gw-dedup-2' });
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
});
