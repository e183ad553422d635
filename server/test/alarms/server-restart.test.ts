import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePayload, topics } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alarm } from '../../src/alarms/model.js';
import {
  connectGateway,
  getJson,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from '../helpers.js';

const GW = 'gw-r';
const DEV = 'hall-co';
const MIN = 60_000;

async function publishState(c: MqttClient) {
  await c.publishAsync(
    topics.state(GW, DEV),
    encodePayload('state', {
      v: 1,
      ts: new Date().toISOString(),
      online: true,
      model: 'gaswatch-co',
      kind: 'household-co',
      site: 'flat-7',
      location: 'hall',
      lastError: null,
      pollIntervalS: 10,
    }),
    { qos: 1, retain: true },
  );
}

describe('server restarts mid-exposure (buildServer over the same DATA_DIR)', () => {
  const tmp = tempDir('gw-alarms-restart-');
  let server: TestServer | undefined;
  let gateway: MqttClient | undefined;
  afterEach(async () => {
    await gateway?.endAsync();
    await server?.close();
    tmp.remove();
  });

  it('keeps the dose across the restart and raises exactly one alarm, which survives the next restart', async () => {
    const file = join(tmp.dir, 'gaswatch.json');
    writeFileSync(file, JSON.stringify({ sites: { 'flat-7': { coStandard: 'ul2034' } } }));
    const env = { GASWATCH_CONFIG: file };
    const dataDir = join(tmp.dir, 'data');
    // 150 ppm sampled every 10 s over the last hour (replayed from an outbox: late, event time).
    const base = Date.now() - 60 * MIN;
    const count = async () => (server ? server.app.store.countReadings(DEV) : 0);

    server = await startTestServer(env, dataDir);
    gateway = await connectGateway(server, GW, { clientId: GW });
    await publishState(gateway);
    for (let i = 0; i < 120; i++)
      await publishReading(gateway, GW, DEV, reading(i, base + i * 10_000, { CO: 150 }));
    await waitFor(async () => (await count()) === 120, 'first 20 min stored');
    expect((await getJson<{ alarms: Alarm[] }>(`${server.url}/api/alarms`)).body.alarms).toEqual([]);
    await gateway.endAsync();
    await server.close();

    server = await startTestServer(env, dataDir);
    gateway = await connectGateway(server, GW, { clientId: GW });
    await publishState(gateway);
    for (let i = 120; i < 360; i++)
      await publishReading(gateway, GW, DEV, reading(i, base + i * 10_000, { CO: 150 }));
    await waitFor(async () => (await count()) === 360, 'all 60 min stored');
    await server.app.alarms.idle();
    const { alarms } = (await getJson<{ alarms: Alarm[] }>(`${server.url}/api/alarms`)).body;
    expect(alarms).toHaveLength(1);
    const [alarm] = alarms as [Alarm];
    // UL 2034 at 150 ppm from a clean start: 90·ln(150/105) = 32.1 min — not 20 + 32 min.
    expect((alarm.raisedAt - base) / MIN).toBeCloseTo(32.2, 0);
    expect(alarm).toMatchObject({ key: 'CO:dose', profile: 'ul2034', state: 'active', late: true });
    await gateway.endAsync();
    await server.close();

    server = await startTestServer(env, dataDir);
    const after = (await getJson<{ alarms: Alarm[] }>(`${server.url}/api/alarms?state=open`)).body.alarms;
    expect(after.map((a) => [a.id, a.state])).toEqual([[alarm.id, 'active']]);
  });
});
