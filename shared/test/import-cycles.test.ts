// No import cycle in the project's sources (issue "The house in order"): a cycle means two files
// that cannot be read, tested or moved apart. Type-only imports count too: they tie the files'
// meaning together even though they vanish at run time.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACKAGES = ['shared', 'gateway', 'server', 'firmware-sim'];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|vue)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveImport(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')])
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return null;
}

/** Every file's relative imports (static, dynamic, re-exports, type-only). */
export function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      const target = resolveImport(file, m[1] as string);
      if (target !== null) targets.add(target);
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, indexOf.get(w) as number));
    }
    if (low.get(v) === indexOf.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v);
  return found;
}

describe('import cycles', () => {
  it('finds a cycle when there is one (the checker itself)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([['a', ['a']]]))).toEqual([['a']]);
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('none in the sources of any package, type-only imports included', () => {
    const files = PACKAGES.flatMap((p) => sourceFiles(join(ROOT, p, 'src')));
    expect(files.length).toBeGreaterThan(50);
    const graph = importGraph(files);
    expect([...graph.values()].flat().length).toBeGreaterThan(100);
    expect(cycles(graph).map((scc) => scc.map((f) => relative(ROOT, f)))).toEqual([]);
  });

  it("none between the server's feature folders (alarms, notify, ingest, store, broker, plugins, routes)", () => {
    const src = join(ROOT, 'server', 'src');
    const folderOf = (file: string) => relative(src, file).split('/').slice(0, -1)[0];
    const folders = new Map<string, Set<string>>();
    for (const [file, targets] of importGraph(sourceFiles(src))) {
      const from = folderOf(file);
      if (from === undefined) continue; // app.ts, config.ts, bus.ts, errors.ts: the root composes
      const edges = folders.get(from) ?? new Set<string>();
      folders.set(from, edges);
      for (const t of targets) {
        const to = folderOf(t);
        if (to !== undefined && to !== from) edges.add(to);
      }
    }
    expect(folders.get('alarms')?.size).toBeGreaterThan(0);
    expect(cycles(new Map([...folders].map(([k, v]) => [k, [...v]])))).toEqual([]);
  });
});
