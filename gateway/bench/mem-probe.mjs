// Preloaded with `node --import ./mem-probe.mjs` by bench/memory.ts (diagnostics only, never
// shipped): every 2 s writes one JSON line with process.memoryUsage() to stderr.
const t = setInterval(() => {
  const m = process.memoryUsage();
  process.stderr.write(`${JSON.stringify({ memProbe: m })}\n`);
}, 2000);
t.unref();
