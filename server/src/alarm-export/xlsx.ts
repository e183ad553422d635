import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ZoneClock } from '../zone.js';
import type { Cell, CellType } from './columns.js';

/** How Excel shows the time columns: the zone's wall clock (the About sheet names the zone). */
const TIME_FORMAT = 'yyyy-mm-dd hh:mm:ss';
/**
 * Longest run of row writing before the event loop gets a turn, ms: exceljs takes ~0.1 ms a row,
 * and readings and alarms must not wait behind an export (SPEC §8: alarm latency p99 ≤ 50 ms).
 */
const SLICE_MS = 10;

/** Column letters as Excel names them: 1 → A, 26 → Z, 27 → AA. */
export function columnLetter(n: number): string {
  let s = '';
  for (let i = n; i > 0; i = Math.floor((i - 1) / 26)) s = String.fromCharCode(65 + ((i - 1) % 26)) + s;
  return s;
}

export interface XlsxExport {
  columns: ReadonlyArray<{ key: string; type: CellType; width: number }>;
  header: readonly string[];
  rows: Iterable<Cell[]>;
  zone: ZoneClock;
  /** The first sheet's name (the rows) and the second's (what the export holds). */
  sheets: { rows: string; about: string };
  /** The second sheet's lines: a label and its value (a number in a time line is a time). */
  about: ReadonlyArray<readonly [string, Cell, 'time'?]>;
  /**
   * Dropdowns: the words a column's cells offer (Excel's list validation), by column index from
   * 0, on `rows` rows below the header (not the whole column: exceljs' own reader expands a range
   * cell by cell).
   */
  lists?: { rows: number; columns: ReadonlyArray<{ column: number; words: readonly string[] }> };
}

/** Waits while `out` holds more than it wants (a slow client): rows wait rather than pile up here. */
async function drained(out: Writable): Promise<void> {
  if (!out.writableNeedDrain || out.destroyed) return;
  await Promise.race([once(out, 'drain'), once(out, 'close')]);
}

/**
 * Streams the workbook to `out` with exceljs' streaming writer: each row is written to the zip as
 * it is made, so memory holds a batch of rows, not the sheet. Sheet 1 is the alarms (header row
 * bold, frozen and filterable; times as Excel dates in the zone's wall clock); sheet 2 says when,
 * by whom, in which zone and with which filter the export was made. exceljs is loaded on the
 * first export, not at start (it is large, and most servers never export).
 */
export async function writeXlsx(out: Writable, x: XlsxExport): Promise<void> {
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  book.creator = 'gaswatch';
  const last = columnLetter(x.columns.length);
  const sheet = book.addWorksheet(x.sheets.rows, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.autoFilter = `A1:${last}1`;
  sheet.columns = x.columns.map((c, i) => ({
    header: x.header[i] ?? c.key,
    key: c.key,
    width: c.width,
    ...(c.type === 'time' ? { style: { numFmt: TIME_FORMAT } } : {}),
  }));
  const head = sheet.getRow(1);
  head.font = { bold: true };
  head.commit();
  const times = x.columns.map((c) => c.type === 'time');
  let slice = performance.now();
  for (const row of x.rows) {
    sheet.addRow(row.map((v, i) => (times[i] && typeof v === 'number' ? x.zone.wall(v) : v))).commit();
    if (performance.now() - slice >= SLICE_MS) {
      await nextTurn();
      await drained(out);
      if (out.destroyed) return; // the client went away: stop making rows for nobody
      slice = performance.now();
    }
  }
  for (const { column, words } of x.lists?.columns ?? []) {
    const letter = columnLetter(column + 1);
    // exceljs' streaming sheet writes them at commit; its types leave them out.
    (sheet as unknown as { dataValidations: { add(range: string, v: object): void } }).dataValidations.add(
      `${letter}2:${letter}${1 + (x.lists?.rows ?? 0)}`,
      {
        type: 'list',
        allowBlank: true,
        formulae: [`"${words.join(',')}"`],
        showErrorMessage: true,
        errorStyle: 'warning',
      },
    );
  }
  sheet.commit();

  const about = book.addWorksheet(x.sheets.about);
  about.columns = [{ width: 24 }, { width: 40, style: { alignment: { horizontal: 'left' } } }];
  for (const [label, value, type] of x.about) {
    const r = about.addRow([
      label,
      type === 'time' && typeof value === 'number' ? x.zone.wall(value) : value,
    ]);
    if (type === 'time') r.getCell(2).numFmt = TIME_FORMAT;
    r.getCell(1).font = { bold: true };
    r.commit();
  }
  about.commit();
  await book.commit();
}
