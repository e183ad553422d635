// Preloaded into the server by bench/scale.ts (`node --expose-gc --import ./memory-probe.mjs`):
// SIGWINCH collects garbage and prints the process's memory as one JSON line; SIGURG writes a heap
// snapshot into BENCH_HEAP_DIR and prints its path; SIGPWR prints the event loop's delay since the
// last SIGPWR (or start) and starts counting again (not SIGUSR2: close-with-grace shuts the server
// down on it). With BENCH_CPU_PROF=1, each SIGPWR also ends the CPU profile begun by the one
// before (written into BENCH_CPU_PROF_DIR) and begins the next. Bench-only: the server never
// loads it.

import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

/**
 * The resident memory by kind of mapping (/proc/self/smaps, Linux only), in bytes: glibc's main
 * heap (`[heap]`), anonymous mappings of 64 MB reservations (glibc's other malloc arenas, whose
 * unused tail stays reserved), V8's heap pages and other anonymous mappings, and files (code of
 * node and the native modules). What RSS holds beyond V8's heap is read from here.
 */
function smapsByKind() {
  let text;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return null;
  }
  const kinds = { mallocHeap: 0, anon: 0, file: 0, stack: 0, other: 0 };
  let kind = 'other';
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const name = head[4] ?? '';
      kind =
        name === '[heap]'
          ? 'mallocHeap'
          : name === ''
            ? 'anon'
            : name === '[stack]'
              ? 'stack'
              : name.startsWith('/')
                ? 'file'
                : 'other';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kinds[kind] += Number(rss[1]) * 1024;
  }
  return kinds;
}

/** V8's heap by space: used and committed bytes (where the headroom sits). */
function spaces() {
  const out = {};
  for (const sp of getHeapSpaceStatistics())
    out[sp.space_name] = { used: sp.space_used_size, committed: sp.space_size };
  return out;
}

const dir = process.env.BENCH_HEAP_DIR ?? '.';
let n = 0;
process.on('SIGWINCH', () => {
  // Twice: the first pass finds what finalizers and weak references let go of.
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  n++;
  // BENCH_SMAPS_DIR: keep each probe's /proc/self/smaps there, to read mapping by mapping.
  if (process.env.BENCH_SMAPS_DIR)
    writeFileSync(
      join(process.env.BENCH_SMAPS_DIR, `smaps-${process.pid}-${n}.txt`),
      readFileSync('/proc/self/smaps'),
    );
  process.stdout.write(
    `${JSON.stringify({ benchMemory: { n, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, smaps: smapsByKind(), spaces: spaces() } })}\n`,
  );
});
let s = 0;
process.on('SIGURG', () => {
  const file = writeHeapSnapshot(join(dir, `scale-${process.pid}-${++s}.heapsnapshot`));
  process.stdout.write(`${JSON.stringify({ benchHeapSnapshot: { n: s, file } })}\n`);
});

// 10 ms resolution: the sampling timer itself costs nothing measurable at that rate.
const RESOLUTION_MS = 10;
const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
loop.enable();
const profiler = process.env.BENCH_CPU_PROF === '1' ? new Session() : null;
if (profiler) {
  profiler.connect();
  profiler.post('Profiler.enable');
  profiler.post('Profiler.setSamplingInterval', { interval: 1000 });
}
let l = 0;
process.on('SIGPWR', () => {
  // How late the 10-ms sampling timer fired: the histogram holds its whole period (p50 ≈ 10 ms).
  const ms = (ns) => Math.max(0, Math.round((ns - RESOLUTION_MS * 1e6) / 1e4) / 100);
  const report = {
    n: ++l,
    max: ms(loop.max),
    p99: ms(loop.percentile(99)),
    p50: ms(loop.percentile(50)),
    mean: ms(loop.mean),
  };
  loop.reset();
  const next = () => {
    process.stdout.write(`${JSON.stringify({ benchLoop: report })}\n`);
    profiler?.post('Profiler.start');
  };
  if (profiler && l > 1)
    profiler.post('Profiler.stop', (err, res) => {
      if (!err) {
        report.cpuProfile = join(
          process.env.BENCH_CPU_PROF_DIR ?? dir,
          `scale-${process.pid}-${l - 1}.cpuprofile`,
        );
        writeFileSync(report.cpuProfile, JSON.stringify(res.profile));
      }
      next();
    });
  else next();
});
