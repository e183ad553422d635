/**
 * The outbox bound: with the uplink down and a tiny `maxReadings`, the oldest readings are dropped,
 * and the gateway says so in its retained status once a broker is reachable; the newest readings
 * are delivered with their original seq (the gap shows exactly what was dropped).
 */
import { createDevice, createModbusTcpServer } from '@gaswatch/firmware-sim';
import { decodeMessage, type GatewayStatus, type Reading } from '@gaswatch/shared';
import { freePort, waitFor } from '@gaswatch/shared/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { startAedes } from './helpers/broker.js';
import { configDoc, type TestDir, tempDir } from './helpers/config.js';
import { testLogger } from './helpers/log.js';

describe('outbox bound', () => {
  const sim = createDevice({ id: 'co1', profile: 'gaswatch-co', unit: 1 });
  let server: ReturnType<typeof createModbusTcpServer>;
  let gateway: Gateway;
  let broker: Awaited<ReturnType<typeof startAedes>> | undefined;
  let sub: MqttClient | undefined;
  let tmp: TestDir;
  let brokerPort = 0;

  beforeAll(async () => {
    tmp = tempDir();
    server = createModbusTcpServer({ devices: [sim], port: await freePort() });
    const { port } = await server.start();
    brokerPort = await freePort();
    const doc = configDoc({
      url: `mqtt://127.0.0.1:${brokerPort}`,
      outboxDir: `${tmp.dir}/outbox`,
      buses: [
        {
          id: 'tcp-0',
          type: 'modbus-tcp',
          host: '127.0.0.1',
          port,
          devices: [
            { id: 'co1', unit: 1, profile: 'gaswatch-co', pollIntervalS: 0.05, site: 's', location: 'l' },
          ],
        },
      ],
    });
    doc.outbox = { ...doc.outbox, maxReadings: 10 } as typeof doc.outbox;
    gateway = createGateway({ config: parseConfig(doc), logger: testLogger(), uplinkWaitMs: 50 });
    await gateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
    await sub?.endAsync();
    await broker?.stop();
    await server?.stop();
    tmp?.remove();
  });

  it('drops the oldest readings when full, counts them, and reports them in the status', async () => {
    await waitFor(() => gateway.outbox.dropped >= 20, 'drops', 15_000);
    expect(gateway.outbox.depth).toBeLessThanOrEqual(10);
    expect(gateway.status().outboxDropped).toBe(gateway.outbox.dropped);

    broker = await startAedes(brokerPort);
    const statuses: GatewayStatus[] = [];
    const seqs: number[] = [];
    sub = mqtt.connect(broker.url);
    sub.on('message', (topic, payload) => {
      const r = decodeMessage(topic, payload);
      if (!r.ok) return;
      if (r.address.kind === 'status') statuses.push(r.payload as GatewayStatus);
      if (r.address.kind === 'reading') seqs.push((r.payload as Reading).seq);
    });
    await sub.subscribeAsync('gaswatch/v1/gw-test/#', { qos: 1 });
    await waitFor(
      () => statuses.some((s) => s.online && (s.outboxDropped ?? 0) >= 20),
      'status with drops',
      15_000,
    );
    await waitFor(() => seqs.length >= 10, 'readings', 10_000);
    // The first delivered reading is not seq 0: the oldest were dropped, the newest kept.
    expect(seqs[0]).toBeGreaterThanOrEqual(20);
  });
});
