/**
 * Summarises a V8 heap snapshot by constructor (node type and name): how many objects and how many
 * bytes of their own. Streams the file, so snapshots of a heap larger than V8's longest string
 * (512 MB of JSON, about a 150 MB heap) can be read: JSON.parse of the whole file would fail.
 *
 *   node --import tsx server/bench/heap-summary.ts FILE [top=30]
 */
import { createReadStream } from 'node:fs';

export interface HeapRow {
  type: string;
  name: string;
  count: number;
  bytes: number;
}

/** Names of string-like nodes are their contents: counted by type alone. */
const BY_TYPE_ONLY = new Set(['string', 'concatenated string', 'sliced string', 'number', 'bigint']);

export async function summariseHeapSnapshot(file: string): Promise<HeapRow[]> {
  let head = '';
  let phase: 'header' | 'nodes' | 'skip' | 'strings' | 'done' = 'header';
  let fields = 0;
  let typeField = 0;
  let nameField = 0;
  let sizeField = 0;
  let nodeTypes: string[] = [];
  // The current node's fields, parsed number by number.
  let field = 0;
  let num = 0;
  let inNum = false;
  let type = 0;
  let name = 0;
  const agg = new Map<number, { count: number; bytes: number }>();
  const wanted = new Set<number>();
  let tail = '';
  // strings phase
  let strIndex = 0;
  let strBuf = '';
  const names = new Map<number, string>();

  const endNumber = () => {
    if (field === typeField) type = num;
    else if (field === nameField) name = num;
    else if (field === sizeField) {
      const t = nodeTypes[type] ?? String(type);
      const key = BY_TYPE_ONLY.has(t) ? type * 2 ** 32 + 0xffffffff : type * 2 ** 32 + name;
      let a = agg.get(key);
      if (!a) {
        a = { count: 0, bytes: 0 };
        agg.set(key, a);
        if (!BY_TYPE_ONLY.has(t)) wanted.add(name);
      }
      a.count++;
      a.bytes += num;
    }
    field = (field + 1) % fields;
    num = 0;
    inNum = false;
  };

  const parseStrings = (s: string) => {
    strBuf += s;
    let i = 0;
    for (;;) {
      while (i < strBuf.length && strBuf[i] !== '"' && strBuf[i] !== ']') i++;
      if (i >= strBuf.length) {
        strBuf = '';
        return;
      }
      if (strBuf[i] === ']') {
        phase = 'done';
        return;
      }
      let j = i + 1;
      while (j < strBuf.length && strBuf[j] !== '"') j += strBuf[j] === '\\' ? 2 : 1;
      if (j >= strBuf.length) {
        strBuf = strBuf.slice(i);
        return;
      }
      if (wanted.has(strIndex)) names.set(strIndex, JSON.parse(strBuf.slice(i, j + 1)) as string);
      strIndex++;
      i = j + 1;
    }
  };

  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    let s = chunk as string;
    if (phase === 'header') {
      head += s;
      const at = head.indexOf('"nodes":[');
      if (at < 0) continue;
      const meta = JSON.parse(`${head.slice(0, head.lastIndexOf(',', at))}}`) as {
        snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
      };
      const nf = meta.snapshot.meta.node_fields;
      fields = nf.length;
      typeField = nf.indexOf('type');
      nameField = nf.indexOf('name');
      sizeField = nf.indexOf('self_size');
      nodeTypes = meta.snapshot.meta.node_types[0];
      s = head.slice(at + '"nodes":['.length);
      head = '';
      phase = 'nodes';
    }
    if (phase === 'nodes') {
      let k = 0;
      for (; k < s.length; k++) {
        const c = s.charCodeAt(k);
        if (c >= 48 && c <= 57) {
          num = num * 10 + (c - 48);
          inNum = true;
        } else if (c === 93 /* ] */) {
          if (inNum) endNumber();
          phase = 'skip';
          break;
        } else if (inNum) endNumber();
      }
      if (phase === 'nodes') continue;
      s = s.slice(k + 1);
    }
    if (phase === 'skip') {
      const t = tail + s;
      const at = t.indexOf('"strings":[');
      if (at < 0) {
        tail = t.slice(-16);
        continue;
      }
      s = t.slice(at + '"strings":['.length);
      phase = 'strings';
    }
    if (phase === 'strings') parseStrings(s);
    if ((phase as string) === 'done') break; // set by parseStrings
  }
  const rows: HeapRow[] = [];
  for (const [key, a] of agg) {
    const t = Math.floor(key / 2 ** 32);
    const n = key % 2 ** 32;
    const typeName = nodeTypes[t] ?? String(t);
    rows.push({
      type: typeName,
      name: n === 0xffffffff ? `(${typeName}s)` : (names.get(n) ?? `#${n}`),
      ...a,
    });
  }
  return rows.sort((x, y) => y.bytes - x.bytes);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: heap-summary.ts FILE [top]');
  const rows = await summariseHeapSnapshot(file);
  for (const r of rows.slice(0, Number(process.argv[3] ?? 30)))
    console.log(`${r.type}\t${r.name}\t${r.count}\t${r.bytes}`);
}
