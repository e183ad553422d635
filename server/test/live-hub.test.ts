/**
 * /api/live through one hub: however many consoles are open, the server listens to each bus event
 * kind once and serialises each event once, and every socket gets the same frame. A console that
 * stops reading is dropped without holding up the others, and closing the server closes the
 * sockets and leaves no listener behind.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { type AlarmTransition, createBus, type ServerEvents } from '../src/bus.js';
import { createDeviceRegistry } from '../src/ingest/devices.js';
import { createLiveHub, type LiveHub, type LiveMessage } from '../src/live/hub.js';
import { deviceState } from './e2e/browser.js';
import {
  connectGateway,
  liveUrl,
  openLive,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
} from './helpers.js';

const KINDS: (keyof ServerEvents)[] = ['reading', 'deviceState', 'alarm', 'deviceEvent', 'commandResult'];

describe('/api/live on the real server', () => {
  let server: TestServer | undefined;
  let client: MqttClient | undefined;
  const sockets: WebSocket[] = [];
  afterEach(async () => {
    for (const ws of sockets.splice(0)) ws.terminate();
    await client?.endAsync();
    await server?.close();
  });

  it('costs one bus listener per event kind for any number of sockets, each sent the same frame', {
    timeout: 30_000,
  }, async () => {
    server = await startTestServer();
    const { app } = server;
    const before = Object.fromEntries(KINDS.map((k) => [k, app.bus.listenerCount(k)]));
    const consoles = await Promise.all(
      Array.from({ length: 25 }, () => openLive(liveUrl(server?.url ?? ''))),
    );
    sockets.push(...consoles.map((c) => c.ws));

    client = await connectGateway(server, 'gw-hub');
    await publishReading(client, 'gw-hub', 'hall-co', reading(0, Date.now(), { CO: 7 }));
    const readingFrame = (frames: string[]) => frames.find((f) => f.startsWith('{"type":"reading"'));
    await waitFor(async () => consoles.every((c) => readingFrame(c.frames)), 'the reading on every socket');
    const first = readingFrame(consoles[0]?.frames ?? []);
    for (const c of consoles) expect(readingFrame(c.frames)).toBe(first);
    // Every socket was being served, and the bus has one more listener per kind than without them.
    expect(Object.fromEntries(KINDS.map((k) => [k, app.bus.listenerCount(k)]))).toEqual(
      Object.fromEntries(KINDS.map((k) => [k, (before[k] ?? 0) + 1])),
    );
    expect(app.liveHub.size).toBe(25);
    // The device's /api/devices row rides along, so a console updates it without asking.
    expect(JSON.parse(first ?? '{}').data.device).toMatchObject({ id: 'hall-co', online: true });

    for (const c of consoles) c.ws.close();
    await waitFor(async () => app.liveHub.size === 0, 'closed sockets leave the hub', 5_000, 10);
    expect(Object.fromEntries(KINDS.map((k) => [k, app.bus.listenerCount(k)]))).toEqual(before);
  });
});

describe('the live hub', () => {
  let hub: LiveHub | undefined;
  let http: Server | undefined;
  let wss: WebSocketServer | undefined;
  const clients: WebSocket[] = [];
  afterEach(async () => {
    hub?.stop();
    for (const ws of clients.splice(0)) ws.terminate();
    wss?.close();
    await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
    http?.closeAllConnections();
  });

  /** A hub behind a real WebSocket server; `serialised` counts the frames it built. */
  async function startHub(
    opts: { maxBufferedBytes?: number; heartbeatMs?: number; alarmRow?: (id: string) => unknown } = {},
  ) {
    const bus = createBus();
    const counter = { serialised: 0 };
    hub = createLiveHub({
      bus,
      clock: Date.now,
      devices: createDeviceRegistry(),
      ...opts,
      serialize: (m: LiveMessage) => {
        counter.serialised += 1;
        return JSON.stringify(m);
      },
    });
    const h = hub;
    http = createServer();
    wss = new WebSocketServer({ server: http });
    wss.on('connection', (socket) => h.add(socket));
    await new Promise<void>((resolve) => http?.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
    return { bus, hub: h, counter, url };
  }

  const transition = (over: Partial<AlarmTransition> = {}): AlarmTransition => ({
    alarmId: 'kitchen-co.CO-dose.1',
    gw: 'gw-1',
    dev: 'kitchen-co',
    state: 'active',
    ts: Date.now(),
    ...over,
  });

  it('serialises each event once, however many sockets are open', async () => {
    const { bus, hub, counter, url } = await startHub({ heartbeatMs: 60_000 });
    const consoles = await Promise.all(Array.from({ length: 8 }, () => openLive(url)));
    clients.push(...consoles.map((c) => c.ws));
    await waitFor(async () => hub.size === 8, '8 sockets in the hub', 5_000, 10);

    bus.emit('alarm', transition());
    bus.emit('alarm', transition({ state: 'acknowledged' }));
    await waitFor(async () => consoles.every((c) => c.frames.length === 2), 'both frames on every socket');
    expect(counter.serialised).toBe(2);
    for (const c of consoles) expect(c.frames).toEqual(consoles[0]?.frames);
    expect(JSON.parse(consoles[0]?.frames[1] ?? '{}')).toMatchObject({
      type: 'alarm',
      data: { state: 'acknowledged', alarm: null },
    });
  });

  it('sends a heartbeat with the server time while sockets are open', async () => {
    const { url } = await startHub({ heartbeatMs: 50 });
    const c = await openLive(url);
    clients.push(c.ws);
    await waitFor(async () => c.frames.length >= 2, 'two heartbeats', 5_000, 10);
    const beat = JSON.parse(c.frames[0] ?? '{}');
    expect(beat.type).toBe('heartbeat');
    expect(Math.abs(Date.parse(beat.data.now) - Date.now())).toBeLessThan(5_000);
  });

  it('closes a socket that stops reading (1013) and keeps serving the others', {
    timeout: 30_000,
  }, async () => {
    const { bus, hub, url } = await startHub({ maxBufferedBytes: 256 * 1024, heartbeatMs: 60_000 });
    const reader = await openLive(url);
    const stalled = await openLive(url);
    clients.push(reader.ws, stalled.ws);
    await waitFor(async () => hub.size === 2, '2 sockets in the hub', 5_000, 10);
    // The browser stops reading its socket: the kernel buffers fill, then the server's queue grows.
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const closed = new Promise<number>((resolve) => stalled.ws.once('close', (code) => resolve(code)));

    const big = 'x'.repeat(256 * 1024);
    let sent = 0;
    await waitFor(
      async () => {
        bus.emit('alarm', transition({ message: big, n: sent++ }));
        return hub.size === 1;
      },
      'the stalled socket dropped',
      20_000,
      5,
    );
    await waitFor(async () => reader.frames.length === sent, 'every frame on the reading socket', 20_000);
    (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await closed).toBe(1013);
  });

  it('never keeps an event from the listeners after it (the alarm engine) when a message fails', async () => {
    const { bus, hub, url } = await startHub({
      heartbeatMs: 60_000,
      alarmRow: () => {
        throw new Error('alarm engine lookup failed');
      },
    });
    const c = await openLive(url);
    clients.push(c.ws);
    await waitFor(async () => hub.size === 1, 'the socket in the hub', 5_000, 10);
    const after: AlarmTransition[] = [];
    bus.on('alarm', (t) => after.push(t));

    expect(() => bus.emit('alarm', transition())).not.toThrow();
    expect(after).toHaveLength(1);
    // The socket stays served.
    bus.emit('deviceState', {
      gw: 'gw-1',
      dev: 'kitchen-co',
      state: deviceState(),
      device: { gw: 'gw-1', dev: 'kitchen-co', state: null, lastSeen: null },
    });
    await waitFor(async () => c.frames.length === 1, 'the next message on the socket');
    expect(JSON.parse(c.frames[0] ?? '{}').type).toBe('deviceState');
  });

  it('listens only while a socket is open', async () => {
    const { bus, hub, url } = await startHub();
    expect(KINDS.map((k) => bus.listenerCount(k))).toEqual([0, 0, 0, 0, 0]);
    const c = await openLive(url);
    clients.push(c.ws);
    await waitFor(async () => hub.size === 1, 'the socket in the hub', 5_000, 10);
    expect(KINDS.map((k) => bus.listenerCount(k))).toEqual([1, 1, 1, 1, 1]);
    c.ws.close();
    await waitFor(async () => hub.size === 0, 'the socket gone', 5_000, 10);
    expect(KINDS.map((k) => bus.listenerCount(k))).toEqual([0, 0, 0, 0, 0]);
  });

  it('stop() removes its bus listeners and closes every socket (1001)', async () => {
    const { bus, hub, url } = await startHub();
    const c = await openLive(url);
    clients.push(c.ws);
    await waitFor(async () => hub.size === 1, 'the socket in the hub', 5_000, 10);
    expect(KINDS.map((k) => bus.listenerCount(k))).toEqual([1, 1, 1, 1, 1]);
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    hub.stop();
    expect(await closed).toBe(1001);
    expect(KINDS.map((k) => bus.listenerCount(k))).toEqual([0, 0, 0, 0, 0]);
    expect(hub.size).toBe(0);
  });
});
