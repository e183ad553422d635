/**
 * Where the gateway's CPU goes per reading: `node --import tsx bench/cpu-profile.ts [seconds]
 * [--plain] [--settle S] [--bundle DIR] [--without=FLAG] [--top] [-- node flags]`
 * (`GW_BENCH_ENV='NAME=v …'` adds to the gateway's environment).
 *
 * Runs the bundle (built here with a source map, or the one in DIR, built by `scripts/build.mjs
 * DIR --sourcemap`) with the shipped flags of the systemd unit plus `--cpu-prof`, polling the 32
 * simulated Modbus TCP detectors of the RSS bench at 1 s, QoS 1 to a loopback Mosquitto. After the
 * start-up and SETTLE_S it measures `seconds`:
 *  - the process's CPU (utime + stime of /proc/PID/stat, and stime alone) per reading delivered to
 *    a subscriber, and the same split by thread (/proc/PID/task: the main thread, libuv's pool
 *    where LevelDB writes and fsyncs, V8's GC helpers; with the profiler on, its sampling thread
 *    is counted with the pool, ~0.8 ms per reading);
 *  - the main thread's CPU profile of that window, each sample charged to a slice of the work by
 *    the source file of the innermost frame that has one (a builtin such as JSON.stringify is
 *    charged to the code that called it), through the bundle's source map.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, waitFor } from '@gaswatch/shared/testing';
import mqtt from 'mqtt';
import { startRssRig } from './rss-config.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const own = dashes >= 0 ? argv.slice(0, dashes) : argv;
const extraFlags = dashes >= 0 ? argv.slice(dashes + 1) : [];
const seconds = Number(own.find((a) => /^\d+$/.test(a)) ?? 60);
const bundleDir = own.includes('--bundle') ? own[own.indexOf('--bundle') + 1] : undefined;
/** `--without=--lite-mode`: leave a shipped flag out (to try another flag set). */
const without = own.filter((a) => a.startsWith('--without=')).map((a) => a.slice('--without='.length));
/** `--settle S`: seconds to wait after every detector has delivered, before the window (10). */
const settle = own.includes('--settle') ? Number(own[own.indexOf('--settle') + 1]) : undefined;
const SETTLE_S = 10;

/** The node flags and environment of the systemd unit (as bench/run.ts reads them). */
export function shipped(): { flags: string[]; env: Record<string, string> } {
  const unit = readFileSync(join(here, '..', '..', 'docs', 'deploy', 'gaswatch-gateway.service'), 'utf8');
  const exec = unit.match(/^ExecStart=(.*)$/m)?.[1]?.split(/\s+/) ?? [];
  return {
    flags: exec.slice(
      1,
      exec.findIndex((a) => a.endsWith('dist/src/main.js')),
    ),
    env: Object.fromEntries(
      [...unit.matchAll(/^Environment=([^=\s]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!] as [string, string]),
    ),
  };
}

/** CPU ticks (utime + stime, 1/100 s) of a process or of one of its threads; `sys`: stime alone. */
function ticks(statPath: string): { name: string; t: number; sys: number } {
  const s = readFileSync(statPath, 'utf8');
  const name = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { name, t: Number(f[11]) + Number(f[12]), sys: Number(f[12]) };
}

function rssOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1]) / 1024;
}

/**
 * Ticks per kind of thread. All of node's threads are called "node", so they are told apart by
 * when they were started (their tids in order): node starts one helper thread and V8's platform
 * workers (`--v8-pool-size`, 4; GC helpers and, without lite mode, the optimizing compilers) at
 * start-up, before any JavaScript runs; libuv's pool (LevelDB writes and fsyncs) and LevelDB's
 * compaction thread come later, at the outbox's first use.
 */
function threadTicks(pid: number): Map<string, number> {
  const m = new Map<string, number>();
  const tids = readdirSync(`/proc/${pid}/task`)
    .map(Number)
    .sort((a, b) => a - b);
  tids.forEach((tid, i) => {
    try {
      const { t } = ticks(`/proc/${pid}/task/${tid}/stat`);
      const key =
        tid === pid
          ? 'main thread (JS)'
          : i >= 2 && i <= 5
            ? 'V8 platform workers (GC helpers, compilers)'
            : i > 5
              ? 'libuv pool and LevelDB (writes, fsyncs, compaction)'
              : 'node helper thread';
      m.set(key, (m.get(key) ?? 0) + t);
    } catch {
      // the thread ended meanwhile
    }
  });
  return m;
}

/** Which slice of the work a source file belongs to. */
function sliceOf(source: string): string | undefined {
  const rules: [RegExp, string][] = [
    [
      /gateway\/src\/drivers\/modbus-tcp\/|gateway\/src\/drivers\/serial-queue|modbus-rtu\/frame/,
      'Modbus request/response (framing, transaction, timeout timer)',
    ],
    [/gateway\/src\/modbus\/|shared\/src\/(registers|profiles?)/, 'decoding registers into a sample'],
    [
      /gateway\/src\/local-alarms|shared\/src\/alarm|shared\/src\/rules|shared\/src\/dose|shared\/src\/stel/,
      'local alarm step',
    ],
    [/node_modules\/zod\//, 'schema checks (zod)'],
    [
      /gateway\/src\/outbox|node_modules\/(classic-level|abstract-level|module-error|maybe-combine-errors|napi-macros|node-gyp-build)\//,
      'outbox (LevelDB put/batch/del, JSON of the record)',
    ],
    [
      /gateway\/src\/mqtt\/|node_modules\/(mqtt|mqtt-packet|bl|readable-stream|debug|ms|number-allocator|rfdc|commist|help-me|lru-cache|split2|reinterval|js-sdsl|process-nextick-args|buffer|events|string_decoder|safe-buffer|inherits|util-deprecate)\//,
      'MQTT publish and PUBACK (src/mqtt, or mqtt.js before)',
    ],
    [/gateway\/src\/(forwarder|uplink)/, 'forwarder (take, watchdog timer, ack)'],
    [/gateway\/src\/poller/, 'poll scheduler'],
    [
      /gateway\/src\/(device-reports|bump-test-window|device-state)|shared\/src\/topics/,
      'device reports (payload building, encoding)',
    ],
    [/gateway\/src\/main|gateway\/src\/status|gateway\/src\/clock/, 'heartbeat, heap trim, clock check'],
    [/node_modules\/(pino|sonic-boom|thread-stream|on-exit-leak-free)\//, 'logging (pino)'],
    [/gateway\/src\/|shared\/src\//, 'other gateway code'],
  ];
  for (const [re, name] of rules) if (re.test(source)) return name;
  return undefined;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Main-thread µs per slice, over the samples after `skipUs` from the profile's start. */
function slices(profile: Profile, buildUrl: string, skipUs: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // main.js and its chunks (esbuild splits at the drivers' dynamic imports), each with its map.
  const maps = new Map<string, SourceMap | undefined>();
  const mapOf = (url: string) => {
    if (!maps.has(url)) {
      try {
        maps.set(url, new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8'))));
      } catch {
        maps.set(url, undefined);
      }
    }
    return maps.get(url);
  };
  const sourceOf = (n: ProfileNode): string | undefined => {
    const { url, lineNumber, columnNumber } = n.callFrame;
    if (url.startsWith(buildUrl)) {
      const e = mapOf(url)?.findEntry(lineNumber, columnNumber) as { originalSource?: string } | undefined;
      return e?.originalSource ? new URL(e.originalSource, url).pathname : 'bundle';
    }
    return url || undefined;
  };
  const memo = new Map<number, string>();
  const classify = (id: number): string => {
    const hit = memo.get(id);
    if (hit) return hit;
    const leaf = byId.get(id)!;
    const fn = leaf.callFrame.functionName;
    let out: string | undefined;
    if (fn === '(garbage collector)') out = 'garbage collection (main thread)';
    else if (fn === '(idle)') out = '(idle)';
    else if (fn === '(program)') out = 'V8/node outside JS (native, microtask queue, ...)';
    for (let n: ProfileNode | undefined = leaf; !out && n; n = byId.get(parent.get(n.id) ?? -1)) {
      const src = sourceOf(n);
      if (src) out = sliceOf(src);
    }
    if (!out) {
      // Only node internals and builtins on the stack: name the node module it started in.
      const src = sourceOf(leaf) ?? '';
      out = /timers/.test(src)
        ? 'node timers (setTimeout/clearTimeout, poll timers)'
        : /net|stream|tcp/.test(src)
          ? 'node sockets and streams'
          : /promises|task_queues|process\/task/.test(src)
            ? 'promise and nextTick queues'
            : `node internals (${src.replace(/^node:internal\//, '') || fn || 'native'})`;
    }
    memo.set(id, out);
    return out;
  };
  const us = new Map<string, number>();
  /** Self time by function and source, for the detail table. */
  const fns = new Map<string, number>();
  const selfFns = new Map<string, number>();
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i]!;
    t += dt;
    if (t < skipUs) continue;
    const k = classify(profile.samples[i]!);
    us.set(k, (us.get(k) ?? 0) + dt);
    // Inclusive time per function (each function once per sample, however deep it recurs).
    const onStack = new Set<string>();
    for (
      let n: ProfileNode | undefined = byId.get(profile.samples[i]!);
      n;
      n = byId.get(parent.get(n.id) ?? -1)
    ) {
      const src = (sourceOf(n) ?? '').replace(/^.*\/(node_modules|gaswatch|wt\/cpu)\//, '');
      onStack.add(`${n.callFrame.functionName || '(anonymous)'} ${src}:${n.callFrame.lineNumber}`);
    }
    for (const fk of onStack) fns.set(fk, (fns.get(fk) ?? 0) + dt);
    const leaf = byId.get(profile.samples[i]!)!;
    const lk = `${leaf.callFrame.functionName || '(anonymous)'} ${(sourceOf(leaf) ?? '').replace(/^.*\/(node_modules|gaswatch|wt\/cpu)\//, '')}:${leaf.callFrame.lineNumber}`;
    selfFns.set(lk, (selfFns.get(lk) ?? 0) + dt);
  }
  return { us, fns, selfFns };
}

export interface CpuProfileResult {
  readings: number;
  seconds: number;
  cpuMsPerReading: number;
  /** Of it, system time (the kernel, on behalf of any thread). */
  sysMsPerReading: number;
  rssMb: number;
  threads: [string, number][];
  slices: [string, number][];
  /** The functions with the most inclusive time (ms per reading). */
  top: [string, number][];
  /** The functions with the most self time (ms per reading). */
  topSelf: [string, number][];
}

export async function profileGateway(opts: {
  seconds: number;
  bundleDir?: string | undefined;
  extraFlags?: string[];
  /** No profiler: the process and thread figures only, as the gateway runs in production. */
  plain?: boolean;
  /** Shipped flags to leave out. */
  without?: string[];
  /** Seconds between the first reading of every detector and the window (SETTLE_S). */
  settleS?: number | undefined;
  /** Extra environment for the gateway (on top of the unit's). */
  extraEnv?: Record<string, string>;
}): Promise<CpuProfileResult> {
  const work = mkdtempSync(join(tmpdir(), 'gw-cpu-'));
  // Inside the package, so the bundle's external modules resolve from node_modules.
  const dir = opts.bundleDir
    ? resolve(opts.bundleDir)
    : join(here, '..', '.bench-build', `cpu-${process.pid}`);
  if (!opts.bundleDir)
    execFileSync(process.execPath, [join(here, '..', 'scripts', 'build.mjs'), dir, '--sourcemap'], {
      stdio: 'ignore',
    });
  const main = join(dir, 'src', 'main.js');
  const { flags, env } = shipped();
  const rig = await startRssRig();
  const cfg = rig.writeConfig('gw-cpu', join(work, 'gw'));
  let readings = 0;
  const seen = new Set<string>();
  const sub = mqtt.connect(rig.broker.url);
  sub.on('message', (topic) => {
    readings++;
    seen.add(topic);
  });
  await sub.subscribeAsync('gaswatch/v1/gw-cpu/+/reading', { qos: 1 });
  const profDir = join(work, 'prof');
  const gw = startProcess(
    process.execPath,
    [
      ...flags.filter((f) => !opts.without?.includes(f)),
      ...(opts.extraFlags ?? []),
      ...(opts.plain ? [] : ['--cpu-prof', '--cpu-prof-dir', profDir]),
      main,
      '--config',
      cfg,
    ],
    { env: { ...env, ...opts.extraEnv } },
  );
  try {
    const spawned = performance.now();
    await waitFor(() => seen.size >= 32, 'a reading of every detector', 60_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}:\n${gw.output().slice(-3000)}`);
    });
    await new Promise((r) => setTimeout(r, (opts.settleS ?? SETTLE_S) * 1000));
    const skipUs = (performance.now() - spawned) * 1000;
    const r0 = readings;
    const p0 = ticks(`/proc/${gw.pid}/stat`);
    const c0 = p0.t;
    const th0 = threadTicks(gw.pid);
    const t0 = performance.now();
    let maxRss = 0;
    await waitFor(
      () => {
        maxRss = Math.max(maxRss, rssOf(gw.pid));
        return performance.now() - t0 >= opts.seconds * 1000;
      },
      'the window',
      opts.seconds * 1000 + 10_000,
      200,
    );
    const elapsed = (performance.now() - t0) / 1000;
    const n = readings - r0;
    const p1 = ticks(`/proc/${gw.pid}/stat`);
    const cpuMs = (p1.t - c0) * 10;
    const sysMs = (p1.sys - p0.sys) * 10;
    const th1 = threadTicks(gw.pid);
    const rssMb = maxRss;
    await gw.stop('SIGTERM', 15_000);
    // GW_BENCH_OUTPUT=FILE keeps what the gateway printed (e.g. with `-- --trace-gc`).
    if (process.env.GW_BENCH_OUTPUT) writeFileSync(process.env.GW_BENCH_OUTPUT, gw.output());
    const base = {
      readings: n,
      seconds: elapsed,
      cpuMsPerReading: cpuMs / n,
      sysMsPerReading: sysMs / n,
      rssMb,
    };
    const threads = [...th1]
      .map(([k, v]) => [k, ((v - (th0.get(k) ?? 0)) * 10) / n] as [string, number])
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1]);
    if (opts.plain) return { ...base, threads, slices: [], top: [], topSelf: [] };
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no CPU profile written:\n${gw.output().slice(-2000)}`);
    const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as Profile;
    // The profile runs on until the exit: charge only the samples of the measured window.
    const { us, fns, selfFns } = slices(profile, `file://${join(dir, 'src')}/`, skipUs);
    // Samples after the window (shutdown) are few against `seconds` of polling; scale to the window.
    const scale = (elapsed * 1e6) / [...us.values()].reduce((a, b) => a + b, 0);
    return {
      ...base,
      threads,
      slices: [...us]
        .filter(([k]) => k !== '(idle)')
        .map(([k, v]) => [k, (v * scale) / 1000 / n] as [string, number])
        .sort((a, b) => b[1] - a[1]),
      top: [...fns]
        .filter(([k]) => !k.startsWith('(idle)'))
        .map(([k, v]) => [k, (v * scale) / 1000 / n] as [string, number])
        .sort((a, b) => b[1] - a[1])
        .slice(0, 60),
      topSelf: [...selfFns]
        .filter(([k]) => !k.startsWith('(idle)'))
        .map(([k, v]) => [k, (v * scale) / 1000 / n] as [string, number])
        .sort((a, b) => b[1] - a[1])
        .slice(0, 40),
    };
  } finally {
    await gw.stop('SIGKILL');
    await sub.endAsync();
    await rig.stop();
    rmSync(work, { recursive: true, force: true });
    if (!opts.bundleDir) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // GW_BENCH_ENV='A=1 B=2': extra environment for the gateway (e.g. malloc tunables).
  const extraEnv = Object.fromEntries(
    (process.env.GW_BENCH_ENV ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const r = await profileGateway({
    seconds,
    bundleDir,
    extraFlags,
    plain: own.includes('--plain'),
    without,
    settleS: settle,
    extraEnv,
  });
  const f = (x: number) => x.toFixed(3);
  const profiled = r.slices.reduce((a, [, v]) => a + v, 0);
  console.log(`
### CPU per reading, ${r.readings} readings in ${r.seconds.toFixed(0)} s (${(r.readings / r.seconds).toFixed(1)}/s), max RSS ${r.rssMb.toFixed(1)} MB${r.slices.length ? ' (with the profiler on)' : ''}

Process: **${f(r.cpuMsPerReading)} ms** per reading (utime + stime, all threads; of it system time ${f(r.sysMsPerReading)}).

| thread | ms per reading |
|---|---:|
${r.threads.map(([k, v]) => `| ${k} | ${f(v)} |`).join('\n')}

Main thread by slice (CPU profile, ${f(profiled)} ms per reading sampled):

| slice | ms per reading | share |
|---|---:|---:|
${r.slices.map(([k, v]) => `| ${k} | ${f(v)} | ${((100 * v) / profiled).toFixed(1)} % |`).join('\n')}
`);
  if (own.includes('--top'))
    console.log(
      `inclusive:\n${r.top.map(([k, v]) => `${f(v)}  ${k}`).join('\n')}\n\nself:\n${r.topSelf.map(([k, v]) => `${f(v)}  ${k}`).join('\n')}`,
    );
}
