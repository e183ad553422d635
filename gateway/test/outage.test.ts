/**
 * Store-and-forward across an uplink outage and a kill -9: the broker (Mosquitto with persistence)
 * goes away for 60 s while the detectors keep changing; during the outage the gateway process is
 * SIGKILLed and started again. Afterwards the subscriber has every seq of every device, none
 * missing. Duplicates at the MQTT level are allowed (the server dedups); they are counted.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevice, createModbusTcpServer } from '@gaswatch/firmware-sim';
import { decodeMessage, type GatewayStatus, type Reading } from '@gaswatch/shared';
import {
  freePort,
  type Mosquitto,
  type Proc,
  startMosquitto,
  startTsNode,
  waitFor,
} from '@gaswatch/shared/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDir, tempDir, writeConfig } from './helpers/config.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
// 60 s as the issue asks; GASWATCH_OUTAGE_MS shortens it when debugging the test itself.
const OUTAGE_MS = Number(process.env.GASWATCH_OUTAGE_MS ?? 60_000);
const DEVICES = ['co1', 'co2', 'co3'];

describe('uplink outage with a kill -9 in the middle', () => {
  let broker: Mosquitto;
  let server: ReturnType<typeof createModbusTcpServer>;
  let sub: MqttClient;
  let tmp: TestDir;
  const procs: Proc[] = [];
  let changer: NodeJS.Timeout | undefined;
  const seen = new Map<string, Map<number, number>>(DEVICES.map((d) => [d, new Map()]));
  let lastStatus: GatewayStatus | undefined;
  const sims = DEVICES.map((id, i) => createDevice({ id, profile: 'gaswatch-co', unit: i + 1 }));

  beforeAll(async () => {
    tmp = tempDir();
    broker = await startMosquitto();
    server = createModbusTcpServer({ devices: sims, port: await freePort() });
    const { port } = await server.start();
    let t = 0;
    changer = setInterval(() => {
      t++;
      sims.forEach((s, i) => {
        s.setConcentration('CO', (t * (i + 1)) % 500);
      });
    }, 250);
    // A persistent session: the broker keeps the subscription and queued messages across its restart.
    sub = mqtt.connect(broker.url, { clientId: 'outage-test-sub', clean: false, reconnectPeriod: 300 });
    sub.on('message', (topic, payload) => {
      const r = decodeMessage(topic, payload);
      if (!r.ok) throw new Error(`invalid ${topic}: ${r.message}`);
      if (r.address.kind === 'status') lastStatus = r.payload as GatewayStatus;
      if (r.address.kind !== 'reading') return;
      const m = seen.get(r.address.dev);
      const seq = (r.payload as Reading).seq;
      m?.set(seq, (m.get(seq) ?? 0) + 1);
    });
    await new Promise<void>((res) => sub.once('connect', () => res()));
    await sub.subscribeAsync('gaswatch/v1/gw-outage/#', { qos: 1 });
    writeConfig(join(tmp.dir, 'gw.yaml'), {
      gatewayId: 'gw-outage',
      url: broker.url,
      outboxDir: join(tmp.dir, 'outbox'),
      buses: [
        {
          id: 'tcp-0',
          type: 'modbus-tcp',
          host: '127.0.0.1',
          port,
          devices: DEVICES.map((id, i) => ({
            id,
            unit: i + 1,
            profile: 'gaswatch-co',
            pollIntervalS: 0.5,
            site: 'plant',
            location: id,
          })),
        },
      ],
    });
  });
  afterAll(async () => {
    if (changer) clearInterval(changer);
    for (const p of procs) await p.stop('SIGKILL');
    await sub?.endAsync(true);
    await server?.stop();
    await broker?.stop();
    tmp?.remove();
  });

  const startGateway = () => {
    const p = startTsNode(MAIN, ['--config', join(tmp.dir, 'gw.yaml')]);
    procs.push(p);
    return p;
  };
  const maxSeq = (dev: string) => Math.max(-1, ...seen.get(dev)!.keys());
  const missing = (dev: string) => {
    const m = seen.get(dev)!;
    const gaps: number[] = [];
    for (let s = 0; s <= maxSeq(dev); s++) if (!m.has(s)) gaps.push(s);
    return gaps;
  };

  it('delivers every seq of every device after a 60 s outage and a SIGKILL', async () => {
    const first = startGateway();
    await first.waitForOutput(/"msg":"started"/, 20_000);
    await waitFor(() => DEVICES.every((d) => seen.get(d)!.size >= 4), 'readings before the outage', 15_000);

    const outageStart = Date.now();
    await broker.pause();
    await first.waitForOutput(/uplink offline/, 15_000);
    // Readings keep coming in while the broker is gone; then the process dies without warning.
    await new Promise((r) => setTimeout(r, 20_000));
    await first.stop('SIGKILL');
    const beforeKill = DEVICES.map(maxSeq);
    const second = startGateway();
    await second.waitForOutput(/"msg":"started"/, 30_000);
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - outageStart))));
    await broker.start();
    const outageS = (Date.now() - outageStart) / 1000;

    // The backlog replays; wait until the outbox is empty and at least 60 s worth of readings arrived.
    const state = () =>
      JSON.stringify({
        lastStatus,
        max: DEVICES.map(maxSeq),
        beforeKill,
        missing: DEVICES.map((d) => missing(d).slice(0, 10)),
      }) + second.output().slice(-3000);
    await waitFor(
      () =>
        lastStatus?.online === true &&
        lastStatus.outboxDepth === 0 &&
        DEVICES.every(
          (d, i) => maxSeq(d) >= beforeKill[i]! + (OUTAGE_MS / 1000) * 0.6 && missing(d).length === 0,
        ),
      'backlog replayed',
      45_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${state()}`);
    });
    await second.stop('SIGTERM');
    for (const d of DEVICES) {
      expect(missing(d)).toEqual([]);
      // 0.5 s polls: the outage alone is ~120 readings per device.
      expect(maxSeq(d)).toBeGreaterThan(outageS * 2 * 0.8);
    }
    const duplicates = DEVICES.reduce(
      (n, d) => n + [...seen.get(d)!.values()].filter((c) => c > 1).length,
      0,
    );
    const total = DEVICES.reduce((n, d) => n + seen.get(d)!.size, 0);
    // Figures for the report (duplicates are allowed at the MQTT level; the server dedups).
    console.log(
      `outage ${outageS.toFixed(1)} s: ${total} distinct readings over ${DEVICES.length} devices, ${duplicates} duplicates, 0 missing`,
    );
  }, 150_000);
});
