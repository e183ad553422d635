import { freePort, type Mosquitto, type Proc, startMosquitto, waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  connectClient,
  connectGateway,
  getJson,
  publishReading,
  reading,
  startServerProcess,
  tempDir,
} from './helpers.js';

/**
 * kill -9 of the server process while a gateway publishes at QoS 1. The gateway is an mqtt.js
 * client: it resends what was not acknowledged when it reconnects (like the gateway's outbox).
 */
const procs: Proc[] = [];
const clients: MqttClient[] = [];
const dirs: { remove(): void }[] = [];
let mosquitto: Mosquitto | undefined;
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  for (const p of procs.splice(0)) await p.stop('SIGKILL');
});
afterAll(async () => {
  await mosquitto?.stop();
  for (const d of dirs) d.remove();
});

async function storedSeqs(url: string, dev: string, t0: number): Promise<number[]> {
  const { body } = await getJson<{ rows: { seq: number }[] }>(
    `${url}/api/readings?device=${dev}&from=${new Date(t0 - 1).toISOString()}&to=${new Date(t0 + 3_600_000).toISOString()}&limit=10000`,
  );
  return body.rows.map((r) => r.seq);
}

/** Publishes seq 0..n-1 without waiting for each ack (mqtt.js keeps them in flight); returns the acked set. */
function publishStream(
  c: MqttClient,
  dev: string,
  n: number,
  t0: number,
  acked: Set<number>,
  onSent: (i: number) => Promise<void>,
) {
  return (async () => {
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      inflight.push(publishReading(c, 'gw-r', dev, reading(i, t0 + i * 1_000)).then(() => void acked.add(i)));
      await onSent(i);
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(inflight);
  })();
}

describe('server restart (kill -9) loses nothing it acknowledged', () => {
  it('external Mosquitto: the persistent session queues readings while the server is down', async () => {
    mosquitto = await startMosquitto();
    const data = tempDir();
    dirs.push(data);
    const env = { MQTT_URL: mosquitto.url, MQTT_CLIENT_ID: 'gaswatch-server-restart', DATA_DIR: data.dir };
    let server = await startServerProcess(env);
    procs.push(server.proc);
    await waitFor(async () => (await getJson(`${server.url}/readyz`)).status === 200, 'server ready');
    const gw = await connectClient(mosquitto.url, { clientId: 'gw-restart-m' });
    clients.push(gw);
    const t0 = Date.now() - 3_000_000;
    const acked = new Set<number>();
    const N = 600;
    await publishStream(gw, 'co-m', N, t0, acked, async (i) => {
      if (i === 200) await server.proc.stop('SIGKILL');
      if (i === 400) {
        server = await startServerProcess(env);
        procs.push(server.proc);
      }
    });
    expect(acked.size).toBe(N);
    let seqs: number[] = [];
    await waitFor(
      async () => {
        seqs = await storedSeqs(server.url, 'co-m', t0);
        return seqs.length >= N;
      },
      'all readings stored',
      30_000,
    );
    expect(seqs).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('embedded aedes: every reading the broker acknowledged survives, unacknowledged ones are resent', async () => {
    const data = tempDir();
    dirs.push(data);
    const env = { MQTT_PORT: String(await freePort()), DATA_DIR: data.dir };
    let server = await startServerProcess(env);
    procs.push(server.proc);
    const gw = await connectGateway({ dataDir: data.dir, mqttUrl: server.mqttUrl }, 'gw-r', {
      clientId: 'gw-restart-a',
      clean: false,
      reconnectPeriod: 100,
    });
    clients.push(gw);
    const t0 = Date.now() - 3_000_000;
    const acked = new Set<number>();
    const N = 600;
    let ackedAtKill = new Set<number>();
    await publishStream(gw, 'co-a', N, t0, acked, async (i) => {
      if (i === 250) {
        // Some of the stream acknowledged first (a cold server on a busy machine may lag the stream).
        await waitFor(() => acked.size > 100, '100 readings acknowledged before the kill', 30_000, 20);
        await server.proc.stop('SIGKILL');
        ackedAtKill = new Set(acked);
      }
      if (i === 350) {
        server = await startServerProcess(env);
        procs.push(server.proc);
      }
    });
    expect(ackedAtKill.size).toBeGreaterThan(100);
    let seqs: number[] = [];
    await waitFor(
      async () => {
        seqs = await storedSeqs(server.url, 'co-a', t0);
        return seqs.length >= N;
      },
      'all readings stored',
      30_000,
    );
    expect(seqs).toEqual(Array.from({ length: N }, (_, i) => i));
  });
});
