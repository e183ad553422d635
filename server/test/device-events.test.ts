/**
 * Gateway events and command results through the real path: MQTT (embedded aedes) → ingest → bus
 * → store (embedded, and InfluxDB going away and coming back) → GET /api/events and /api/live.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CommandResult, type DeviceEvent, encodePayload, topics } from '@gaswatch/shared';
import { type Influxd, startInfluxd, waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import {
  connectGateway,
  getJson,
  liveUrl,
  metric,
  openLive,
  startTestServer,
  type TestServer,
} from './helpers.js';

const GW = 'gw-events';
const T0 = Date.parse('2026-11-23T18:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1_000).toISOString();

interface EventView {
  id: string;
  kind: 'event' | 'command_result';
  gw: string;
  dev: string | null;
  ts: string;
  receivedAt: string;
  data: Record<string, unknown>;
}

const publishEvent = (c: MqttClient, dev: string, e: DeviceEvent) =>
  c.publishAsync(topics.event(GW, dev), encodePayload('event', e), { qos: 1 });
const publishResult = (c: MqttClient, r: CommandResult) =>
  c.publishAsync(topics.cmdResult(GW), encodePayload('cmdResult', r), { qos: 1 });

describe('GET /api/events and /api/live (embedded store)', () => {
  let server: TestServer;
  let client: MqttClient;
  let ws: WebSocket;
  let live: { type: string; data: EventView }[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    client = await connectGateway(server, GW);
    ({ ws, messages: live } = await openLive<{ type: string; data: EventView }>(liveUrl(server.url)));
  });
  afterAll(async () => {
    ws?.close();
    await client?.endAsync();
    await server?.close();
  });

  const list = async (qs = '') =>
    (await getJson<{ events: EventView[] }>(`${server.url}/api/events${qs ? `?${qs}` : ''}`)).body.events;

  it('stores interlock actions, faults, bump tests and command results; lists them newest first and forwards them live', async () => {
    const valve: DeviceEvent = {
      v: 1,
      ts: at(2),
      type: 'interlock',
      severity: 'critical',
      outputs: { valve: false, fan: true },
      message: 'CO 400 ppm',
    };
    await publishEvent(client, 'kitchen', valve);
    await publishEvent(client, 'kitchen', valve); // delivered twice: stored once
    await publishEvent(client, 'hall', {
      v: 1,
      ts: at(1),
      type: 'fault',
      severity: 'warning',
      message: 'sensor_eol',
    });
    await publishEvent(client, 'kitchen', {
      v: 1,
      ts: at(3),
      type: 'bump_test',
      result: 'pass',
      gas: 'CO',
      value: 210,
    });
    await publishResult(client, { v: 1, id: 'cmd-1', ok: true, ts: at(4), message: 'silenced 1 device' });

    await waitFor(async () => (await list()).length === 4, 'four events stored', 10_000);
    const all = await list();
    expect(all.map((e) => [e.kind, e.dev, e.ts])).toEqual([
      ['command_result', null, at(4)],
      ['event', 'kitchen', at(3)],
      ['event', 'kitchen', at(2)],
      ['event', 'hall', at(1)],
    ]);
    expect(all[2]).toMatchObject({ gw: GW, data: valve });
    expect(all[0]?.data).toEqual({ v: 1, id: 'cmd-1', ok: true, ts: at(4), message: 'silenced 1 device' });
    // In the store itself, not only in memory (the API also shows what is still being written).
    await waitFor(
      async () => (await server.app.store.listDeviceEvents({ dev: 'kitchen' })).length === 2,
      'the kitchen events in the store',
      10_000,
    );

    expect((await list('device=kitchen')).map((e) => e.data.type)).toEqual(['bump_test', 'interlock']);
    expect((await list('device=kitchen&limit=1')).map((e) => e.data.type)).toEqual(['bump_test']);
    expect((await list(`gateway=${GW}&from=${at(1.5)}&to=${at(4)}`)).map((e) => e.ts)).toEqual([
      at(3),
      at(2),
    ]);
    expect(await list('gateway=gw-other')).toEqual([]);
    // Paged with a cursor, newest first: every event once, then no cursor.
    type EventsPage = { events: EventView[]; nextCursor: string | null };
    const p1 = (await getJson<EventsPage>(`${server.url}/api/events?limit=3`)).body;
    expect(p1.events.map((e) => e.ts)).toEqual([at(4), at(3), at(2)]);
    expect(p1.nextCursor).toBe(at(2));
    const p2 = (await getJson<EventsPage>(`${server.url}/api/events?limit=3&cursor=${p1.nextCursor}`)).body;
    expect(p2).toMatchObject({ events: [{ ts: at(1), dev: 'hall' }], nextCursor: null });

    // Live: the same rows, as they arrived (the duplicate is a second live message, not a second row).
    await waitFor(
      () => live.filter((m) => m.type === 'deviceEvent').length >= 4,
      'live device events',
      5_000,
    );
    await waitFor(() => live.some((m) => m.type === 'commandResult'), 'live command result', 5_000);
    const liveValve = live.find((m) => m.type === 'deviceEvent' && m.data.data.type === 'interlock');
    // receivedAt is that delivery's own (the stored row has the later one of the two deliveries).
    const { receivedAt: _r1, ...storedValve } = all[2] as EventView;
    expect(liveValve?.data).toEqual({ ...storedValve, receivedAt: expect.any(String) });
    expect(live.find((m) => m.type === 'commandResult')?.data).toEqual(all[0]);
    expect(await metric(server.url, 'gaswatch_device_events_stored_total')).toBeGreaterThanOrEqual(4);
  });

  const bad: [string, string, string][] = [
    ['bad device id', 'device=Kitchen%201', 'bad_request'],
    ['bad gateway id', 'gateway=-x', 'bad_request'],
    ['bad time', 'from=yesterday', 'bad_request'],
    ['time without zone', 'from=2026-11-23T18:00:00', 'bad_request'],
    ['from after to', `from=${at(10)}&to=${at(0)}`, 'bad_range'],
    ['limit 0', 'limit=0', 'bad_request'],
    ['limit too large', 'limit=1001', 'bad_request'],
    ['limit not a number', 'limit=ten', 'bad_request'],
    ['unknown parameter', 'dev=kitchen', 'bad_request'],
  ];
  for (const [what, qs, code] of bad) {
    it(`/api/events: ${what} → 400 ${code}`, async () => {
      const { status, body } = await getJson<{ error: string; message: string }>(
        `${server.url}/api/events?${qs}`,
      );
      expect(status).toBe(400);
      expect(body.error).toBe(code);
      expect(body.message.length).toBeGreaterThan(5);
    });
  }

  it('is documented in the OpenAPI document', async () => {
    const { body } = await getJson<{ paths: Record<string, { get?: { parameters?: { name: string }[] } }> }>(
      `${server.url}/docs/json`,
    );
    expect(body.paths['/api/events']?.get?.parameters?.map((p) => p.name).sort()).toEqual([
      'cursor',
      'device',
      'from',
      'gateway',
      'limit',
      'to',
    ]);
  });
});

describe('device events while InfluxDB is down', () => {
  let influxd: Influxd | undefined;
  let server: TestServer | undefined;
  let client: MqttClient | undefined;
  afterAll(async () => {
    await client?.endAsync();
    await server?.close();
    await influxd?.stop();
  });

  it('keeps what MQTT acknowledged and stores it once InfluxDB is back', { timeout: 60_000 }, async () => {
    influxd = await startInfluxd();
    server = await startTestServer({ INFLUX_URL: influxd.url, INFLUX_DB: 'device_events' });
    client = await connectGateway(server, GW);
    await influxd.pause();
    await publishEvent(client, 'boiler', {
      v: 1,
      ts: at(5),
      type: 'interlock',
      outputs: { valve: false },
      message: 'LEL 25 %',
    });
    await waitFor(
      async () => (await metric(server?.url ?? '', 'gaswatch_device_events_pending')) === 1,
      'event waiting for the store',
      10_000,
    );
    // The store cannot answer a query meanwhile: a 503 with the usual shape, never an empty list.
    const down = await getJson<{ error: string }>(`${server.url}/api/events?device=boiler`);
    expect(down).toMatchObject({ status: 503, body: { error: 'store_unavailable' } });

    await influxd.start();
    await waitFor(
      async () => (await server?.app.store.listDeviceEvents({ dev: 'boiler' }).catch(() => []))?.length === 1,
      'event stored after InfluxDB came back',
      30_000,
    );
    const { body } = await getJson<{ events: EventView[] }>(`${server.url}/api/events?device=boiler`);
    expect(body.events.map((e) => e.data.message)).toEqual(['LEL 25 %']);
    await waitFor(
      async () => (await metric(server?.url ?? '', 'gaswatch_device_events_pending')) === 0,
      'nothing pending',
      5_000,
    );
    expect(await metric(server.url, 'gaswatch_device_events_dropped_total')).toBe(0);
  });
});

describe('device events across a restart while InfluxDB is down', () => {
  let influxd: Influxd | undefined;
  let server: TestServer | undefined;
  let client: MqttClient | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-events-restart-'));
  afterAll(async () => {
    await client?.endAsync();
    await server?.close();
    await influxd?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('an acknowledged event waits on disk and is stored once by the next run', {
    timeout: 60_000,
  }, async () => {
    influxd = await startInfluxd();
    const env = { INFLUX_URL: influxd.url, INFLUX_DB: 'device_events_restart' };
    server = await startTestServer(env, dataDir);
    client = await connectGateway(server, GW);
    await influxd.pause();
    await publishEvent(client, 'boiler', {
      v: 1,
      ts: at(7),
      type: 'interlock',
      outputs: { valve: false },
      message: 'valve closed while the store was down',
    });
    await waitFor(
      async () => (await metric(server?.url ?? '', 'gaswatch_device_events_pending')) === 1,
      'event waiting for the store',
      10_000,
    );
    await client.endAsync();
    client = undefined;
    await server.close(); // the store is still unreachable: the event must not be lost
    server = undefined;

    server = await startTestServer(env, dataDir);
    expect(await metric(server.url, 'gaswatch_device_events_pending')).toBe(1);
    await influxd.start();
    await waitFor(
      async () => (await server?.app.store.listDeviceEvents({ dev: 'boiler' }).catch(() => []))?.length === 1,
      'event from the previous run stored after InfluxDB came back',
      30_000,
    );
    await waitFor(
      async () => (await metric(server?.url ?? '', 'gaswatch_device_events_pending')) === 0,
      'nothing pending',
      5_000,
    );
    const { body } = await getJson<{ events: EventView[] }>(`${server.url}/api/events?device=boiler`);
    expect(body.events.map((e) => e.data.message)).toEqual(['valve closed while the store was down']);
  });
});
