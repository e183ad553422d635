// The household import's read of an XLSX at the cap (issue 13): BENCH_IMPORT_ROWS (20 000)
// households, parsed in the worker thread as the server does and, for comparison, in the calling
// thread; the longest the event loop (which serves readings and alarms) went without a turn
// while each ran, sampled by a 5 ms timer. In process, no HTTP.

import { parseXlsx, readSheetFile } from '../src/households/sheet-file.js';
import { household, xlsxOf } from '../test/household-sheet-fixtures.js';
import { table } from './common.js';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 20_000);
const RUNS = 3;
const file = await xlsxOf(Array.from({ length: ROWS }, (_, i) => household(i + 1)));

/** Runs fn, answering its time and the longest gap between turns of the event loop meanwhile, ms. */
async function watch(fn: () => Promise<unknown>): Promise<[number, number]> {
  let last = performance.now();
  let worst = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 5);
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  clearInterval(ticker);
  worst = Math.max(worst, performance.now() - last);
  return [ms, worst];
}

const rows: (string | number)[][] = [];
for (const [name, read] of [
  ['worker thread (the server)', () => readSheetFile(file)],
  ['calling thread', () => parseXlsx(file)],
] as const) {
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < RUNS; i++) runs.push(await watch(read));
  const median = (k: 0 | 1) => Math.round(runs.map((r) => r[k]).sort((a, b) => a - b)[1] ?? Number.NaN);
  rows.push([name, median(0), median(1)]);
}
console.log(
  table(
    `Import: read an XLSX of ${ROWS} households (${Math.round(file.length / 1024)} KiB), median of ${RUNS}`,
    ['parse in', 'read ms', 'longest event-loop gap ms'],
    rows,
  ),
);
