/**
 * What an interlock's coil values mean, on /api/events and /api/live: read through the profile of
 * the device's model. In gaswatch-lel a set valve coil means the gas valve is CLOSED; a model with
 * no such output gets no guess.
 */
import { type DeviceEvent, encodePayload, topics } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { deviceState, publishState } from './e2e/browser.js';
import { connectGateway, getJson, liveUrl, openLive, startTestServer, type TestServer } from './helpers.js';

const GW = 'gw-outputs';

interface Row {
  dev: string;
  data: DeviceEvent;
  outputs?: { name: string; value: boolean; position: string | null; alarmPosition: boolean | null }[];
}

describe('interlock outputs', () => {
  let server: TestServer;
  let client: MqttClient;
  let ws: WebSocket;
  let live: { type: string; data: Row }[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    client = await connectGateway(server, GW);
    ({ ws, messages: live } = await openLive<{ type: string; data: Row }>(liveUrl(server.url)));
  });
  afterAll(async () => {
    ws?.close();
    await client?.endAsync();
    await server?.close();
  });

  const interlock = (dev: string, outputs: Record<string, boolean>) =>
    client.publishAsync(
      topics.event(GW, dev),
      encodePayload('event', { v: 1, ts: new Date().toISOString(), type: 'interlock', outputs }),
      { qos: 1 },
    );
  const rowsOf = async (dev: string) =>
    (await getJson<{ events: Row[] }>(`${server.url}/api/events?device=${dev}`)).body.events;

  it('reads a gaswatch-lel valve coil set as "closed" and cleared as "open"', async () => {
    await publishState(client, GW, 'kitchen', deviceState({ model: 'gaswatch-lel', kind: 'combustible' }));
    await waitFor(async () => server.app.devices.get('kitchen')?.state?.model === 'gaswatch-lel', 'state');
    await interlock('kitchen', { sounder: true, valve: true, fan: true });
    await waitFor(async () => (await rowsOf('kitchen')).length === 1, 'the event stored');
    const [row] = await rowsOf('kitchen');
    expect(row?.outputs).toEqual([
      { name: 'sounder', value: true, position: 'on', alarmPosition: true },
      { name: 'valve', value: true, position: 'closed', alarmPosition: true },
      { name: 'fan', value: true, position: 'on', alarmPosition: true },
    ]);
    // The live row is the stored row.
    await waitFor(async () => live.some((m) => m.type === 'deviceEvent' && m.data.dev === 'kitchen'), 'live');
    expect(live.find((m) => m.type === 'deviceEvent' && m.data.dev === 'kitchen')?.data).toEqual(row);

    await interlock('kitchen', { valve: false });
    await waitFor(async () => (await rowsOf('kitchen')).length === 2, 'the second event stored');
    expect((await rowsOf('kitchen'))[0]?.outputs).toEqual([
      { name: 'valve', value: false, position: 'open', alarmPosition: false },
    ]);
  });

  it('gives no meaning for a model without that output', async () => {
    await publishState(client, GW, 'bathroom', deviceState({ model: 'gaswatch-co' }));
    await waitFor(async () => server.app.devices.get('bathroom')?.state?.model === 'gaswatch-co', 'state');
    await interlock('bathroom', { valve: true });
    await waitFor(async () => (await rowsOf('bathroom')).length === 1, 'the event stored');
    expect((await rowsOf('bathroom'))[0]?.outputs).toEqual([
      { name: 'valve', value: true, position: null, alarmPosition: null },
    ]);
  });
});
