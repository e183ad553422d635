// Preloaded into the server by bench/scale.ts (`node --expose-gc --import ./memory-probe.mjs`):
// SIGWINCH collects garbage and prints the process's memory as one JSON line; SIGURG writes a heap
// snapshot into BENCH_HEAP_DIR and prints its path. Bench-only: the server never loads it.
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

let n = 0;
process.on('SIGWINCH', () => {
  // Twice: the first pass finds what finalizers and weak references let go of.
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  n++;
  process.stdout.write(
    `${JSON.stringify({ benchMemory: { n, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers } })}\n`,
  );
});
let s = 0;
process.on('SIGURG', () => {
  const file = writeHeapSnapshot(
    join(process.env.BENCH_HEAP_DIR ?? '.', `scale-${process.pid}-${++s}.heapsnapshot`),
  );
  process.stdout.write(`${JSON.stringify({ benchHeapSnapshot: { n: s, file } })}\n`);
});
