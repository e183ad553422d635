/**
 * Scale: what one server carries per device (issue 18). For each N (distinct devices, default
 * 1 000, 10 000, 100 000; up to 1 000 000 with BENCH_SCALE_MAX=1000000) a fresh server (embedded
 * broker; embedded store, or InfluxDB with BENCH_STORE=influx) takes:
 *
 *  1. a warm-up round: each device's DeviceState (retained, as gateways publish it) and a first
 *     reading, as fast as the broker takes them (each device's first reading after a start costs a
 *     store lookup and a rule rebuild: a one-off, not the steady state);
 *  2. steady rounds (BENCH_STEADY_ROUNDS, 2) of one reading per device, stamped a minute apart in
 *     event time. All but the last run as fast as they go (they only bring each device to its
 *     steady state); the last, once the store has caught up, runs at one reading per device per
 *     "minute", the wall-clock minute scaled to max(MIN_PERIOD_S, N / BENCH_RATE) seconds (2 000
 *     readings/s: a million devices' round in 500 s; the devices' DeviceState announces that poll
 *     interval, so none of them goes offline). During it, alarms are raised on LAT_SAMPLES (200)
 *     combustible detectors one at a time, spread over the round, and their latency measured,
 *     MQTT publish → /api/live 'alarm'; and the server's event-loop delay over the round is
 *     reported (memory-probe.mjs; BENCH_CPU_PROF=1 also writes a CPU profile of the round into
 *     BENCH_CPU_PROF_DIR);
 *  3. the memory of the server at that steady state, after a full GC (a probe preloaded into the
 *     server: memory-probe.mjs): RSS and V8 heap, per device = (at N − idle) / N; with
 *     BENCH_HEAP_AT=10000,100000 a heap snapshot at those N, summarised by constructor;
 *  4. rounds as fast as they go (at least 50 000 readings): the ingest rate, publish → stored,
 *     at N known devices;
 *  5. a restart (SIGTERM, same DATA_DIR) with an open gas alarm written into SQL for every 100th
 *     device (and the offline alarms the server had open): spawn → /readyz 200, with a gateway
 *     publishing one reading for each of min(N, 1 000) devices from the moment the broker lets it
 *     in; every one of them must be accepted (none lost), and the open alarms are counted.
 *
 *   node --import tsx server/bench/scale.ts   (BENCH_SCALE=1000,10000 to choose; BENCH_STORE=influx)
 */
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { encodePayload, topics } from '@gaswatch/shared';
import type { Proc } from '@gaswatch/shared/testing';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { type Alarm, alarmIdFor } from '../src/alarms/model.js';
import { appendAlarmEvents } from '../src/db/alarm-records.js';
import { openDatabase } from '../src/db/database.js';
import type { AlarmEventRecord } from '../src/store/types.js';
import { lelProbeState, metricValue, openLive, sleep, table } from './common.js';
import { provisionGateway, startInfluxd, startProcess, tempDir } from './harness.js';
import { summariseHeapSnapshot } from './heap-summary.js';
import { benchToken } from './token.js';

const SERVER_MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const PROBE = new URL('./memory-probe.mjs', import.meta.url).pathname;
const MAX = Number(process.env.BENCH_SCALE_MAX ?? 100_000);
const SCALES = (process.env.BENCH_SCALE ?? '1000,10000,100000,1000000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0 && n <= MAX);
/**
 * Readings per second the measured steady round runs at (the scaled minute is N / this, at least
 * MIN_PERIOD_S). Well inside what the server ingests at every N (the fast rounds: 7 000 readings/s
 * and more at a million devices on two shared cores), so the alarm latency is the engine's and not
 * a queue's: at 5 000/s a million devices' round was beyond a 6 GB server and p99 was queueing.
 */
const RATE = Number(process.env.BENCH_RATE ?? 2_000);
const MIN_PERIOD_S = 20;
/** Publishers: one MQTT connection per gateway, each with this many QoS 1 messages in flight. */
const GATEWAYS = 4;
const WINDOW = 256;
/** Alarm latency probes, spread over the measured round: enough that p99 is not one probe. */
const LAT_SAMPLES = Number(process.env.BENCH_PROBES ?? 200);
/** Devices of every hundred given an open gas alarm (in SQL) before the restart. */
const OPEN_ALARM_EVERY = 100;
/**
 * Steady rounds before memory is read (the last with the latency probes). 2 shows the cost of a
 * device just after its start; 17 (17 minutes of event time) the long run, with the rules' 15-min
 * replay window full.
 */
const STEADY_ROUNDS = Number(process.env.BENCH_STEADY_ROUNDS ?? 2);
const RESTART_READINGS = 1_000;
/** Readings of the as-fast-as-it-goes rounds, at least (several rounds at a small N). */
const FAST_MIN = 50_000;
const HEAP_AT = new Set((process.env.BENCH_HEAP_AT ?? '').split(',').filter(Boolean).map(Number));
const USE_INFLUX = process.env.BENCH_STORE === 'influx';
/**
 * The node flags the server ships with (the systemd unit's ExecStart, which the Dockerfile and
 * `npm start` repeat): the bench measures what runs in production.
 */
function shippedFlags(): string {
  const unit = readFileSync(new URL('../../docs/deploy/gaswatch-server.service', import.meta.url), 'utf8');
  return /^ExecStart=\S+ (.*?)\S+dist\/src\/main\.js/m.exec(unit)?.[1] ?? '';
}
/**
 * Node flags for the server: the shipped ones unless set (empty: none, to compare), e.g.
 * `--heap-growing-percent=20 --max-old-space-size=12288` for a million devices.
 */
const SERVER_FLAGS = (process.env.BENCH_SERVER_NODE_FLAGS ?? shippedFlags()).split(' ').filter(Boolean);

const gwOf = (i: number) => `gws-${i % GATEWAYS}`;
const devOf = (i: number) => `s${i}`;

interface Memory {
  rss: number;
  heapUsed: number;
  /** V8's heap as reserved from the system (used + free space in its pages). */
  heapTotal: number;
  /** Memory of Buffers and other objects outside V8's heap that V8 knows of. */
  external: number;
  /** Resident bytes by kind of mapping (memory-probe.mjs): what RSS holds beyond V8's heap. */
  smaps: Record<string, number> | null;
  /** V8's heap by space: used and committed bytes. */
  spaces: Record<string, { used: number; committed: number }>;
}

/** Full GC in the server, then its memory (memory-probe.mjs answers SIGWINCH with a JSON line). */
/** Probes and snapshots asked of each server process so far (its probe counts from 1). */
const asked = new WeakMap<Proc, { probes: number; snapshots: number; loops: number }>();
const askedOf = (proc: Proc) => {
  let a = asked.get(proc);
  if (a === undefined) {
    a = { probes: 0, snapshots: 0, loops: 0 };
    asked.set(proc, a);
  }
  return a;
};
async function memoryOf(proc: Proc): Promise<Memory> {
  const n = ++askedOf(proc).probes;
  process.kill(proc.pid, 'SIGWINCH');
  const m = await proc.waitForOutput(new RegExp(`(\\{"benchMemory":\\{"n":${n},.*\\}\\})\\n`), 120_000);
  return (JSON.parse(m[1] as string) as { benchMemory: Memory }).benchMemory;
}

interface LoopDelay {
  max: number;
  p99: number;
  p50: number;
  mean: number;
  cpuProfile?: string;
}

/** The server's event-loop delay (ms) since the last call, and counting again from now (SIGPWR). */
async function loopDelayOf(proc: Proc): Promise<LoopDelay> {
  const n = ++askedOf(proc).loops;
  process.kill(proc.pid, 'SIGPWR');
  const m = await proc.waitForOutput(new RegExp(`"benchLoop":(\\{"n":${n},[^}]*\\})`), 120_000);
  return JSON.parse(m[1] as string) as LoopDelay;
}

/** The server's open alarms, all severities and states (gaswatch_alarms_open summed). */
async function openAlarms(baseUrl: string, token: string): Promise<number> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  let sum = 0;
  for (const l of text.split('\n'))
    if (l.startsWith('gaswatch_alarms_open{')) sum += Number(l.slice(l.lastIndexOf(' ') + 1));
  return sum;
}

/**
 * Writes an open gas alarm for every OPEN_ALARM_EVERY-th device into the server's SQL records (the
 * server stopped), as the engine records a raise: the restart must rebuild them.
 */
async function seedOpenAlarms(dataDir: string, n: number, at: number): Promise<number> {
  const log = pino({ level: 'warn' });
  const { db } = await openDatabase({ kind: 'sqlite', file: join(dataDir, 'gaswatch.db') }, log);
  let count = 0;
  try {
    let batch: AlarmEventRecord[] = [];
    for (let i = 0; i < n; i += OPEN_ALARM_EVERY) {
      const dev = devOf(i);
      const key = 'CO:dose';
      const alarm: Alarm = {
        id: alarmIdFor(dev, key, at),
        gw: gwOf(i),
        dev,
        site: `site-${i % 1000}`,
        key,
        rule: 'dose',
        profile: 'en50291',
        gas: 'CO',
        severity: 'critical',
        state: 'active',
        message: `${dev}: CO 400 ppm (bench)`,
        value: 400,
        threshold: 300,
        unit: 'ppm',
        raisedAt: at,
        detectedAt: at,
        late: false,
        clearedAt: null,
        ack: null,
        tier: 1,
        lastNotifiedAt: at,
        seq: 1,
        episode: 1,
      };
      batch.push({
        id: `${alarm.id}#1`,
        alarmId: alarm.id,
        ts: at,
        data: { type: 'raised', seq: 1, state: 'active', alarm },
      });
      count++;
      if (batch.length === 5_000) {
        await appendAlarmEvents(db, batch);
        batch = [];
      }
    }
    if (batch.length > 0) await appendAlarmEvents(db, batch);
  } finally {
    await db.destroy();
  }
  return count;
}

async function heapSnapshot(proc: Proc): Promise<string> {
  const n = ++askedOf(proc).snapshots;
  process.kill(proc.pid, 'SIGURG');
  const m = await proc.waitForOutput(new RegExp(`"benchHeapSnapshot":\\{"n":${n},"file":"([^"]+)"`), 600_000);
  return m[1] as string;
}

/**
 * The server's RSS as it runs, without a forced GC (the figure an operator sees): sampled from
 * /proc every 250 ms while `during` runs; mean and max. The GC'd figure of memoryOf is the floor.
 */
async function rssWhile<T>(pid: number, during: Promise<T>): Promise<{ mean: number; max: number }> {
  let done = false;
  let sum = 0;
  let count = 0;
  let max = 0;
  const sample = () => {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (kb === undefined) return;
      const b = Number(kb) * 1024;
      sum += b;
      count++;
      if (b > max) max = b;
    } catch {
      // not Linux, or the process is gone: no figure
    }
  };
  void during.finally(() => {
    done = true;
  });
  // Bounded: a steady round lasts minutes at most.
  for (let k = 0; k < 100_000 && !done; k++) {
    sample();
    await sleep(250);
  }
  await during;
  return { mean: count > 0 ? sum / count : Number.NaN, max };
}

/**
 * Publishes one message per device i in [0, n) from the gateways' connections (device i on gateway
 * i mod GATEWAYS), at most `rate` per second in all (null: as fast as PUBACKs come back).
 */
async function round(
  clients: MqttClient[],
  n: number,
  message: (i: number) => { topic: string; payload: Buffer; retain?: boolean },
  rate: number | null,
): Promise<void> {
  const t0 = performance.now();
  await Promise.all(
    clients.map(
      (c, ci) =>
        new Promise<void>((resolve, reject) => {
          const mine = Math.ceil((n - ci) / GATEWAYS);
          let next = 0;
          let done = 0;
          let waiting = false;
          const pump = () => {
            waiting = false;
            const allowed =
              rate === null ? mine : Math.floor((((performance.now() - t0) / 1000) * rate) / GATEWAYS) + 1;
            while (next < mine && next - done < WINDOW && next < allowed) {
              const m = message(ci + next * GATEWAYS);
              next++;
              c.publish(m.topic, m.payload, { qos: 1, retain: m.retain ?? false }, (err) => {
                if (err) return reject(err);
                done++;
                if (done === mine) resolve();
                else if (!waiting) pump();
              });
            }
            if (next < mine && next >= allowed && !waiting) {
              waiting = true;
              setTimeout(pump, 10);
            }
          };
          if (mine <= 0) resolve();
          else pump();
        }),
    ),
  );
}

const reading = (i: number, seq: number, t: number) => ({
  topic: topics.reading(gwOf(i), devOf(i)),
  payload: encodePayload('reading', {
    v: 1,
    ts: new Date(t).toISOString(),
    seq,
    values: { CO: 2 },
    status: 'ok',
  }),
});

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await sleep(200);
  }
  throw new Error(`${what}: not reached within ${timeoutMs / 1000} s`);
}

interface ScaleResult {
  n: number;
  periodS: number;
  idle: Memory;
  steady: Memory;
  warmS: number;
  rate: number;
  p50: number;
  p99: number;
  /** Event-loop delay over the measured steady round, ms. */
  loop: LoopDelay;
  restartMs: number;
  restartAccepted: number;
  /** RSS while the last steady round ran, no forced GC: mean and max. */
  running: { mean: number; max: number };
  /** Open alarms the server rebuilt at the restart (seeded gas alarms and offline ones). */
  restartOpen: number;
  seeded: number;
  heap?: { file: string; rows: Awaited<ReturnType<typeof summariseHeapSnapshot>> };
}

async function connectAll(url: string, logins: { username: string; password: string }[], tag: string) {
  return Promise.all(
    logins.map((l) =>
      mqtt.connectAsync(url, { clientId: `${tag}-${l.username}`, reconnectPeriod: 200, ...l }),
    ),
  );
}

async function atScale(n: number, influxUrl: string | null): Promise<ScaleResult> {
  const data = tempDir();
  const token = await benchToken(data.dir);
  const logins = [];
  for (let g = 0; g < GATEWAYS; g++) logins.push(await provisionGateway({ DATA_DIR: data.dir }, `gws-${g}`));
  const latLogin = await provisionGateway({ DATA_DIR: data.dir }, 'gw-lat');
  const env: Record<string, string> = {
    LOG_LEVEL: 'warn',
    PORT: '0',
    MQTT_PORT: '0',
    DATA_DIR: data.dir,
    BENCH_HEAP_DIR: data.dir,
    ...(influxUrl ? { INFLUX_URL: influxUrl, INFLUX_DB: `scale${n}` } : {}),
  };
  // BENCH_RESTART_PROF=DIR: a CPU profile of the restarted server into DIR (its start-up first).
  const restartProf = process.env.BENCH_RESTART_PROF;
  const start = (again = false) =>
    startProcess(
      process.execPath,
      [
        ...SERVER_FLAGS,
        ...(again && restartProf ? ['--cpu-prof', `--cpu-prof-dir=${restartProf}`] : []),
        '--expose-gc',
        '--import',
        PROBE,
        '--import',
        'tsx',
        SERVER_MAIN,
      ],
      {
        env,
        echo: process.env.BENCH_ECHO === '1',
        name: 'server',
      },
    );
  let proc = start();
  const clients: MqttClient[] = [];
  try {
    const m = await proc.waitForOutput(/"url":"([^"]+)","mqtt":"([^"]+)"/, 60_000);
    const url = m[1] as string;
    const mqttUrl = m[2] as string;
    const mqttPort = new URL(mqttUrl).port;
    // The restart must come back on the same ports (the gateways' configured broker).
    env.PORT = new URL(url).port;
    env.MQTT_PORT = mqttPort;
    const stored = () => metricValue(url, 'gaswatch_store_readings_written_total', token);
    await sleep(2_000);
    const idle = await memoryOf(proc);

    clients.push(...(await connectAll(mqttUrl, logins, 'scale')));
    const lat = await mqtt.connectAsync(mqttUrl, { clientId: 'scale-lat', ...latLogin });
    const periodS = Math.max(MIN_PERIOD_S, n / RATE);
    const pollIntervalS = Math.max(60, Math.ceil(periodS));
    // Event time: a device's k-th reading is stamped k minutes after its first, as a device
    // reporting once a minute stamps them (the rules' replay window and de-duplication hold a
    // device's last 15 min and 128 readings, whatever the wall clock). The first is stamped far
    // enough back that the last is not ahead of the server's clock.
    const fastRounds = Math.ceil(FAST_MIN / n);
    const rounds = 1 + STEADY_ROUNDS + fastRounds + 1;
    const t0 = Date.now() - (rounds + 1) * 60_000;
    const at = (k: number) => t0 + k * 60_000;

    // 1. Warm-up: state (retained) and a first reading per device.
    const w0 = performance.now();
    await round(
      clients,
      n,
      (i) => ({
        topic: topics.state(gwOf(i), devOf(i)),
        payload: encodePayload('state', {
          v: 1,
          ts: new Date(t0).toISOString(),
          online: true,
          model: 'gaswatch-co',
          kind: 'household-co',
          site: `site-${i % 1000}`,
          location: 'bedroom',
          lastError: null,
          pollIntervalS,
        }),
        retain: true,
      }),
      null,
    );
    await round(clients, n, (i) => reading(i, 0, t0), null);
    for (let k = 0; k < LAT_SAMPLES; k++) {
      const dev = `lat-${k}`;
      await lat.publishAsync(topics.state('gw-lat', dev), lelProbeState(new Date(t0).toISOString(), 3_600), {
        qos: 1,
        retain: true,
      });
      await lat.publishAsync(
        topics.reading('gw-lat', dev),
        encodePayload('reading', {
          v: 1,
          ts: new Date(t0).toISOString(),
          seq: 0,
          values: { LEL: 0 },
          status: 'ok',
        }),
        { qos: 1 },
      );
    }
    await waitFor('warm-up stored', async () => (await stored()) >= n + LAT_SAMPLES, 1_800_000);
    const warmS = (performance.now() - w0) / 1000;

    // 2. Steady rounds, the last with alarm latency probes. The ones before it only bring every
    // device to its steady state: as fast as they go, then the store catches up, so the measured
    // round starts with no backlog.
    const rate = n / periodS;
    for (let k = 1; k < STEADY_ROUNDS; k++) await round(clients, n, (i) => reading(i, k, at(k)), null);
    await waitFor(
      'rounds before the measured one stored',
      async () => (await stored()) >= STEADY_ROUNDS * n + LAT_SAMPLES,
      1_800_000,
    );
    const ws = await openLive(url, token);
    const arrivals = new Map<string, number>();
    ws.on('message', (raw) => {
      const text = String(raw);
      if (!text.startsWith('{"type":"alarm"')) return;
      const msg = JSON.parse(text) as { data: { dev: string; state: string } };
      if (msg.data.state === 'active' && !arrivals.has(msg.data.dev))
        arrivals.set(msg.data.dev, performance.now());
    });
    const latencies: number[] = [];
    await loopDelayOf(proc); // counts from here
    const probing = (async () => {
      await sleep(1_000);
      for (let k = 0; k < LAT_SAMPLES; k++) {
        const dev = `lat-${k}`;
        const t = performance.now();
        lat.publish(
          topics.reading('gw-lat', dev),
          encodePayload('reading', {
            v: 1,
            ts: new Date().toISOString(),
            seq: 1,
            values: { LEL: 40 },
            status: 'ok',
          }),
          { qos: 1 },
        );
        const deadline = Date.now() + 10_000;
        while (!arrivals.has(dev) && Date.now() < deadline) await sleep(1);
        const a = arrivals.get(dev);
        if (a === undefined) throw new Error(`no alarm for ${dev} within 10 s`);
        latencies.push(a - t);
        await sleep(Math.max(20, (periodS * 1000 * 0.8) / LAT_SAMPLES));
      }
    })();
    const running = await rssWhile(
      proc.pid,
      Promise.all([round(clients, n, (i) => reading(i, STEADY_ROUNDS, at(STEADY_ROUNDS)), rate), probing]),
    );
    const loop = await loopDelayOf(proc);
    ws.close();
    await lat.endAsync();
    await waitFor(
      'steady rounds stored',
      async () => (await stored()) >= (1 + STEADY_ROUNDS) * n + 2 * LAT_SAMPLES,
      600_000,
    );
    await sleep(1_000);
    const steady = await memoryOf(proc);
    let heap: ScaleResult['heap'];
    if (HEAP_AT.has(n)) {
      const file = await heapSnapshot(proc);
      heap = { file, rows: await summariseHeapSnapshot(file) };
      // BENCH_HEAP_KEEP=DIR: keep the snapshot there (to follow retainers in DevTools).
      if (process.env.BENCH_HEAP_KEEP) copyFileSync(file, join(process.env.BENCH_HEAP_KEEP, basename(file)));
      rmSync(file, { force: true });
    }

    // 4. As fast as it goes.
    const before = await stored();
    const r0 = performance.now();
    // At least FAST_MIN readings, so the rate of a small N is not the time of one poll.
    const first = STEADY_ROUNDS + 1;
    for (let k = first; k < first + fastRounds; k++)
      await round(clients, n, (i) => reading(i, k, at(k)), null);
    await waitFor('fast rounds stored', async () => (await stored()) >= before + fastRounds * n, 1_800_000);
    const ingestRate = (fastRounds * n) / ((performance.now() - r0) / 1000);
    await Promise.all(clients.splice(0).map((c) => c.endAsync()));

    // 5. Restart with N known devices; readings published meanwhile must all be accepted.
    await proc.stop('SIGTERM', 120_000);
    const seeded = await seedOpenAlarms(data.dir, n, at(rounds - 2));
    const s0 = performance.now();
    proc = start(true);
    const m2 = Math.min(RESTART_READINGS, n);
    const publishing = (async () => {
      // Retries every 20 ms until the restarted broker lets the gateway in (as a gateway's client does).
      const c = mqtt.connect(mqttUrl, { clientId: 'scale-restart', reconnectPeriod: 20, ...logins[0] });
      c.on('error', () => {}); // refused until the broker listens again
      clients.push(c);
      await new Promise((resolve) => c.once('connect', resolve));
      // Gateway 0's devices: i = 0, GATEWAYS, 2 × GATEWAYS, ...
      await Promise.all(
        Array.from({ length: m2 }, (_, k) => {
          const r = reading(k * GATEWAYS, rounds - 1, at(rounds - 1));
          return c.publishAsync(r.topic, r.payload, { qos: 1 });
        }),
      );
    })();
    publishing.catch(() => {}); // awaited below, after /readyz
    let restartMs = Number.NaN;
    const base = `http://127.0.0.1:${env.PORT}`;
    for (let k = 0; k < 36_000; k++) {
      const ok = await fetch(`${base}/readyz`)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) {
        restartMs = performance.now() - s0;
        break;
      }
      await sleep(50);
    }
    await publishing;
    const accepted = () => metricValue(base, 'gaswatch_ingest_readings_total', token);
    await waitFor('readings during restart accepted', async () => (await accepted()) >= m2, 600_000);
    const restartAccepted = await accepted();
    const restartOpen = await openAlarms(base, token);
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
    return {
      n,
      periodS,
      idle,
      steady,
      warmS,
      rate: ingestRate,
      p50: pct(50),
      p99: pct(99),
      loop,
      restartMs,
      restartAccepted: restartAccepted / m2,
      running,
      restartOpen,
      seeded,
      heap,
    };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await proc.stop('SIGTERM', 60_000);
    data.remove();
  }
}

const mb = (b: number) => (b / 2 ** 20).toFixed(1);
const influxd = USE_INFLUX ? await startInfluxd() : null;
const results: ScaleResult[] = [];
try {
  for (const n of SCALES) {
    const r = await atScale(n, influxd?.url ?? null);
    results.push(r);
    const perDev = (r.steady.rss - r.idle.rss) / n;
    console.error(
      `N=${n}: RSS ${(r.idle.rss / 2 ** 20).toFixed(1)} → ${(r.steady.rss / 2 ** 20).toFixed(1)} MB (${perDev.toFixed(0)} B/device), heap ${((r.steady.heapUsed - r.idle.heapUsed) / n).toFixed(0)} B/device (reserved ${((r.steady.heapTotal - r.idle.heapTotal) / n).toFixed(0)}, external ${((r.steady.external - r.idle.external) / n).toFixed(0)}), rate ${r.rate.toFixed(0)}/s, p99 ${r.p99.toFixed(1)} ms (p50 ${r.p50.toFixed(1)}), loop delay max ${r.loop.max} p99 ${r.loop.p99} ms, restart ${r.restartMs.toFixed(0)} ms with ${r.restartOpen} open alarms (${r.seeded} seeded)${r.loop.cpuProfile ? `, CPU profile ${r.loop.cpuProfile}` : ''}`,
    );
    console.error(
      `  RSS while the last steady round ran (no forced GC): mean ${mb(r.running.mean)} MB (${((r.running.mean - r.idle.rss) / n).toFixed(0)} B/device), max ${mb(r.running.max)} MB (${((r.running.max - r.idle.rss) / n).toFixed(0)} B/device)`,
    );
    if (r.steady.smaps && r.idle.smaps) {
      const by = Object.keys(r.steady.smaps)
        .map((k) => `${k} ${(((r.steady.smaps?.[k] ?? 0) - (r.idle.smaps?.[k] ?? 0)) / n).toFixed(0)}`)
        .join(', ');
      console.error(`  RSS by mapping, B/device: ${by}`);
    }
    const spaces = Object.keys(r.steady.spaces)
      .map((k) => {
        const a = r.steady.spaces[k];
        const b = r.idle.spaces[k];
        if (!a || !b) return '';
        return `${k} ${((a.used - b.used) / n).toFixed(0)}/${((a.committed - b.committed) / n).toFixed(0)}`;
      })
      .filter(Boolean)
      .join(', ');
    console.error(`  V8 spaces, used/committed B/device: ${spaces}`);
    if (r.heap) {
      console.error(`heap snapshot at N=${n}, by constructor (top 25, bytes per device):`);
      for (const row of r.heap.rows.slice(0, 25))
        console.error(
          `  ${row.type}\t${row.name}\t${row.count}\t${row.bytes}\t${(row.bytes / n).toFixed(0)}`,
        );
    }
  }
} finally {
  await influxd?.stop();
}
const base = results.find((r) => r.n === 1_000) ?? results[0];
process.stdout.write(
  `${table(
    `Scale: N distinct devices at one reading per scaled minute, ${STEADY_ROUNDS} steady rounds, ${USE_INFLUX ? 'InfluxDB' : 'embedded'} store, embedded broker, server node flags \`${SERVER_FLAGS.join(' ') || '(none)'}\` (\`node --import tsx server/bench/scale.ts\`)`,
    [
      'devices',
      'scaled minute s',
      'RSS idle → steady MB',
      'RSS per device B (after GC)',
      'RSS per device B (running, mean)',
      'heap per device B',
      'warm-up s',
      'ingest readings/s',
      'alarm p99 ms (p50)',
      'p99 / at 1 000',
      'loop delay max ms (p99)',
      'restart → /readyz ms',
      'open alarms at restart',
      'readings during restart accepted',
    ],
    results.map((r) => [
      r.n,
      Math.round(r.periodS),
      `${mb(r.idle.rss)} → ${mb(r.steady.rss)}`,
      Math.round((r.steady.rss - r.idle.rss) / r.n),
      Math.round((r.running.mean - r.idle.rss) / r.n),
      Math.round((r.steady.heapUsed - r.idle.heapUsed) / r.n),
      r.warmS,
      Math.round(r.rate),
      `${r.p99.toFixed(1)} (${r.p50.toFixed(1)})`,
      base ? `${(r.p99 / base.p99).toFixed(2)}×` : '',
      `${r.loop.max} (${r.loop.p99})`,
      Math.round(r.restartMs),
      r.restartOpen,
      `${(100 * r.restartAccepted).toFixed(0)} %`,
    ]),
  )}\n`,
);
