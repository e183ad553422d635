import type { ZoneClock } from '../zone.js';
import type { Cell, CellType } from './columns.js';

/** What makes Excel, LibreOffice and Google Sheets read a cell as a formula (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;
/** What RFC 4180 quotes: a comma, a double quote, a line break. */
const NEEDS_QUOTES = /[",\r\n]/;

/** UTF-8's byte order mark: without it Excel reads a UTF-8 CSV as the local code page (GBK in China). */
export const BOM = '\uFEFF';

/**
 * One field as RFC 4180 writes it. Text starting with = + - @ (or a tab or CR) gets a leading `'`,
 * so a note typed as `=HYPERLINK(…)` is shown, never run, by the spreadsheet that opens the file.
 * Numbers are written as numbers (a negative reading is no formula); times as ISO 8601 with the
 * zone's offset.
 */
export function csvField(v: Cell, type: CellType, zone: ZoneClock): string {
  if (v === null) return '';
  if (typeof v === 'number') return type === 'time' ? zone.iso(v) : String(v);
  const text = FORMULA_START.test(v) ? `'${v}` : v;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Rows per chunk handed to the socket: small enough that the event loop turns between chunks. */
const ROWS_PER_CHUNK = 200;

/**
 * The CSV, BOM and header first, in chunks of rows, lines ending CRLF (RFC 4180). A generator: the
 * stream that reads it asks for the next chunk only when the socket has taken the last ones.
 */
export function* csvChunks(
  header: readonly string[],
  types: readonly CellType[],
  rows: Iterable<Cell[]>,
  zone: ZoneClock,
): Generator<string> {
  const line = (cells: readonly Cell[], textOnly: boolean) =>
    cells.map((c, i) => csvField(c, textOnly ? 'text' : (types[i] ?? 'text'), zone)).join(',');
  let chunk = `${BOM}${line(header, true)}\r\n`;
  let n = 0;
  for (const row of rows) {
    chunk += `${line(row, false)}\r\n`;
    if (++n % ROWS_PER_CHUNK === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}
