// Alarm history (issue 12): a page of GET /api/alarms among BENCH_HISTORY_ALARMS (1 000 000)
// alarms in the alarm book, with the filters the History page sends, and an export of
// BENCH_EXPORT_ROWS (100 000, the default EXPORT_MAX_ROWS) rows as CSV and XLSX into a sink that
// reads as fast as it can. In process: the book and the export code, not HTTP.
import { Writable } from 'node:stream';
import pino from 'pino';
import { COLUMNS } from '../src/alarm-export/columns.js';
import { exportStream } from '../src/alarm-export/export.js';
import { type AlarmFilter, createAlarmBook } from '../src/alarms/alarm-book.js';
import type { EventLog } from '../src/alarms/event-log.js';
import { createBus } from '../src/bus.js';
import { ZoneClock } from '../src/zone.js';
import { table } from './common.js';

const ALARMS = Number(process.env.BENCH_HISTORY_ALARMS ?? 1_000_000);
const EXPORT_ROWS = Number(process.env.BENCH_EXPORT_ROWS ?? 100_000);
const DEVICES = 20_000;
const AREAS = 200;
const T0 = Date.parse('2026-01-01T00:00:00Z');
/** One raise a minute on average across the estate: a million alarms ≈ two years. */
const STEP_MS = 60_000;

const events: EventLog = { append() {}, flush: async () => {}, drained: () => true };
const book = createAlarmBook({
  clock: Date.now,
  logger: pino({ level: 'silent' }),
  bus: createBus(),
  events,
  escalation: { escalate() {}, climbing: () => false },
  onTransition() {},
});
const area = (site: string | null) => `area-${Number(site?.slice(5)) % AREAS}`;
let t = performance.now();
for (let i = 0; i < ALARMS; i++) {
  const d = i % DEVICES;
  const a = book.raise(
    { gw: `gw-${d % 500}`, dev: `dev-${d}`, site: `site-${d % 5000}`, profile: 'en50291' },
    {
      key: i % 10 === 0 ? 'fault' : 'CO:fast',
      rule: i % 10 === 0 ? 'fault' : 'en50291-fast',
      severity: i % 10 === 0 ? 'warning' : 'critical',
      message: 'CO 300 ppm',
      value: 310,
      threshold: 300,
      unit: 'ppm',
      ...(i % 10 === 0 ? {} : { gas: 'CO' as const }),
    },
    T0 + i * STEP_MS,
    false,
  );
  book.acknowledge(a, 'lin', i % 7 === 0 ? 'opened the windows, all fine' : '', T0 + i * STEP_MS + 90_000);
  if (i % 3 === 0)
    book.resolve(a, { actor: 'lin', at: T0 + i * STEP_MS + 600_000, reason: 'false_alarm', note: '' });
}
const loadMs = performance.now() - t;

/** Median of `runs` timings of fn, ms. */
function time(fn: () => unknown, runs = 7): number {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    fn();
    ms.push(performance.now() - s);
  }
  return ms.sort((x, y) => x - y)[Math.floor(runs / 2)] ?? Number.NaN;
}

const week = { from: T0 + (ALARMS - 7 * 1440) * STEP_MS, to: T0 + ALARMS * STEP_MS };
// A township's caller, as the route's predicate does it: the area looked up once per site.
const seen = new Map<string | null, boolean>();
const township = (a: { site: string | null }) => {
  let v = seen.get(a.site);
  if (v === undefined) {
    v = area(a.site) === 'area-7';
    seen.set(a.site, v);
  }
  return v;
};
const cases: Array<[string, AlarmFilter]> = [
  ['no filter, first page', {}],
  ['a week (from, to)', week],
  ['one area, a week', { ...week, visible: township }],
  ['one area (predicate on every alarm)', { visible: township }],
  [
    'kind=gas & outcome=unresolved & severity=critical',
    { kind: 'gas', outcome: 'unresolved', severity: 'critical' },
  ],
  ['device', { dev: 'dev-42' }],
];
const rows: (string | number)[][] = [];
for (const [name, f] of cases) {
  const first = book.page({ ...f, limit: 100 });
  const deep = first.next === null ? null : { ...f, limit: 100, after: first.next };
  rows.push([
    name,
    first.total,
    time(() => book.page({ ...f, limit: 100 })),
    deep === null ? '–' : time(() => book.page(deep)),
  ]);
}

/** Drains a stream as fast as it gives, counting bytes. */
async function drain(stream: NodeJS.ReadableStream): Promise<number> {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      bytes += chunk.length;
      done();
    },
  });
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    sink.on('finish', resolve);
    stream.pipe(sink);
  });
  return bytes;
}

const exportRows: (string | number)[][] = [];
const picked = book.select({ limit: EXPORT_ROWS }).alarms.reverse();
for (const format of ['csv', 'xlsx'] as const) {
  const rss0 = process.memoryUsage().rss;
  t = performance.now();
  const bytes = await drain(
    exportStream(
      {
        format,
        lang: 'zh-CN',
        zone: new ZoneClock('Asia/Shanghai'),
        alarms: picked,
        names: {
          area: (a) => area(a.site),
          areaName: (id) => id,
          site: (id) => id ?? '',
          actor: (id) => id,
        },
        exportedAt: Date.now(),
        exportedBy: 'bench',
        filter: {},
      },
      pino({ level: 'silent' }),
    ),
  );
  exportRows.push([
    format,
    picked.length,
    COLUMNS.length,
    Math.round(performance.now() - t),
    Math.round(bytes / 1024),
    Math.round((process.memoryUsage().rss - rss0) / 1e6),
  ]);
}

console.log(`${ALARMS} alarms raised into the book in ${Math.round(loadMs)} ms\n`);
console.log(
  table(
    `GET /api/alarms page of 100 among ${ALARMS} alarms (median of 7, ms)`,
    ['filter', 'total', 'first page', 'next page'],
    rows,
  ),
);
console.log(
  table(
    'GET /api/alarms/export, in process, to a sink that reads at once',
    ['format', 'rows', 'columns', 'ms', 'KiB', 'RSS growth MB'],
    exportRows,
  ),
);
