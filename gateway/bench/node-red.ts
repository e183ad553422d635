/**
 * The gateway against Node-RED on the same detectors (issue 17), part of `npm run bench`:
 * 32 simulated gaswatch-co detectors (one firmware-sim process, Modbus TCP) read at 1 s over 4
 * connections, published QoS 1 to one loopback Mosquitto. Rounds alternate: the shipped gateway
 * bundle, then Node-RED 4 with node-red-contrib-modbus and its built-in mqtt node
 * (bench/node-red/flows.json), each a fresh process measured over the same window after it has
 * delivered a reading of every detector and settled.
 *
 * Per process and round: CPU per reading (utime + stime of /proc/PID/stat over the window, divided
 * by the readings a subscriber at the broker received in it), max VmRSS over the window (sampled
 * every 100 ms), readings delivered against the 32 per second polled.
 *
 * Node-RED is installed by the bench with npm into a temp dir (not a project dependency), kept
 * there by version for the next run. The latest node-red-contrib-modbus takes its Modbus library
 * from a registry of its own (a cloudsmith URL, unreachable here); an npm override puts the npm
 * release of the same library (modbus-serial 8.0.x, which that fork follows) in its place.
 *
 * Env: GW_BENCH_WINDOW_S (120), GW_BENCH_ROUNDS (3), GW_BENCH_NODE_RED_DIR (the install dir).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Proc, startProcess, waitFor } from '@gaswatch/shared/testing';
import mqtt from 'mqtt';
import { startRssRig } from './rss-config.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/** What gets installed; the dir name carries it, so a changed pin installs afresh. */
const NODE_RED = '4';
const CONTRIB_MODBUS = '5.60.2';
const MODBUS_SERIAL = '8.0.23';
const SETTLE_S = 10;

export interface RoundResult {
  who: 'gateway' | 'node-red';
  round: number;
  seconds: number;
  readings: number;
  /** Readings the detectors were polled for in the window: 32 per second. */
  expected: number;
  /**
   * The gateway only: readings it sampled in the window, from each device's seq range (first to
   * last seq received, inclusive). Equal to `readings` when none is missing.
   */
  sampled?: number;
  /** The gateway only: distinct (device, seq) received in the window. */
  distinct?: number;
  cpuMsPerReading: number;
  /** The kernel's part of it (system time: socket and disk syscalls). */
  sysMsPerReading: number;
  cpuPct: number;
  maxRssMb: number;
}

/** Installs Node-RED and the Modbus nodes into a temp dir once (reused while the pins stay). */
export function installNodeRed(): string {
  const dir =
    process.env.GW_BENCH_NODE_RED_DIR ??
    join(tmpdir(), `gaswatch-bench-node-red-${NODE_RED}-${CONTRIB_MODBUS}-${MODBUS_SERIAL}`);
  const red = join(dir, 'node_modules', 'node-red', 'red.js');
  if (existsSync(red) && existsSync(join(dir, 'node_modules', 'node-red-contrib-modbus'))) return red;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'gaswatch-bench-node-red',
      private: true,
      dependencies: { 'node-red': NODE_RED, 'node-red-contrib-modbus': CONTRIB_MODBUS },
      overrides: { '@openp4nr/modbus-serial': `npm:modbus-serial@${MODBUS_SERIAL}` },
    }),
  );
  console.error(`installing Node-RED ${NODE_RED} and node-red-contrib-modbus ${CONTRIB_MODBUS} into ${dir}`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return red;
}

/** CPU seconds the process has used so far: user, system. */
function cpuS(pid: number): [number, number] {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]) / 100, Number(f[12]) / 100];
}

function rssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/**
 * Measures one running process: waits for a reading of all 32 detectors on `topics`, settles,
 * then counts over `seconds`.
 */
async function measure(
  proc: Proc,
  brokerUrl: string,
  topics: string,
  seconds: number,
): Promise<Omit<RoundResult, 'who' | 'round'>> {
  let readings = 0;
  const seen = new Set<string>();
  /** Per topic, the first and last seq received in the window (gateway payloads carry one). */
  let seqs: Map<string, [number, number]> | undefined;
  /** The distinct (topic, seq) received in the window: a resent duplicate cannot hide a hole. */
  const unique = new Set<string>();
  const sub = mqtt.connect(brokerUrl);
  sub.on('message', (topic, payload) => {
    readings++;
    seen.add(topic);
    if (!seqs) return;
    const seq = /"seq":(\d+)/.exec(payload.toString())?.[1];
    if (seq === undefined) return;
    const r = seqs.get(topic);
    if (r) {
      r[0] = Math.min(r[0], Number(seq));
      r[1] = Math.max(r[1], Number(seq));
    } else seqs.set(topic, [Number(seq), Number(seq)]);
    unique.add(`${topic} ${seq}`);
  });
  try {
    await sub.subscribeAsync(topics, { qos: 1 });
    await waitFor(() => seen.size >= 32, 'a reading of every detector', 90_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}:\n${proc.output().slice(-3000)}`);
    });
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
    const r0 = readings;
    seqs = new Map();
    const c0 = cpuS(proc.pid);
    const t0 = performance.now();
    let maxRss = 0;
    await waitFor(
      () => {
        maxRss = Math.max(maxRss, rssMb(proc.pid));
        return performance.now() - t0 >= seconds * 1000;
      },
      'the window',
      seconds * 1000 + 10_000,
      100,
    );
    const c1 = cpuS(proc.pid);
    const cpu = c1[0] + c1[1] - c0[0] - c0[1];
    const elapsed = (performance.now() - t0) / 1000;
    const n = readings - r0;
    const window = seqs;
    seqs = undefined;
    const sampled = [...window.values()].reduce((a, [lo, hi]) => a + hi - lo + 1, 0);
    return {
      ...(window.size ? { sampled, distinct: unique.size } : {}),
      seconds: elapsed,
      readings: n,
      expected: Math.round(32 * elapsed),
      cpuMsPerReading: (cpu * 1000) / n,
      sysMsPerReading: ((c1[1] - c0[1]) * 1000) / n,
      cpuPct: (100 * cpu) / elapsed,
      maxRssMb: maxRss,
    };
  } finally {
    await sub.endAsync();
  }
}

/**
 * The comparison: `rounds` × (gateway, Node-RED), each over `seconds`, against one simulator and
 * one Mosquitto. `gateway` is the command line of the shipped bundle with its flags and env.
 */
export async function benchNodeRed(opts: {
  gateway: { args: string[]; env: Record<string, string> };
  seconds: number;
  rounds: number;
}): Promise<RoundResult[]> {
  const red = installNodeRed();
  const rig = await startRssRig();
  const work = join(tmpdir(), `gw-bench-nr-${process.pid}`);
  const results: RoundResult[] = [];
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      // The gateway, as shipped.
      rmSync(work, { recursive: true, force: true });
      const cfg = rig.writeConfig('gw-bench', join(work, 'gw'));
      const gw = startProcess(process.execPath, [...opts.gateway.args, '--config', cfg], {
        env: opts.gateway.env,
      });
      try {
        const r = await measure(gw, rig.broker.url, 'gaswatch/v1/gw-bench/+/reading', opts.seconds);
        results.push({ who: 'gateway', round, ...r });
        console.error(JSON.stringify(results.at(-1)));
      } finally {
        await gw.stop();
      }
      // Node-RED, as its users start it: node red.js with the flows, no flags.
      const userDir = join(work, 'node-red');
      mkdirSync(userDir, { recursive: true });
      copyFileSync(join(here, 'node-red', 'flows.json'), join(userDir, 'flows.json'));
      const nr = startProcess(
        process.execPath,
        [red, '--userDir', userDir, '--settings', join(here, 'node-red', 'settings.cjs'), 'flows.json'],
        {
          env: {
            GW_BENCH_SIM_PORT: String(rig.simPort),
            GW_BENCH_MQTT_PORT: String(new URL(rig.broker.url).port),
          },
        },
      );
      try {
        const r = await measure(nr, rig.broker.url, 'nodered/+/reading', opts.seconds);
        results.push({ who: 'node-red', round, ...r });
        console.error(JSON.stringify(results.at(-1)));
      } finally {
        await nr.stop();
      }
    }
  } finally {
    await rig.stop();
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}

/** The BENCHMARKS.md table of a comparison, with the ratios of the medians. */
export function nodeRedTable(results: RoundResult[], seconds: number): string {
  const f = (n: number, d = 2) => n.toFixed(d);
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)]!;
  };
  const of = (who: RoundResult['who']) => results.filter((r) => r.who === who);
  const cpu = (who: RoundResult['who']) => median(of(who).map((r) => r.cpuMsPerReading));
  const rss = (who: RoundResult['who']) => median(of(who).map((r) => r.maxRssMb));
  const rows = results.map(
    (r) =>
      `| ${r.round} | ${r.who === 'gateway' ? 'gaswatch gateway (bundle, as shipped)' : 'Node-RED 4 + node-red-contrib-modbus + mqtt out'} | **${f(r.cpuMsPerReading, 3)}** | ${f(r.sysMsPerReading, 3)} | ${f(r.cpuPct, 1)} % | **${f(r.maxRssMb, 1)}** | ${r.readings} / ${r.expected} (${f((100 * r.readings) / r.expected, 1)} %) | ${r.sampled === undefined ? '– (no seq)' : `${r.distinct} / ${r.sampled}${r.distinct === r.sampled ? ', no hole' : ''}`} |`,
  );
  return `| round | process | CPU ms per reading | of it system | CPU % of a core | max RSS MB | readings delivered / polled in ${seconds} s | distinct delivered / sampled (seq range) |
|---|---|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

Medians: gateway ${f(cpu('gateway'), 3)} ms per reading, ${f(rss('gateway'), 1)} MB; Node-RED ${f(cpu('node-red'), 3)} ms, ${f(rss('node-red'), 1)} MB. Gateway / Node-RED: CPU per reading **${f(cpu('gateway') / cpu('node-red'))}×**, RSS **${f(rss('gateway') / rss('node-red'))}×**.`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { shipped } = await import('./cpu-profile.js');
  const seconds = Number(process.env.GW_BENCH_WINDOW_S ?? 120);
  const rounds = Number(process.env.GW_BENCH_ROUNDS ?? 3);
  const out = join(here, '..', '.bench-build', `nr-${process.pid}`);
  execFileSync(process.execPath, [join(here, '..', 'scripts', 'build.mjs'), out], { stdio: 'ignore' });
  const { flags, env } = shipped();
  try {
    const results = await benchNodeRed({
      gateway: { args: [...flags, join(out, 'src', 'main.js')], env },
      seconds,
      rounds,
    });
    console.log(nodeRedTable(results, seconds));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
