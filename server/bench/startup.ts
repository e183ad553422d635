/**
 * Start-up time and memory of the server: the production bundle (scripts/build.mjs, run on plain
 * node as the bin, the Dockerfile and the systemd unit run it) beside the TypeScript sources
 * through tsx (`node --import tsx src/main.ts`, what `npm start` and the tests run). Rounds
 * alternate which goes first; each start gets a fresh DATA_DIR (embedded broker and store).
 *
 *   node --import tsx server/bench/startup.ts        (BENCH_ROUNDS=5)
 *
 * Start-up: from spawn to the "listening" line. RSS: VmRSS of the process right after it and
 * again after IDLE_MS of idling (no gateways).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './common.js';
import { startProcess, tempDir } from './harness.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const IDLE_MS = 5_000;
const out = join(pkg, `.bench-build-${process.pid}`);

const rssMb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? Number.NaN) / 1024;
};

type Kind = 'bundle' | 'tsx';
const argv: Record<Kind, string[]> = {
  bundle: [join(out, 'src', 'main.js')],
  tsx: ['--import', 'tsx', join(pkg, 'src', 'main.ts')],
};

async function once(kind: Kind): Promise<{ startMs: number; rss: number; rssIdle: number }> {
  const data = tempDir();
  const t0 = performance.now();
  const p = startProcess(process.execPath, argv[kind], {
    name: kind,
    env: { LOG_LEVEL: 'info', PORT: '0', MQTT_PORT: '0', DATA_DIR: data.dir },
  });
  try {
    await p.waitForOutput(/"msg":"listening"/, 60_000);
    const startMs = performance.now() - t0;
    const rss = rssMb(p.pid);
    await sleep(IDLE_MS);
    return { startMs, rss, rssIdle: rssMb(p.pid) };
  } finally {
    await p.stop();
    data.remove();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

execFileSync(process.execPath, [join(pkg, 'scripts', 'build.mjs'), out], { stdio: 'pipe' });
try {
  const results: Record<Kind, { startMs: number; rss: number; rssIdle: number }[]> = { bundle: [], tsx: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order: Kind[] = r % 2 === 0 ? ['bundle', 'tsx'] : ['tsx', 'bundle'];
    for (const kind of order) results[kind].push(await once(kind));
  }
  console.log(`\nserver start-up, ${ROUNDS} alternating rounds (median [min–max])`);
  console.log('| run | start → listening | RSS at listening | RSS after 5 s idle |');
  console.log('|---|---|---|---|');
  for (const kind of ['bundle', 'tsx'] as Kind[]) {
    const col = (
      f: (x: { startMs: number; rss: number; rssIdle: number }) => number,
      unit: string,
      d = 0,
    ) => {
      const xs = results[kind].map(f);
      return `${median(xs).toFixed(d)} ${unit} [${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}]`;
    };
    console.log(
      `| ${kind === 'bundle' ? 'bundle (node dist/src/main.js)' : 'tsx (node --import tsx src/main.ts)'} | ${col((x) => x.startMs, 'ms')} | ${col((x) => x.rss, 'MB', 1)} | ${col((x) => x.rssIdle, 'MB', 1)} |`,
    );
  }
  const ratio = median(results.tsx.map((x) => x.startMs)) / median(results.bundle.map((x) => x.startMs));
  console.log(`tsx / bundle start-up: ${ratio.toFixed(2)}×`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
