/**
 * RSS over time of the gateway with 32 detectors at 1 s (the bench/run.ts setup), to see where
 * the maximum happens (start-up vs steady state) and what it is made of.
 *
 *   node --import tsx bench/rss-trace.ts <seconds> [--every 1] -- <name>=<node flags…> [<name>=…]
 *
 * e.g. `bench/rss-trace.ts 60 -- 'shipped=--max-semi-space-size=1 --lite-mode --no-expose-wasm'`;
 * leading `NAME=value` words of a variant are set in its environment (`'arena1=MALLOC_ARENA_MAX=1 --lite-mode'`).
 * Each variant runs the bundle (scripts/build.mjs) with a preloaded probe (mem-probe.cjs) against
 * the same simulator and Mosquitto; /proc/PID/status is read every 100 ms. `--log DIR` writes each
 * variant's output (e.g. of --trace-gc) to DIR/<name>.log. Prints one markdown
 * table row per `--every` seconds: VmRSS max in that slice, RssAnon, RssFile, V8 heap used/total,
 * external, readings delivered so far; then the maximum and when it happened.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, waitFor } from '@gaswatch/shared/testing';
import mqtt from 'mqtt';
import { startRssRig } from './rss-config.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const opts = sep < 0 ? argv : argv.slice(0, sep);
const seconds = Number(opts[0] ?? 60);
const every = opts.includes('--every') ? Number(opts[opts.indexOf('--every') + 1]) : 1;
const logDir = opts.includes('--log') ? opts[opts.indexOf('--log') + 1] : undefined;
const variants = (
  sep < 0 ? ['shipped=--max-semi-space-size=1 --lite-mode --no-expose-wasm'] : argv.slice(sep + 1)
).map((v) => {
  const i = v.indexOf('=');
  const words = v
    .slice(i + 1)
    .split(/\s+/)
    .filter(Boolean);
  // NAME=value words are environment variables of the variant (e.g. MALLOC_ARENA_MAX=2).
  const isEnv = (w: string) => /^[A-Z_]+=/.test(w);
  const env = Object.fromEntries(
    words.filter(isEnv).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
  );
  return { name: v.slice(0, i), flags: words.filter((w) => !isEnv(w)), env };
});

// `--bundle FILE` runs a bundle built elsewhere (e.g. by an older build script) instead.
const prebuilt = opts.includes('--bundle') ? opts[opts.indexOf('--bundle') + 1] : undefined;
const out = join(here, '..', '.bench-build', String(process.pid));
if (!prebuilt)
  execFileSync(process.execPath, [join(here, '..', 'scripts', 'build.mjs'), out], { stdio: 'ignore' });
const bundle = prebuilt ?? join(out, 'src', 'main.js');

function status(pid: number): Record<string, number> {
  const r: Record<string, number> = {};
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = line.match(/^(VmRSS|RssAnon|RssFile|Threads):\s+(\d+)/);
      if (m) r[m[1]!] = Number(m[2]);
    }
  } catch {}
  return r;
}

/** Rss of the main malloc arena (the `[heap]` mapping) in kB. */
function brkHeap(pid: number): number {
  try {
    const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
    const i = smaps.indexOf(' [heap]\n');
    return i < 0 ? 0 : Number(smaps.slice(i).match(/\nRss:\s+(\d+)/)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const rig = await startRssRig();
const sub = mqtt.connect(rig.broker.url);
let readings = 0;
sub.on('message', () => {
  readings++;
});
await sub.subscribeAsync('gaswatch/v1/gw-trace/+/reading', { qos: 1 });
const mb = (kb: number | undefined) => ((kb ?? 0) / 1024).toFixed(1);
const bmb = (b: number | undefined) => ((b ?? 0) / 1024 / 1024).toFixed(1);
try {
  for (const v of variants) {
    const tmp = join('/tmp', `gw-trace-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    rig.writeConfig('gw-trace', tmp);
    readings = 0;
    const gw = startProcess(
      process.execPath,
      [...v.flags, '--require', join(here, 'mem-probe.cjs'), bundle, '--config', join(tmp, 'gw.yaml')],
      { env: { ...v.env, GW_MEM_PROBE_MS: '500' } },
    );
    const rows: string[] = [];
    let slice = { max: 0, last: {} as Record<string, number> };
    let max = 0;
    let maxAt = 0;
    let startedAt = Number.NaN;
    const t0 = Date.now();
    let nextRow = every * 1000;
    await waitFor(
      () => {
        const t = Date.now() - t0;
        const s = status(gw.pid);
        if (Number.isNaN(startedAt) && /"msg":"started"/.test(gw.output())) startedAt = t;
        if (s.VmRSS) {
          slice.max = Math.max(slice.max, s.VmRSS);
          slice.last = s;
          if (s.VmRSS > max) {
            max = s.VmRSS;
            maxAt = t;
          }
        }
        if (t >= nextRow) {
          const probes = gw.output().match(/\{"memProbe":[^\n]*\}/g) ?? [];
          const p = probes.length ? JSON.parse(probes.at(-1)!).memProbe : {};
          rows.push(
            `| ${(t / 1000).toFixed(0)} | ${mb(slice.max)} | ${mb(slice.last.RssAnon)} | ${mb(slice.last.RssFile)} | ${bmb(p.heapUsed)} / ${bmb(p.heapTotal)} | ${bmb(p.external)} | ${mb(brkHeap(gw.pid))} | ${readings} |`,
          );
          slice = { max: 0, last: {} };
          nextRow += every * 1000;
        }
        return t >= seconds * 1000;
      },
      'trace',
      seconds * 1000 + 10_000,
      100,
    );
    await gw.stop();
    rmSync(tmp, { recursive: true, force: true });
    if (logDir)
      writeFileSync(
        join(logDir, `${v.name}.log`),
        gw
          .output()
          .split('\n')
          .filter((l) => !l.includes('memProbe'))
          .join('\n'),
      );
    console.log(`
### ${v.name}: ${Object.entries(v.env)
      .map(([k, x]) => `${k}=${x} `)
      .join(
        '',
      )}node ${v.flags.join(' ')} (bundle + probe), 32 TCP detectors at 1 s, ${seconds} s; "started" at ${(startedAt / 1000).toFixed(1)} s

| t s | max VmRSS MB | RssAnon MB | RssFile MB | heap used / total MB | external MB | malloc [heap] MB | readings |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

max VmRSS **${mb(max)} MB** at ${(maxAt / 1000).toFixed(1)} s; ${readings} readings (${(readings / seconds).toFixed(1)}/s)
`);
  }
} finally {
  await sub.endAsync();
  await rig.stop();
  rmSync(out, { recursive: true, force: true });
}
