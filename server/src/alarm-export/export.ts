import { PassThrough, Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Alarm } from '../alarms/model.js';
import type { AlarmFilterQuery } from '../alarms/query-schema.js';
import type { ZoneClock } from '../zone.js';
import { alarmRow, type Cell, COLUMNS, type RowNames } from './columns.js';
import { csvChunks } from './csv.js';
import { EXPORT_LABELS, type ExportLabels, type ExportLang, FILTER_KEYS } from './labels.js';
import { writeXlsx, type XlsxExport } from './xlsx.js';

export const EXPORT_FORMATS = ['xlsx', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv; charset=utf-8',
};

export interface AlarmExport {
  format: ExportFormat;
  lang: ExportLang;
  zone: ZoneClock;
  /** The rows' alarms in the order written (read as each row is written, so kept by nobody). */
  alarms: readonly Readonly<Alarm>[];
  names: RowNames & {
    /** An area id as people name it. */
    areaName(id: string): string;
  };
  /** What the About sheet says: when, by whom, with which filter (as asked, ids and codes). */
  exportedAt: number;
  exportedBy: string;
  filter: AlarmFilterQuery;
}

/** `gaswatch-alarms-20261116-20261123.xlsx`: the range asked for (from the first alarm, to now when open). */
export function exportFileName(
  format: ExportFormat,
  zone: ZoneClock,
  range: { from?: number; to?: number },
  now: number,
): string {
  const from = range.from === undefined ? 'start' : zone.stamp(range.from);
  return `gaswatch-alarms-${from}-${zone.stamp(range.to ?? now)}.${format}`;
}

/** The filter as the About sheet shows it: a label and the value in the export's language. */
function filterLines(x: AlarmExport, labels: ExportLabels): Array<[string, Cell, 'time'?]> {
  const f = x.filter;
  const shown = (key: (typeof FILTER_KEYS)[number]): Cell => {
    switch (key) {
      case 'from':
      case 'to': {
        const v = f[key];
        return v === undefined ? null : Date.parse(v);
      }
      case 'area':
        return f.area === undefined ? null : x.names.areaName(f.area);
      case 'site':
        return f.site === undefined ? null : x.names.site(f.site);
      case 'device':
        return f.device ?? null;
      case 'kind':
        return f.kind === undefined ? null : labels.kind[f.kind];
      case 'gas':
        return f.gas === undefined ? null : labels.gas[f.gas];
      case 'severity':
        return f.severity === undefined ? null : labels.severity[f.severity];
      case 'outcome':
        return f.outcome === undefined
          ? null
          : f.outcome === 'unresolved'
            ? labels.unresolved
            : labels.reason[f.outcome];
      case 'state':
        return f.state === undefined ? null : f.state === 'open' ? labels.open : labels.state[f.state];
    }
  };
  return FILTER_KEYS.map((key) => {
    const v = shown(key);
    const time = (key === 'from' || key === 'to') && v !== null;
    return time ? [labels.filters[key], v, 'time'] : [labels.filters[key], v ?? labels.about.everything];
  });
}

/** The offset of the zone at `ts` as people write it: UTC+08:00. */
function utcOffset(zone: ZoneClock, ts: number): string {
  const iso = zone.iso(ts);
  return `UTC${iso.slice(-6)}`;
}

/**
 * The export as a stream for the reply: CSV pulled chunk by chunk as the socket takes it; XLSX
 * written by exceljs' streaming writer into a pass-through, rows waiting while the client is slow.
 * A failure half-way (the reply's headers are gone) destroys the stream: the client sees a cut
 * download, never a file that looks whole, and the server logs why.
 */
export function exportStream(x: AlarmExport, log: Pick<Logger, 'error'>): Readable {
  const labels = EXPORT_LABELS[x.lang];
  const header = COLUMNS.map((c) => labels.columns[c.key]);
  const alarms = x.alarms;
  const rows: Iterable<Cell[]> = {
    *[Symbol.iterator]() {
      for (const a of alarms) yield alarmRow(a, labels, x.names);
    },
  };
  return sheetStream(
    x.format,
    {
      columns: COLUMNS,
      header,
      rows,
      zone: x.zone,
      sheets: { rows: labels.sheets.alarms, about: labels.sheets.about },
      about: [
        [labels.about.exportedAt, x.exportedAt, 'time'],
        [labels.about.exportedBy, x.exportedBy],
        [labels.about.timeZone, `${x.zone.tz} (${utcOffset(x.zone, x.exportedAt)})`],
        [labels.about.rows, alarms.length],
        [labels.about.filter, null],
        ...filterLines(x, labels),
      ],
    },
    log,
    'the alarm export',
  );
}

/**
 * Rows as a download in `format`: a CSV (x's header, columns and rows) pulled chunk by chunk as
 * the socket takes it, or the whole XLSX written by exceljs' streaming writer into a
 * pass-through. A failure half-way destroys the stream, logged as `what`'s.
 */
export function sheetStream(
  format: ExportFormat,
  x: XlsxExport,
  log: Pick<Logger, 'error'>,
  what: string,
): Readable {
  if (format === 'csv')
    return Readable.from(
      csvChunks(
        x.header,
        x.columns.map((c) => c.type),
        x.rows,
        x.zone,
      ),
      { objectMode: false },
    );
  const out = new PassThrough();
  writeXlsx(out, x).catch((err: unknown) => {
    log.error({ err }, `writing ${what} failed; the download is cut short`);
    out.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  return out;
}
