// Ingest throughput: the whole path (publishers → broker → server → store) vs the same broker
// relaying the same QoS 1 messages to a subscriber that does nothing (SPEC §8: ≥ 80 %).

import { makeMessages, metricValue, nullSubscriber, publishAll, sleep, table } from './common.js';
import { freePort, startMosquitto, startTsNode, tempDir } from './harness.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 60_000);
const CLIENTS = 4;
const WINDOW = 100;
const DEVICES = 32;
const SERVER_MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const RELAY = new URL('./aedes-relay.ts', import.meta.url).pathname;

async function relay(url: string, runId: string) {
  const messages = makeMessages(TOTAL, DEVICES, runId);
  const sink = await nullSubscriber(url, TOTAL, runId);
  const { start } = await publishAll(url, messages, CLIENTS, WINDOW, runId);
  const end = await sink.done;
  await sink.close();
  return TOTAL / ((end - start) / 1000);
}

async function throughServer(env: Record<string, string>, brokerUrl: string | null, runId: string) {
  const data = tempDir();
  const proc = startTsNode(SERVER_MAIN, [], {
    env: { LOG_LEVEL: 'warn', PORT: '0', MQTT_PORT: '0', DATA_DIR: data.dir, ...env },
  });
  try {
    const m = await proc.waitForOutput(/"url":"([^"]+)","mqtt":"([^"]+)"/, 30_000);
    const url = m[1] as string;
    const mqttUrl = brokerUrl ?? (m[2] as string);
    await sleep(500);
    const messages = makeMessages(TOTAL, DEVICES, runId);
    const before = await metricValue(url, 'gaswatch_store_readings_written_total');
    const { start, ackedAt } = await publishAll(mqttUrl, messages, CLIENTS, WINDOW, runId);
    const deadline = Date.now() + 120_000;
    let storedAt = 0;
    while (Date.now() < deadline) {
      if ((await metricValue(url, 'gaswatch_store_readings_written_total')) - before >= TOTAL) {
        storedAt = performance.now();
        break;
      }
      await sleep(100);
    }
    if (!storedAt) throw new Error('not all readings reached the store within 120 s');
    return { stored: TOTAL / ((storedAt - start) / 1000), acked: TOTAL / ((ackedAt - start) / 1000) };
  } finally {
    await proc.stop();
    data.remove();
  }
}

const rows: (string | number)[][] = [];

{
  const port = await freePort();
  const r = startTsNode(RELAY, [String(port)]);
  await r.waitForOutput(/listening/);
  const base = await relay(`mqtt://127.0.0.1:${port}`, 'ra');
  await r.stop();
  const s = await throughServer({}, null, 'sa');
  rows.push([
    'aedes (embedded)',
    Math.round(base),
    Math.round(s.acked),
    Math.round(s.stored),
    `${((100 * s.stored) / base).toFixed(0)} %`,
  ]);
}
{
  const mosq = await startMosquitto();
  const base = await relay(mosq.url, 'rm');
  const s = await throughServer({ MQTT_URL: mosq.url, MQTT_CLIENT_ID: 'bench-server' }, mosq.url, 'sm');
  await mosq.stop();
  rows.push([
    'Mosquitto (external)',
    Math.round(base),
    Math.round(s.acked),
    Math.round(s.stored),
    `${((100 * s.stored) / base).toFixed(0)} %`,
  ]);
}

process.stdout.write(
  `${table(
    `Ingest: ${TOTAL} QoS 1 readings, ${CLIENTS} publishers × ${WINDOW} in flight, ${DEVICES} devices, embedded store (\`npm run bench -w @gaswatch/server\`)`,
    [
      'broker',
      'relay to null subscriber msg/s',
      'server PUBACK msg/s',
      'whole path to store msg/s',
      'whole path / relay',
    ],
    rows,
  )}\n`,
);
