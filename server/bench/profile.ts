// CPU profile of the server process under the ingest benchmark's load (Mosquitto, optional InfluxDB).
// `node --import tsx server/bench/profile.ts [influx] [outDir]` → a .cpuprofile per run in outDir
// (BENCH_PROFILE=heap: a .heapprofile of allocations instead).

import { startProcess } from '@gaswatch/shared/testing';
import { makeMessages, metricValue, publishAll, sleep } from './common.js';
import { startInfluxd, startMosquitto, tempDir } from './harness.js';
import { benchToken } from './token.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 60_000);
/** Extra mosquitto.conf lines for experiments, e.g. `autosave_interval 1800` (\n separates lines). */
const MOSQUITTO_EXTRA = (process.env.BENCH_MOSQUITTO_CONF ?? '').replaceAll('\\n', '\n');
const useInflux = process.argv[2] === 'influx';
const outDir = process.argv[3] ?? '/tmp';
const SERVER_MAIN = new URL('../src/main.ts', import.meta.url).pathname;

const m = await startMosquitto({ extraConfig: MOSQUITTO_EXTRA });
const influxd = useInflux ? await startInfluxd() : null;
const data = tempDir();
const token = await benchToken(data.dir);
const proc = startProcess(
  process.execPath,
  [
    // BENCH_PROFILE=heap: a sampling heap profile (what allocates) instead of the CPU profile.
    ...(process.env.BENCH_PROFILE === 'heap'
      ? ['--heap-prof', `--heap-prof-dir=${outDir}`, '--heap-prof-interval=16384']
      : ['--cpu-prof', `--cpu-prof-dir=${outDir}`]),
    '--import',
    'tsx',
    SERVER_MAIN,
  ],
  {
    env: {
      LOG_LEVEL: 'warn',
      PORT: '0',
      MQTT_PORT: '0',
      DATA_DIR: data.dir,
      MQTT_URL: m.url,
      MQTT_CLIENT_ID: 'prof-server',
      ...(influxd ? { INFLUX_URL: influxd.url, INFLUX_DB: 'prof' } : {}),
    },
  },
);
try {
  const match = await proc.waitForOutput(/"url":"([^"]+)"/, 30_000);
  const url = match[1] as string;
  await sleep(500);
  const all = makeMessages(32 + TOTAL, 32, 'p');
  await publishAll(m.url, all.slice(0, 32), 4, 100, 'pw'); // warm-up: each device's first reading
  for (
    let i = 0;
    i < 600 && (await metricValue(url, 'gaswatch_store_readings_written_total', token)) < 32;
    i++
  )
    await sleep(50);
  const before = await metricValue(url, 'gaswatch_store_readings_written_total', token);
  const t0 = performance.now();
  const { start, ackedAt } = await publishAll(m.url, all.slice(32), 4, 100, 'p');
  for (let i = 0; i < 1200; i++) {
    if ((await metricValue(url, 'gaswatch_store_readings_written_total', token)) - before >= TOTAL) break;
    await sleep(20);
  }
  const t1 = performance.now();
  process.stdout.write(
    `acked ${Math.round(TOTAL / ((ackedAt - start) / 1000))} msg/s, stored ${Math.round(TOTAL / ((t1 - t0) / 1000))} msg/s\n`,
  );
} finally {
  await proc.stop();
  data.remove();
  await m.stop();
  await influxd?.stop();
}
