/**
 * Where the gateway's memory goes: `node --import tsx bench/memory.ts [seconds]`.
 * Runs the bundle (scripts/build.mjs) polling 32 simulated Modbus TCP detectors at 1 s under
 * several node flag sets and prints, per variant, max VmRSS and the last process.memoryUsage()
 * breakdown (V8 heap used/total, external, array buffers) plus the anonymous vs file-backed RSS
 * from /proc/PID/status.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, waitFor } from '@gaswatch/shared/testing';
import { startRssRig } from './rss-config.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const seconds = Number(process.argv[2] ?? 20);
const out = join(here, '..', '.bench-build', String(process.pid));
execFileSync(process.execPath, [join(here, '..', 'scripts', 'build.mjs'), out], { stdio: 'ignore' });
const bundle = join(out, 'src', 'main.js');

function status(pid: number): Record<string, number> {
  const r: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = line.match(/^(VmRSS|RssAnon|RssFile|Threads):\s+(\d+)/);
    if (m) r[m[1]!] = Number(m[2]);
  }
  return r;
}

// The shipped flags and environment come from the systemd unit (as in bench/run.ts).
const unit = readFileSync(join(here, '..', '..', 'docs', 'deploy', 'gaswatch-gateway.service'), 'utf8');
const exec = unit.match(/^ExecStart=(.*)$/m)?.[1]?.split(/\s+/) ?? [];
const SHIPPED = exec.slice(
  1,
  exec.findIndex((a) => a.endsWith('dist/src/main.js')),
);
const ENV = Object.fromEntries(
  [...unit.matchAll(/^Environment=([^=\s]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!] as [string, string]),
);
const variants: [string, string[], Record<string, string>][] = [
  ['node', [], {}],
  ['semi=1', ['--max-semi-space-size=1'], {}],
  ['shipped', SHIPPED, ENV],
  ['shipped, heap trim off', SHIPPED.filter((f) => f !== '--expose-gc'), ENV],
  ['shipped, default malloc', SHIPPED, {}],
  ['shipped + optimize-for-size', [...SHIPPED, '--optimize-for-size'], ENV],
];
if (process.argv.includes('--quick')) variants.splice(0, 2);
if (process.argv.includes('--idle')) variants.length = 0;

const rig = await startRssRig();
const rows: string[] = [];
for (const [name, flags, env] of variants) {
  const tmp = join('/tmp', `gw-mem-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  rig.writeConfig('gw-mem', tmp);
  const gw = startProcess(
    process.execPath,
    [...flags, '--require', join(here, 'mem-probe.cjs'), bundle, '--config', join(tmp, 'gw.yaml')],
    { env: { ...process.env, ...env } },
  );
  let last: Record<string, number> = {};
  let maxRss = 0;
  let probe: Record<string, number> = {};
  const t0 = Date.now();
  await waitFor(
    () => {
      if (Date.now() - t0 >= seconds * 1000) return true;
      last = status(gw.pid);
      maxRss = Math.max(maxRss, last.VmRSS ?? 0);
      const lines: string[] = gw
        .output()
        .split('\n')
        .filter((l) => l.includes('memProbe'));
      const l = lines.at(-1);
      if (l) probe = JSON.parse(l).memProbe;
      return false;
    },
    'sampling',
    seconds * 1000 + 5000,
    250,
  );
  if (!probe.rss) console.error(gw.output().slice(-3000));
  await gw.stop();
  rmSync(tmp, { recursive: true, force: true });
  const mb = (n: number | undefined) => ((n ?? 0) / 1024 / 1024).toFixed(1);
  const kb = (n: number | undefined) => ((n ?? 0) / 1024).toFixed(1);
  rows.push(
    `| ${name} ${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(
        ' ',
      )} | ${kb(maxRss)} | ${kb(last.RssAnon)} | ${kb(last.RssFile)} | ${mb(probe.heapUsed)} / ${mb(probe.heapTotal)} | ${mb(probe.external)} | ${mb(probe.arrayBuffers)} | ${last.Threads} |`,
  );
  console.error(rows.at(-1));
}
await rig.stop();
rmSync(out, { recursive: true, force: true });
console.log(`
## gateway memory breakdown (\`node --import tsx bench/memory.ts ${seconds}\`), bundle, 32 TCP detectors at 1 s, ${seconds} s each

| variant | max RSS MB | last anon RSS MB | last file RSS MB | V8 heap used / total MB | external MB | array buffers MB | threads |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`);
