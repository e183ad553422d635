// Preloaded into the server by bench/scale.ts (`node --expose-gc --import ./memory-probe.mjs`):
// SIGWINCH collects garbage and prints the process's memory as one JSON line; SIGURG writes a heap
// snapshot into BENCH_HEAP_DIR and prints its path. Bench-only: the server never loads it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  const file = writeHeapSnapshot(
    join(process.env.BENCH_HEAP_DIR ?? '.', `scale-${process.pid}-${++s}.heapsnapshot`),
  );
  process.stdout.write(`${JSON.stringify({ benchHeapSnapshot: { n: s, file } })}\n`);
});
