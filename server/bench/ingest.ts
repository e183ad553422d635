// Ingest throughput: the whole path (publishers → broker → server → store) vs the same broker
// relaying the same QoS 1 messages to a subscriber that does nothing (SPEC §8: ≥ 80 %).

import { cpuMs, makeMessages, metricValue, publishAll, sleep, table } from './common.js';
import {
  freePort,
  provisionGateway,
  startInfluxd,
  startMosquitto,
  startProcess,
  startTsNode,
  tempDir,
} from './harness.js';
import { benchToken } from './token.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 60_000);
/** Extra mosquitto.conf lines for experiments, e.g. `autosave_interval 1800` (\n separates lines). */
const MOSQUITTO_EXTRA = (process.env.BENCH_MOSQUITTO_CONF ?? '').replaceAll('\\n', '\n');
const CLIENTS = 4;
const WINDOW = 100;
const DEVICES = 32;
const SERVER_MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const RELAY = new URL('./aedes-relay.ts', import.meta.url).pathname;
const SINK = new URL('./null-subscriber.ts', import.meta.url).pathname;
/**
 * Another server build to measure in the same rounds (before/after a change), e.g. the
 * `server/src/main.ts` of an older commit unpacked elsewhere with its own node_modules/@gaswatch.
 */
const OTHER_MAIN = process.env.BENCH_OTHER_SERVER_MAIN;
/** Node flags for the server process (and for the other build), e.g. `--max-semi-space-size=32`. */
const SERVER_FLAGS = (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const OTHER_FLAGS = (process.env.BENCH_OTHER_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
/** Which comparisons to run (comma-separated): aedes, mosquitto, influx. */
const CASES = new Set((process.env.BENCH_CASES ?? 'aedes,mosquitto,influx').split(','));

/**
 * Warm-up, not timed, the same on both sides: each device's first reading (the server looks up
 * what the store already holds for a device it has not seen since its start, and the alarm engine
 * rebuilds its rule state; a one-off per device, not the sustained rate SPEC §8 is about).
 */
function split(runId: string) {
  const all = makeMessages(DEVICES + TOTAL, DEVICES, runId);
  return { warm: all.slice(0, DEVICES), timed: all.slice(DEVICES) };
}

async function waitUntil(what: string, ok: () => Promise<boolean> | boolean) {
  for (let i = 0; i < 600; i++) {
    if (await ok()) return;
    await sleep(50);
  }
  throw new Error(`warm-up: ${what} not reached within 30 s`);
}

/**
 * The baseline: the same messages relayed by the same broker to a subscriber that does nothing.
 * The subscriber runs in its own process, as the server does; in the bench process it would share
 * one event loop with the publishers and slow the baseline down (it did until 23 Nov: see
 * docs/server.md).
 */
async function relay(url: string, runId: string) {
  const { warm, timed } = split(runId);
  const sink = startTsNode(SINK, [url, String(DEVICES), String(TOTAL), runId]);
  try {
    await sink.waitForOutput(/^ready$/m, 30_000);
    await publishAll(url, warm, CLIENTS, WINDOW, `${runId}w`);
    await sink.waitForOutput(/^warm$/m, 30_000);
    const cpu0 = cpuMs(sink.pid);
    const { start } = await publishAll(url, timed, CLIENTS, WINDOW, runId);
    const m = await sink.waitForOutput(/^done ([\d.]+)$/m, 120_000);
    const end = Number(m[1]) - performance.timeOrigin;
    return { rate: TOTAL / ((end - start) / 1000), cpuUs: ((cpuMs(sink.pid) - cpu0) * 1000) / TOTAL };
  } finally {
    await sink.stop();
  }
}

async function throughServer(
  env: Record<string, string>,
  brokerUrl: string | null,
  runId: string,
  main = SERVER_MAIN,
  flags = SERVER_FLAGS,
) {
  const data = tempDir();
  // This build's server needs a token for /metrics, and lets the publishers into its embedded
  // broker only as the gateway of makeMessages' topics. Another build (BENCH_OTHER_SERVER_MAIN,
  // e.g. one from before accounts) gets neither: its older schema would refuse a database
  // migrated by this one, and it ignores the header and the login anyway.
  const current = main === SERVER_MAIN;
  const token = current ? await benchToken(data.dir) : 'none';
  const login =
    current && brokerUrl === null
      ? await provisionGateway({ DATA_DIR: data.dir, ...env }, `gw-${runId}`)
      : undefined;
  const proc = startProcess(process.execPath, [...flags, '--import', 'tsx', main], {
    env: { LOG_LEVEL: 'warn', PORT: '0', MQTT_PORT: '0', DATA_DIR: data.dir, ...env },
  });
  try {
    const m = await proc.waitForOutput(/"url":"([^"]+)","mqtt":"([^"]+)"/, 30_000);
    const url = m[1] as string;
    const mqttUrl = brokerUrl ?? (m[2] as string);
    await sleep(500);
    const { warm, timed } = split(runId);
    await publishAll(mqttUrl, warm, CLIENTS, WINDOW, `${runId}w`, login);
    await waitUntil(
      'warm-up readings stored',
      async () => (await metricValue(url, 'gaswatch_store_readings_written_total', token)) >= DEVICES,
    );
    const before = await metricValue(url, 'gaswatch_store_readings_written_total', token);
    const cpu0 = cpuMs(proc.pid);
    const { start, ackedAt } = await publishAll(mqttUrl, timed, CLIENTS, WINDOW, runId, login);
    const deadline = Date.now() + 120_000;
    let storedAt = 0;
    while (Date.now() < deadline) {
      if ((await metricValue(url, 'gaswatch_store_readings_written_total', token)) - before >= TOTAL) {
        storedAt = performance.now();
        break;
      }
      await sleep(20); // polled only after the publishers are done: no load while they publish
    }
    if (!storedAt) throw new Error('not all readings reached the store within 120 s');
    return {
      stored: TOTAL / ((storedAt - start) / 1000),
      acked: TOTAL / ((ackedAt - start) / 1000),
      cpuUs: ((cpuMs(proc.pid) - cpu0) * 1000) / TOTAL,
    };
  } finally {
    await proc.stop();
    data.remove();
  }
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const rows: (string | number)[][] = [];
/** msg/s of every round, for the record. */
const roundRows: (string | number)[][] = [];

/**
 * Rounds alternate baseline and server so both see the same background load (a shared machine).
 * `baseline` returns the relay URL and a stop; `server` the env and the broker URL publishers use.
 */
async function compare(
  label: string,
  baseline: () => Promise<{ url: string; stop(): Promise<void> }>,
  server: (
    round: number,
  ) => Promise<{ env: Record<string, string>; url: string | null; stop(): Promise<void> }>,
) {
  const base: number[] = [];
  const sinkCpu: number[] = [];
  const acked: number[] = [];
  const stored: number[] = [];
  const cpu: number[] = [];
  const other: number[] = [];
  const otherCpu: number[] = [];
  const runServer = async (round: number, main: string, flags: string[], tag: string) => {
    const sv = await server(round);
    try {
      return await throughServer(sv.env, sv.url, `${tag}${rows.length}-${round}`, main, flags);
    } finally {
      await sv.stop();
    }
  };
  const runOther = async (round: number) => {
    if (!OTHER_MAIN) return;
    const o = await runServer(round + 100, OTHER_MAIN, OTHER_FLAGS, 'o');
    other.push(o.stored);
    otherCpu.push(o.cpuUs);
  };
  for (let round = 0; round < ROUNDS; round++) {
    const b = await baseline();
    const r = await relay(b.url, `r${rows.length}-${round}`);
    base.push(r.rate);
    sinkCpu.push(r.cpuUs);
    await b.stop();
    // With another build to compare, the two take turns going first.
    if (round % 2 === 1) await runOther(round);
    const s = await runServer(round, SERVER_MAIN, SERVER_FLAGS, 's');
    acked.push(s.acked);
    stored.push(s.stored);
    cpu.push(s.cpuUs);
    if (round % 2 === 0) await runOther(round);
    roundRows.push([
      label,
      round + 1,
      Math.round(r.rate),
      Number(r.cpuUs.toFixed(1)),
      Math.round(s.stored),
      Number(s.cpuUs.toFixed(1)),
      ...(OTHER_MAIN
        ? [Math.round(other.at(-1) as number), Number((otherCpu.at(-1) as number).toFixed(1))]
        : []),
    ]);
  }
  const perRound = (xs: number[]) => {
    const ratio = xs.map((s, i) => s / (base[i] as number));
    return `${(100 * median(ratio)).toFixed(0)} % (${ratio.map((x) => (100 * x).toFixed(0)).join(', ')})`;
  };
  rows.push([
    label,
    Math.round(median(base)),
    Math.round(median(acked)),
    Math.round(median(stored)),
    perRound(stored),
    Number(median(cpu).toFixed(1)),
  ]);
  if (OTHER_MAIN)
    rows.push([
      `${label}, other build`,
      Math.round(median(base)),
      '',
      Math.round(median(other)),
      perRound(other),
      Number(median(otherCpu).toFixed(1)),
    ]);
}

if (CASES.has('aedes'))
  await compare(
    'aedes (embedded), embedded store',
    async () => {
      const port = await freePort();
      const r = startTsNode(RELAY, [String(port)]);
      await r.waitForOutput(/listening/);
      return { url: `mqtt://127.0.0.1:${port}`, stop: () => r.stop() };
    },
    async () => ({ env: {}, url: null, stop: async () => {} }),
  );
const mosquittoBaseline = async () => {
  const m = await startMosquitto({ extraConfig: MOSQUITTO_EXTRA });
  return { url: m.url, stop: () => m.stop() };
};
if (CASES.has('mosquitto'))
  await compare('Mosquitto (external), embedded store', mosquittoBaseline, async (round) => {
    const m = await startMosquitto({ extraConfig: MOSQUITTO_EXTRA });
    return {
      env: { MQTT_URL: m.url, MQTT_CLIENT_ID: `bench-server-${round}` },
      url: m.url,
      stop: () => m.stop(),
    };
  });
// The production shape: Mosquitto and InfluxDB.
if (CASES.has('influx')) {
  const influxd = await startInfluxd();
  await compare('Mosquitto (external), InfluxDB store', mosquittoBaseline, async (round) => {
    const m = await startMosquitto({ extraConfig: MOSQUITTO_EXTRA });
    return {
      env: {
        MQTT_URL: m.url,
        MQTT_CLIENT_ID: `bench-server-i${round}`,
        INFLUX_URL: influxd.url,
        INFLUX_DB: `bench${round}`,
      },
      url: m.url,
      stop: () => m.stop(),
    };
  });
  await influxd.stop();
}

process.stdout.write(
  `${table(
    `Ingest: ${TOTAL} QoS 1 readings (after an untimed warm-up of one per device), ${CLIENTS} publishers × ${WINDOW} in flight, ${DEVICES} devices; median of ${ROUNDS} alternating rounds (\`npm run bench -w @gaswatch/server\`)`,
    [
      'broker, store',
      'relay to null subscriber msg/s',
      'broker PUBACK to publishers msg/s',
      'whole path to store msg/s',
      'whole path / relay (per round)',
      'server CPU µs per reading',
    ],
    rows,
  )}\n`,
);
process.stdout.write(
  `${table(
    `Per round${OTHER_MAIN ? ` (other build: ${OTHER_MAIN})` : ''}`,
    [
      'broker, store',
      'round',
      'relay msg/s',
      'null subscriber CPU µs/msg',
      'whole path msg/s',
      'server CPU µs/reading',
      ...(OTHER_MAIN ? ['other build msg/s', 'other build CPU µs/reading'] : []),
    ],
    roundRows,
  )}\n`,
);
