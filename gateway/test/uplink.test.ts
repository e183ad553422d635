/**
 * The gateway on a real broker (aedes): retained status and device state, readings that pass the
 * server's own validation, commands and their results, clock skew in the status, and the will
 * when the gateway process is killed.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevice, createModbusTcpServer } from '@gaswatch/firmware-sim';
import { decodeMessage, type GatewayStatus, type Reading } from '@gaswatch/shared';
import { freePort, type Proc, startTsNode, waitFor } from '@gaswatch/shared/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway.js';
import { startAedes } from './helpers/broker.js';
import { scaledClock } from './helpers/clock.js';
import { makeConfig, type TestDir, tempDir, writeConfig } from './helpers/config.js';
import { testLogger } from './helpers/log.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** Messages that failed the server's validation (must stay empty). */
const invalid: string[] = [];

interface Received {
  topic: string;
  payload: unknown;
  retain: boolean;
}

async function subscriber(url: string, filter: string): Promise<{ client: MqttClient; got: Received[] }> {
  const client = mqtt.connect(url, { reconnectPeriod: 200 });
  const got: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    if (!topic.startsWith('gaswatch/v1/')) return;
    const r = decodeMessage(topic, payload);
    // Everything the gateway publishes must pass the server's validation.
    if (!r.ok) invalid.push(`${topic}: ${r.message}`);
    else got.push({ topic, payload: r.payload, retain: packet.retain });
  });
  await new Promise<void>((res) => client.on('connect', () => res()));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

describe('gateway on an aedes broker', () => {
  let broker: Awaited<ReturnType<typeof startAedes>>;
  let server: ReturnType<typeof createModbusTcpServer>;
  let gateway: Gateway;
  let tmp: TestDir;
  let sub: Awaited<ReturnType<typeof subscriber>>;
  const co = createDevice({ id: 'co1', profile: 'gaswatch-co', unit: 1 });
  const lel = createDevice({ id: 'lel1', profile: 'gaswatch-lel', unit: 2 });

  beforeAll(async () => {
    tmp = tempDir();
    broker = await startAedes();
    server = createModbusTcpServer({ devices: [co, lel], port: await freePort() });
    const { port } = await server.start();
    sub = await subscriber(broker.url, 'gaswatch/v1/#');
    // The reference time is published retained, as a server would.
    await sub.client.publishAsync('gaswatch-test/time', new Date().toISOString(), { qos: 1, retain: true });
    const config = makeConfig({
      url: broker.url,
      outboxDir: `${tmp.dir}/outbox`,
      extra: { clock: { maxSkewS: 120, referenceTopic: 'gaswatch-test/time' } },
      buses: [
        {
          id: 'tcp-0',
          type: 'modbus-tcp',
          host: '127.0.0.1',
          port,
          devices: [
            {
              id: 'co1',
              unit: 1,
              profile: 'gaswatch-co',
              pollIntervalS: 0.3,
              site: 'flat-501',
              location: 'bathroom',
            },
            {
              id: 'lel1',
              unit: 2,
              profile: 'gaswatch-lel',
              pollIntervalS: 0.3,
              site: 'flat-501',
              location: 'kitchen',
            },
          ],
        },
      ],
    });
    // The Pi booted without a network clock: one hour fast.
    gateway = createGateway({ config, logger: testLogger(), clock: scaledClock(1, 3_600_000) });
    await gateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
    await sub?.client.endAsync();
    await server?.stop();
    await broker?.stop();
    tmp?.remove();
  });

  const of = (suffix: string) => sub.got.filter((m) => m.topic.endsWith(suffix));

  it('publishes readings with consecutive seq and the detector values', async () => {
    co.setConcentration('CO', 23.4);
    await waitFor(() => of('co1/reading').length >= 5, 'readings', 10_000);
    const readings = of('co1/reading').map((m) => m.payload as Reading);
    expect(readings.map((r) => r.seq)).toEqual(readings.map((_, i) => i));
    expect(readings.at(-1)!.values.CO).toBeCloseTo(23.4, 5);
    expect(readings.at(-1)!.status).toBe('ok');
  });

  it('publishes retained device state with the poll interval', async () => {
    await waitFor(() => of('lel1/state').length >= 1, 'state', 5_000);
    expect(of('lel1/state')[0]!.payload).toMatchObject({
      online: true,
      model: 'gaswatch-lel',
      kind: 'combustible',
      location: 'kitchen',
      pollIntervalS: 0.3,
      lastError: null,
    });
    // A late subscriber gets it retained.
    expect(invalid).toEqual([]);
    const late = await subscriber(broker.url, 'gaswatch/v1/gw-test/+/state');
    await waitFor(() => late.got.length >= 2, 'retained states', 5_000);
    expect(late.got.every((m) => m.retain)).toBe(true);
    await late.client.endAsync();
  });

  it('reports the clock skew against the reference time in the retained status', async () => {
    await waitFor(
      () =>
        of('/status').some(
          (m) => (m.payload as GatewayStatus & { clockSuspect?: boolean }).clockSuspect === true,
        ),
      'clockSuspect',
      10_000,
    );
    const st = of('/status').at(-1)!.payload as Extract<GatewayStatus, { online: true }>;
    expect(st.online).toBe(true);
    expect(st.clockSkewS).toBeGreaterThan(3590);
    expect(st.clockSkewS).toBeLessThan(3610);
    expect(st.version).toBe('0.1.0');
    expect(st.outboxDepth).toBeGreaterThanOrEqual(0);
  });

  it('answers a silence command on cmd/result', async () => {
    await sub.client.publishAsync(
      'gaswatch/v1/gw-test/cmd',
      JSON.stringify({ v: 1, id: 'cmd-1', type: 'silence', device: 'lel1' }),
      { qos: 1 },
    );
    await waitFor(() => of('cmd/result').length >= 1, 'command result', 5_000);
    expect(of('cmd/result')[0]!.payload).toMatchObject({ id: 'cmd-1', ok: true });
    expect(lel.coils().sounder).toBe(false);
  });

  it('refuses an invalid command with the reason, and keeps working', async () => {
    await sub.client.publishAsync(
      'gaswatch/v1/gw-test/cmd',
      JSON.stringify({ v: 1, id: 'cmd-2', type: 'explode' }),
      { qos: 1 },
    );
    await waitFor(
      () => of('cmd/result').some((m) => (m.payload as { id: string }).id === 'cmd-2'),
      'command result',
      5_000,
    );
    const r = of('cmd/result').find((m) => (m.payload as { id: string }).id === 'cmd-2')!.payload as {
      ok: boolean;
      message: string;
    };
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/type/);
    await sub.client.publishAsync('gaswatch/v1/gw-test/cmd', 'not json', { qos: 1 });
    const n = of('co1/reading').length;
    await waitFor(() => of('co1/reading').length > n + 2, 'readings go on', 5_000);
  });

  it('refuses a status that fails its schema with the field named, and keeps publishing readings', async () => {
    const bad = { ...gateway.status(), outboxDepth: -1 };
    let sent: Promise<void> | undefined;
    expect(() => {
      sent = gateway.uplink.publish('status', bad);
    }).not.toThrow();
    await expect(sent).rejects.toThrow(/status payload fails its schema: outboxDepth/);
    const n = of('co1/reading').length;
    await waitFor(() => of('co1/reading').length > n + 2, 'readings go on', 5_000);
  });
});

describe('gateway process killed', () => {
  let broker: Awaited<ReturnType<typeof startAedes>>;
  let server: ReturnType<typeof createModbusTcpServer>;
  let proc: Proc | undefined;
  let tmp: TestDir;
  let tcpPort = 0;

  beforeAll(async () => {
    tmp = tempDir();
    broker = await startAedes();
    server = createModbusTcpServer({
      devices: [createDevice({ id: 'co1', profile: 'gaswatch-co', unit: 1 })],
      port: await freePort(),
    });
    tcpPort = (await server.start()).port;
  });
  afterAll(async () => {
    await proc?.stop('SIGKILL');
    await server?.stop();
    await broker?.stop();
    tmp?.remove();
  });

  it('logs "started", and the broker publishes the retained offline will when it is killed', async () => {
    const file = writeConfig(join(tmp.dir, 'gw.yaml'), {
      url: broker.url,
      outboxDir: join(tmp.dir, 'outbox'),
      buses: [
        {
          id: 'tcp-0',
          type: 'modbus-tcp',
          host: '127.0.0.1',
          port: tcpPort,
          devices: [
            { id: 'co1', unit: 1, profile: 'gaswatch-co', pollIntervalS: 1, site: 's', location: 'l' },
          ],
        },
      ],
    });
    const sub = await subscriber(broker.url, 'gaswatch/v1/gw-test/status');
    proc = startTsNode(MAIN, ['--config', file]);
    await proc.waitForOutput(/"msg":"started"/, 20_000);
    await waitFor(
      () => sub.got.some((m) => (m.payload as GatewayStatus).online === true),
      'online status',
      10_000,
    );
    await proc.stop('SIGKILL');
    await waitFor(
      () => (sub.got.at(-1)?.payload as GatewayStatus | undefined)?.online === false,
      'will message',
      10_000,
    );
    expect(sub.got.at(-1)!.payload).toEqual({ v: 1, online: false });
    await sub.client.endAsync();
  });
});
