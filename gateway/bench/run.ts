/**
 * Gateway benchmarks (SPEC §8): `npm run bench -w @gaswatch/gateway`.
 *  1. RSS of the gateway process polling 32 simulated detectors at 1 s (simulator in another process).
 *  2. Modbus RTU polls/s against a firmware-sim slave that enforces 9600-baud 8E1 wire timing, 8
 *     registers per poll, as a fraction of the wire limit computed from the frame sizes.
 *  3. CPU per reading, RSS and readings delivered of the shipped gateway against Node-RED 4 on the
 *     same detectors, alternating rounds (bench/node-red.ts; GW_BENCH_WINDOW_S, GW_BENCH_ROUNDS).
 * `--rtu-only` runs 1; `--node-red-only` runs 3.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, startPtyPair, startTsNode, waitFor } from '@gaswatch/shared/testing';
import mqtt from 'mqtt';
import pino from 'pino';
import { systemClock } from '../src/clock.js';
import { ModbusRtuBusSchema } from '../src/config.js';
import { createRtu } from '../src/drivers/modbus-rtu/driver.js';
import { bitsPerChar, interFrameGapMs } from '../src/drivers/modbus-rtu/frame.js';
import { benchNodeRed, nodeRedTable } from './node-red.js';
import { benchOutageRss } from './outage-rss.js';
import { startRssRig } from './rss-config.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const SIM = join(here, 'sim-process.ts');
const quick = process.argv.includes('--quick');

function rssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

interface RssResult {
  mode: string;
  /** Max VmRSS from the spawn until every detector has delivered a reading, plus the settling time. */
  startMaxMb: number;
  maxMb: number;
  lastMb: number;
  readingsPerS: number;
  /** CPU time of the gateway process over the steady window, % of one core. */
  cpuPct: number;
  seconds: number;
}

const SETTLE_S = 10;

/** Builds the production bundle exactly as `npm run build` does, into .bench-build/<pid>/. */
function buildBundle(): string {
  const out = join(here, '..', '.bench-build', String(process.pid));
  execFileSync(process.execPath, [join(here, '..', 'scripts', 'build.mjs'), out], { stdio: 'ignore' });
  return join(out, 'src', 'main.js');
}

/** The node flags the systemd unit (and the Dockerfile, checked by test/bundle.test.ts) ships with. */
function shippedFlags(): string[] {
  const exec =
    unit()
      .match(/^ExecStart=(.*)$/m)?.[1]
      ?.split(/\s+/) ?? [];
  return exec.slice(
    1,
    exec.findIndex((a) => a.endsWith('dist/src/main.js')),
  );
}

/** The unit's Environment= settings (MALLOC_MMAP_THRESHOLD_), as NAME → value. */
function shippedEnv(): Record<string, string> {
  return Object.fromEntries(
    [...unit().matchAll(/^Environment=([^=\s]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!] as [string, string]),
  );
}

function unit(): string {
  return readFileSync(join(here, '..', '..', 'docs', 'deploy', 'gaswatch-gateway.service'), 'utf8');
}

/** CPU seconds (user + system) the process has used so far. */
function cpuS(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
}

/**
 * RSS of one gateway process: VmRSS is sampled every 100 ms from the spawn on. The start phase
 * lasts until all 32 detectors have delivered a reading to the subscriber, plus SETTLE_S seconds;
 * then `seconds` of steady state are measured (max, last value, readings delivered per second).
 */
async function benchRss(
  mode: string,
  command: string[],
  seconds: number,
  env: Record<string, string> = {},
): Promise<RssResult> {
  const tmp = join('/tmp', `gw-bench-${process.pid}-${mode.replace(/\W+/g, '-')}`);
  const rig = await startRssRig();
  const { broker } = rig;
  rig.writeConfig('gw-bench', tmp);
  let readings = 0;
  const seen = new Set<string>();
  const sub = mqtt.connect(broker.url);
  sub.on('message', (topic) => {
    readings++;
    seen.add(topic);
  });
  await sub.subscribeAsync('gaswatch/v1/gw-bench/+/reading', { qos: 1 });
  const gw = startProcess(process.execPath, [...command, '--config', join(tmp, 'gw.yaml')], { env });
  let maxMb = 0;
  let lastMb = 0;
  const sample = () => {
    lastMb = rssMb(gw.pid);
    maxMb = Math.max(maxMb, lastMb);
  };
  try {
    await waitFor(
      () => {
        sample();
        return seen.size >= 32;
      },
      'a reading of every detector',
      60_000,
      100,
    );
    const settleEnd = Date.now() + SETTLE_S * 1000;
    await waitFor(
      () => {
        sample();
        return Date.now() >= settleEnd;
      },
      'settling',
      SETTLE_S * 1000 + 5000,
      100,
    );
    const startMaxMb = maxMb;
    maxMb = 0;
    const r0 = readings;
    const cpu0 = cpuS(gw.pid);
    const t0 = Date.now();
    await waitFor(
      () => {
        sample();
        return Date.now() - t0 >= seconds * 1000;
      },
      'rss sampling',
      seconds * 1000 + 5000,
      100,
    );
    const elapsedS = (Date.now() - t0) / 1000;
    const readingsPerS = (readings - r0) / elapsedS;
    const cpuPct = (100 * (cpuS(gw.pid) - cpu0)) / elapsedS;
    return { mode, startMaxMb, maxMb, lastMb, readingsPerS, cpuPct, seconds };
  } finally {
    await gw.stop();
    await sub.endAsync();
    await rig.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function benchRtu(): Promise<{
  polls: number;
  seconds: number;
  rate: number;
  limit: number;
  errors: number;
}> {
  const pty = await startPtyPair();
  const sim = startTsNode(SIM, ['rtu', pty.a, 'wire']);
  await sim.waitForOutput(/"ready":true/);
  const bus = ModbusRtuBusSchema.parse({
    id: 'bench',
    type: 'modbus-rtu',
    path: pty.b,
    baudRate: 9600,
    parity: 'even',
    timeoutMs: 500,
    devices: [{ id: 'x', unit: 1, profile: 'gaswatch-co', site: 's', location: 'l' }],
  });
  const driver = createRtu(bus, { logger: pino({ level: 'silent' }), clock: systemClock });
  await driver.start();
  // Warm up (JIT, pty buffers).
  for (let i = 0; i < 5; i++) await driver.readRegisters(1, 3, 0, 8);
  const seconds = quick ? 5 : 15;
  let polls = 0;
  let errors = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    try {
      const regs = await driver.readRegisters(1, 3, 0, 8);
      if (regs.length === 8) polls++;
    } catch {
      errors++;
    }
  }
  const elapsed = (performance.now() - t0) / 1000;
  await driver.stop();
  await sim.stop();
  await pty.stop();
  const charBits = bitsPerChar(8, 'even', 1);
  const charMs = (charBits * 1000) / 9600;
  const gap = interFrameGapMs(9600, charBits);
  const perPollMs = 8 * charMs + gap + (5 + 2 * 8) * charMs + gap;
  return { polls, seconds: elapsed, rate: polls / elapsed, limit: 1000 / perPollMs, errors };
}

const rtuOnly = process.argv.includes('--rtu-only');
const bundle = rtuOnly ? '' : buildBundle();
const flags = shippedFlags();
const env = shippedEnv();
// Node-RED against the gateway (issue 17): 120 s windows, 3 rounds unless the env says otherwise.
const nrSeconds = Number(process.env.GW_BENCH_WINDOW_S ?? (quick ? 20 : 120));
const nrRounds = Number(process.env.GW_BENCH_ROUNDS ?? (quick ? 1 : 3));
const nodeRed = async () => {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const results = await benchNodeRed({
    gateway: { args: [...flags, bundle], env },
    seconds: nrSeconds,
    rounds: nrRounds,
  });
  const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return `### Gateway against Node-RED (32 detectors at 1 s over Modbus TCP, QoS 1 to a loopback Mosquitto)

${nodeRedTable(results, nrSeconds)}

Load average ${load} before, ${loadAfter} after (2 cores). Node ${process.version}.
`;
};
if (process.argv.includes('--node-red-only')) {
  console.log(await nodeRed());
  rmSync(dirname(dirname(bundle)), { recursive: true, force: true });
  process.exit(0);
}
const rtu = await benchRtu();
if (rtuOnly) {
  console.log(rtu);
  process.exit(0);
}
const envText = Object.entries(env)
  .map(([k, v]) => `${k}=${v} `)
  .join('');
// The shipped figure runs 120 s: long enough for several cycles of the V8 heap's sawtooth.
const rssRuns = [
  await benchRss(
    `as shipped: bundle, ${envText}node ${flags.join(' ')}`,
    [...flags, bundle],
    quick ? 20 : 120,
    env,
  ),
  await benchRss(
    'development: bin through tsx from source',
    [join(here, '..', 'bin', 'gaswatch-gateway.js')],
    quick ? 15 : 60,
  ),
  await benchRss('bundle, node without flags', [bundle], quick ? 15 : 60),
  // What the heap trim buys and costs, in the same run: the shipped setup without --expose-gc.
  await benchRss(
    `as shipped without --expose-gc (heap trim off): ${envText}node ${flags.filter((x) => x !== '--expose-gc').join(' ')}`,
    [...flags.filter((x) => x !== '--expose-gc'), bundle],
    quick ? 20 : 120,
    env,
  ),
];
const outage = await benchOutageRss([...flags, bundle], env, quick ? 20 : 60);
const nodeRedText = await nodeRed();
if (!process.argv.includes('--keep-build'))
  rmSync(dirname(dirname(bundle)), { recursive: true, force: true });
const f = (n: number, d = 1) => n.toFixed(d);
console.log(`
## gateway (\`npm run bench -w @gaswatch/gateway\`${quick ? ' -- --quick' : ''})

| benchmark | figure | target |
|---|---|---|
| RTU polls/s, 9600 8E1, 8 registers, firmware-sim with wire timing | ${f(rtu.rate, 2)} polls/s = **${f((100 * rtu.rate) / rtu.limit)} %** of the wire limit ${f(rtu.limit, 2)} polls/s (${rtu.polls} polls in ${f(rtu.seconds)} s, ${rtu.errors} errors) | ≥ 90 % |
${rssRuns.map((r) => `| gateway RSS, 32 detectors at 1 s over Modbus TCP (sim in another process), ${r.mode} | max **${f(r.maxMb)} MB**, last ${f(r.lastMb)} MB over ${r.seconds} s (start: max ${f(r.startMaxMb)} MB); ${f(r.readingsPerS)} readings/s delivered; CPU ${f(r.cpuPct)} % of a core | ≤ 60 MB |`).join('\n')}
| gateway RSS through an uplink outage, as shipped: Mosquitto stopped ${outage.outageS} s, then restarted | max **${f(outage.beforeMb)} MB** before, **${f(outage.outageMb)} MB** during the outage, **${f(outage.replayMb)} MB** while replaying; ${outage.backlog} readings backlog replayed without a hole in ${f(outage.replayS)} s | ≤ 60 MB |

Wire limit per poll: request 8 bytes + 3.5-char gap + response 21 bytes + 3.5-char gap at 11 bits/char.
RSS is VmRSS of the gateway process, sampled every 100 ms from its spawn. "start" is the maximum until every
detector has delivered a reading plus ${SETTLE_S} s; the max and last figures are of the steady state after it.

${nodeRedText}`);
