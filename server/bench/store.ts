// Store write rate: the embedded store and the InfluxDB store (writeReadings in 5 000-reading
// batches) vs direct `influx.writePoints` of the same points in 5 000-point batches.
import { GAS_IDS } from '@gaswatch/shared';
import { FieldType, InfluxDB, type IPoint } from 'influx';
import pino from 'pino';
import { EVENTS_TOTAL_CAP } from '../src/routes/events.js';
import { READINGS_TOTAL_CAP } from '../src/routes/readings.js';
import { deviceEventRecord } from '../src/store/device-events.js';
import { createEmbeddedStore } from '../src/store/embedded.js';
import { createInfluxStore } from '../src/store/influx.js';
import type { Store, StoredReading } from '../src/store/types.js';
import { table } from './common.js';
import { startInfluxd, tempDir } from './harness.js';

const N = Number(process.env.BENCH_POINTS ?? 100_000);
const BATCH = 5_000;
const DEVICES = 32;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const logger = pino({ level: 'silent' });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function readings(round: number): StoredReading[] {
  const t0 = Date.parse('2026-01-01T00:00:00Z') + round * 86_400_000;
  return Array.from({ length: N }, (_, i) => ({
    gw: 'gw-bench',
    dev: `dev-${i % DEVICES}`,
    ts: t0 + Math.floor(i / DEVICES) * 1_000,
    seq: Math.floor(i / DEVICES),
    values: { CO: (i % 400) + 0.5 },
    status: 'ok' as const,
    receivedAt: t0 + Math.floor(i / DEVICES) * 1_000 + 20,
    late: false,
  }));
}

async function timeStore(store: Store, data: StoredReading[]): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < data.length; i += BATCH) await store.writeReadings(data.slice(i, i + BATCH));
  return data.length / ((performance.now() - t) / 1000);
}

const influxd = await startInfluxd();
const tmp = tempDir();
const embedded = createEmbeddedStore({ dir: tmp.dir, logger });
await embedded.start();
const influxStore = createInfluxStore({ url: influxd.url, database: 'bench_store', logger });
await influxStore.start();
const direct = new InfluxDB({
  host: '127.0.0.1',
  port: influxd.port,
  database: 'bench_direct',
  schema: [
    {
      measurement: 'reading',
      tags: ['gw', 'dev'],
      fields: {
        ...Object.fromEntries(GAS_IDS.map((g) => [g, FieldType.FLOAT])),
        seq: FieldType.INTEGER,
        status: FieldType.STRING,
        late: FieldType.BOOLEAN,
        receivedAt: FieldType.INTEGER,
      },
    },
  ],
});
await direct.createDatabase('bench_direct');

const r = { embedded: [] as number[], influx: [] as number[], direct: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  const data = readings(round);
  const points: IPoint[] = data.map((x) => ({
    measurement: 'reading',
    tags: { gw: x.gw, dev: x.dev },
    fields: { ...x.values, seq: x.seq, status: x.status, late: x.late, receivedAt: x.receivedAt },
    timestamp: x.ts,
  }));
  const runDirect = async () => {
    const t = performance.now();
    for (let i = 0; i < points.length; i += BATCH)
      await direct.writePoints(points.slice(i, i + BATCH), { precision: 'ms' });
    r.direct.push(N / ((performance.now() - t) / 1000));
  };
  // Alternate which goes first, so neither always meets InfluxDB's compaction of the other's data.
  if (round % 2 === 0) {
    await runDirect();
    r.influx.push(await timeStore(influxStore, data));
  } else {
    r.influx.push(await timeStore(influxStore, data));
    await runDirect();
  }
  r.embedded.push(await timeStore(embedded, data));
}

// The `total` of GET /api/readings: one device's raw rows counted up to READINGS_TOTAL_CAP
// (a week of one-second readings holds 604 800), with and without a gas; and the newest
// EVENTS_TOTAL_CAP + 1 gateway events read for the total of GET /api/events.
const COUNT_ROWS = 120_000;
const t0 = Date.parse('2026-02-01T00:00:00Z');
const long: StoredReading[] = Array.from({ length: COUNT_ROWS }, (_, i) => ({
  gw: 'gw-bench',
  dev: 'dev-long',
  ts: t0 + i * 1_000,
  seq: i,
  values: i % 2 === 0 ? { CO: 1, O2: 20.9 } : { O2: 20.9 },
  status: 'ok' as const,
  receivedAt: t0 + i * 1_000,
  late: false,
}));
await timeStore(embedded, long);
await timeStore(influxStore, long);
await embedded.appendDeviceEvents(
  Array.from({ length: EVENTS_TOTAL_CAP + 2_000 }, (_, i) =>
    deviceEventRecord(
      'gw-bench',
      `dev-${i % DEVICES}`,
      {
        v: 1,
        ts: new Date(t0 + i * 1_000).toISOString(),
        type: 'interlock',
        outputs: { valve: true },
        message: `closed ${i}`,
      },
      t0 + i * 1_000,
    ),
  ),
);
async function timed(f: () => Promise<unknown>): Promise<number> {
  await f();
  const ms: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return median(ms);
}
const range = { from: t0, to: t0 + COUNT_ROWS * 1_000, cap: READINGS_TOTAL_CAP };
const counts: (string | number)[][] = [];
for (const [name, store] of [
  ['embedded', embedded],
  ['InfluxDB', influxStore],
] as const) {
  counts.push([
    `${name}: raw rows`,
    await store.countReadings('dev-long', range),
    (await timed(() => store.countReadings('dev-long', range))).toFixed(1),
  ]);
  counts.push([
    `${name}: rows with CO`,
    await store.countReadings('dev-long', { ...range, gas: 'CO' }),
    (await timed(() => store.countReadings('dev-long', { ...range, gas: 'CO' }))).toFixed(1),
  ]);
}
const eventsQuery = { from: t0, limit: EVENTS_TOTAL_CAP + 1 };
counts.push([
  'embedded: newest gateway events read',
  (await embedded.listDeviceEvents(eventsQuery)).length,
  (await timed(() => embedded.listDeviceEvents(eventsQuery))).toFixed(1),
]);

await embedded.stop();
await influxStore.stop();
await influxd.stop();
tmp.remove();

const d = median(r.direct);
process.stdout.write(
  `${table(
    `Store writes: ${N} readings in ${BATCH}-reading batches, one write in flight, median of ${ROUNDS} rounds (\`npm run bench -w @gaswatch/server\`)`,
    ['writer', 'readings/s', 'vs direct influx writePoints'],
    [
      ['direct influx.writePoints (5 000-point batches)', Math.round(d), '100 %'],
      [
        'InfluxDB store writeReadings',
        Math.round(median(r.influx)),
        `${((100 * median(r.influx)) / d).toFixed(0)} %`,
      ],
      [
        'embedded store (classic-level) writeReadings',
        Math.round(median(r.embedded)),
        `${((100 * median(r.embedded)) / d).toFixed(0)} %`,
      ],
    ],
  )}\n`,
);
process.stdout.write(
  `${table(
    `List totals (issue 18): one device's ${COUNT_ROWS} readings counted up to ${READINGS_TOTAL_CAP}, half with CO; the newest ${EVENTS_TOTAL_CAP + 1} of ${EVENTS_TOTAL_CAP + 2_000} gateway events; median of 5`,
    ['what', 'counted', 'ms'],
    counts,
  )}\n`,
);
