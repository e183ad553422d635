/**
 * What the gateway's V8 heap holds: `node --import tsx bench/heap-snapshot.ts [seconds] [-- node flags…]`.
 * Runs the bundle (scripts/build.mjs) with the given flags (default: the systemd unit's) polling
 * 32 simulated detectors at 1 s, writes a heap snapshot after `seconds` (SIGUSR2 via
 * --heapsnapshot-signal; the snapshot forces a full GC first, so it shows what is live), and prints
 * the self size per V8 node type, the largest names, and the code (SharedFunctionInfo + bytecode +
 * scope info) per script (bundle chunk or node-internal module).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, waitFor } from '@gaswatch/shared/testing';
import { startRssRig } from './rss-config.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const seconds = Number(argv[0] && argv[0] !== '--' ? argv[0] : 20);
const unit = readFileSync(join(here, '..', '..', 'docs', 'deploy', 'gaswatch-gateway.service'), 'utf8');
const exec = unit.match(/^ExecStart=(.*)$/m)?.[1]?.split(/\s+/) ?? [];
const flags =
  sep >= 0
    ? argv.slice(sep + 1)
    : exec.slice(
        1,
        exec.findIndex((a) => a.endsWith('dist/src/main.js')),
      );

const out = join(here, '..', '.bench-build', String(process.pid));
execFileSync(process.execPath, [join(here, '..', 'scripts', 'build.mjs'), out], { stdio: 'ignore' });
const tmp = join('/tmp', `gw-snap-${process.pid}`);
const rig = await startRssRig();
rig.writeConfig('gw-snap', tmp);
const gw = startProcess(
  process.execPath,
  [...flags, '--heapsnapshot-signal=SIGUSR2', join(out, 'src', 'main.js'), '--config', join(tmp, 'gw.yaml')],
  { cwd: tmp },
);
await new Promise((r) => setTimeout(r, seconds * 1000));
gw.child.kill('SIGUSR2');
let file = '';
await waitFor(
  () => {
    const f = readdirSync(tmp).find((n) => n.endsWith('.heapsnapshot'));
    if (!f) return false;
    JSON.parse(readFileSync(join(tmp, f), 'utf8')); // throws while it is still being written
    file = join(tmp, f);
    return true;
  },
  'heap snapshot',
  60_000,
  500,
);
await gw.stop();
await rig.stop();

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}
const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const m = s.snapshot.meta;
const nf = m.node_fields.length;
const ef = m.edge_fields.length;
const [types] = m.node_types;
const [etypes] = m.edge_types;
const { nodes: N, edges: E, strings: str } = s;
const iType = m.node_fields.indexOf('type');
const iName = m.node_fields.indexOf('name');
const iSelf = m.node_fields.indexOf('self_size');
const iEC = m.node_fields.indexOf('edge_count');
const iEType = m.edge_fields.indexOf('type');
const iEName = m.edge_fields.indexOf('name_or_index');
const iTo = m.edge_fields.indexOf('to_node');
const n = N.length / nf;
const first = new Uint32Array(n + 1);
for (let i = 0, e = 0; i < n; i++) {
  first[i] = e;
  e += N[i * nf + iEC]! * ef;
}
first[n] = E.length;
const typeOf = (i: number) => types[N[i * nf + iType]!]!;
const nameOf = (i: number) => str[N[i * nf + iName]!]!;
const self = (i: number) => N[i * nf + iSelf]!;
const edges = function* (i: number) {
  for (let e = first[i]!; e < first[i + 1]!; e += ef) {
    const t = etypes[E[e + iEType]!]!;
    yield { name: t === 'element' || t === 'hidden' ? '' : str[E[e + iEName]!]!, to: E[e + iTo]! / nf };
  }
};
let total = 0;
const byType: Record<string, number> = {};
const byName: Record<string, number> = {};
const perScript: Record<string, number> = {};
for (let i = 0; i < n; i++) {
  const t = typeOf(i);
  total += self(i);
  byType[t] = (byType[t] ?? 0) + self(i);
  const k = `${t}: ${nameOf(i).slice(0, 50).replace(/\|/g, '/').replace(/\n/g, ' ')}`;
  byName[k] = (byName[k] ?? 0) + self(i);
  if (t !== 'code') continue;
  let script = -1;
  let owned = self(i);
  for (const e of edges(i)) {
    if (e.name === 'script' || e.name === 'script_or_debug_info') script = e.to;
    else if (['function_data', 'bytecode', 'scope_info', 'feedback_metadata'].includes(e.name))
      owned += self(e.to);
  }
  if (script < 0) continue;
  let sname = nameOf(script);
  for (const e of edges(script)) if (e.name === 'name') sname = nameOf(e.to);
  sname = sname.replace(/^.*\.bench-build\/\d+\//, 'bundle:');
  perScript[sname] = (perScript[sname] ?? 0) + owned;
}
const top = (o: Record<string, number>, k: number) =>
  Object.entries(o)
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([a, b]) => `| ${a} | ${(b / 1024).toFixed(0)} |`)
    .join('\n');
console.log(`
## heap snapshot after ${seconds} s (\`node --import tsx bench/heap-snapshot.ts ${argv.join(' ')}\`), node ${flags.join(' ')}

live heap ${(total / 1048576).toFixed(2)} MB

| V8 node type | KB |
|---|---|
${top(byType, 14)}

| type: name | KB |
|---|---|
${top(byName, 30)}

| code (SharedFunctionInfo + bytecode + scope info) per script | KB |
|---|---|
${top(perScript, 25)}
`);
rmSync(tmp, { recursive: true, force: true });
rmSync(out, { recursive: true, force: true });
