// Preloaded with `node --require ./mem-probe.cjs` by bench/memory.ts and bench/rss-trace.ts
// (diagnostics only, never shipped): every GW_MEM_PROBE_MS (default 2000) ms writes one JSON line
// with process.memoryUsage() and the time since start to stderr.
// CommonJS, so it adds no ESM module of its own to what is measured.
const every = Number(process.env.GW_MEM_PROBE_MS ?? 2000);
const t0 = Date.now();
const t = setInterval(() => {
  const m = process.memoryUsage();
  process.stderr.write(`${JSON.stringify({ memProbe: { ...m, t: Date.now() - t0 } })}\n`);
}, every);
t.unref();
