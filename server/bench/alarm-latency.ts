// Alarm latency: MQTT publish of a reading that crosses a threshold → the 'alarm' event on the
// /api/live WebSocket (SPEC §8: p99 ≤ 50 ms at nominal load), with background readings flowing.
import { encodePayload, topics } from '@gaswatch/shared';
import mqtt from 'mqtt';
import { lelProbeState, openLive, sleep, table } from './common.js';
import { provisionGateway, startTsNode, tempDir } from './harness.js';
import { benchToken } from './token.js';

const SAMPLES = Number(process.env.BENCH_ALARMS ?? 200);
const BACKGROUND_PER_S = Number(process.env.BENCH_BACKGROUND ?? 200);
const SERVER_MAIN = new URL('../src/main.ts', import.meta.url).pathname;

const data = tempDir();
const token = await benchToken(data.dir);
// The embedded broker lets in only provisioned gateways: the alarm one and the background one.
const gwLogin = await provisionGateway({ DATA_DIR: data.dir }, 'gw-lat');
const bgLogin = await provisionGateway({ DATA_DIR: data.dir }, 'gw-bg');
const proc = startTsNode(SERVER_MAIN, [], {
  env: { LOG_LEVEL: 'warn', PORT: '0', MQTT_PORT: '0', DATA_DIR: data.dir },
});
const m = await proc.waitForOutput(/"url":"([^"]+)","mqtt":"([^"]+)"/, 30_000);
const url = m[1] as string;
const mqttUrl = m[2] as string;

const ws = await openLive(url, token);
const arrivals = new Map<string, number>();
ws.on('message', (raw) => {
  const msg = JSON.parse(String(raw)) as { type: string; data: { dev: string; state: string } };
  if (msg.type === 'alarm' && msg.data.state === 'active' && !arrivals.has(msg.data.dev)) {
    arrivals.set(msg.data.dev, performance.now());
  }
});

const gw = await mqtt.connectAsync(mqttUrl, { clientId: 'bench-alarm-gw', ...gwLogin });
const bg = await mqtt.connectAsync(mqttUrl, { clientId: 'bench-alarm-bg', ...bgLogin });
const now = () => new Date().toISOString();
for (let i = 0; i < SAMPLES; i++) {
  const dev = `lel-${i}`;
  await gw.publishAsync(topics.state('gw-lat', dev), lelProbeState(now(), 1), { qos: 1, retain: true });
  await gw.publishAsync(
    topics.reading('gw-lat', dev),
    encodePayload('reading', { v: 1, ts: now(), seq: 0, values: { LEL: 0 }, status: 'ok' }),
    { qos: 1 },
  );
}

// Background: household CO detectors at BACKGROUND_PER_S readings/s in total.
let bgSeq = 0;
let stopBg = false;
const background = (async () => {
  while (!stopBg) {
    const t = performance.now();
    const batch = Math.max(1, Math.round(BACKGROUND_PER_S / 20));
    for (let k = 0; k < batch; k++) {
      const d = k % 50;
      bg.publish(
        topics.reading('gw-bg', `co-bg-${d}`),
        encodePayload('reading', {
          v: 1,
          ts: new Date(Date.now() + bgSeq).toISOString(),
          seq: bgSeq++,
          values: { CO: 5 },
          status: 'ok',
        }),
        { qos: 1 },
      );
    }
    await sleep(Math.max(0, 50 - (performance.now() - t)));
  }
})();
await sleep(1_000);

const latencies: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  const dev = `lel-${i}`;
  const payload = encodePayload('reading', { v: 1, ts: now(), seq: 1, values: { LEL: 40 }, status: 'ok' });
  const t0 = performance.now();
  gw.publish(topics.reading('gw-lat', dev), payload, { qos: 1 });
  const deadline = Date.now() + 5_000;
  while (!arrivals.has(dev) && Date.now() < deadline) await sleep(1);
  const t1 = arrivals.get(dev);
  if (t1 === undefined) throw new Error(`no alarm for ${dev} within 5 s`);
  latencies.push(t1 - t0);
  await sleep(20);
}
stopBg = true;
await background;
ws.close();
await gw.endAsync();
await bg.endAsync();
await proc.stop();
data.remove();

latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] as number;
process.stdout.write(
  `${table(
    `Alarm latency: MQTT publish → /api/live 'alarm' event, ${SAMPLES} alarms, ${BACKGROUND_PER_S} background readings/s, embedded aedes + store (\`npm run bench -w @gaswatch/server\`)`,
    ['p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
    [[pct(50), pct(90), pct(99), latencies[latencies.length - 1] as number]],
  )}\n`,
);
