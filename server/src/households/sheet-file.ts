import { BOM } from '../alarm-export/csv.js';
import { HttpError, ServerError } from '../errors.js';
import { runInWorker, WorkerTaskError } from '../worker-task.js';

/**
 * An uploaded sheet read into rows of cells, whatever it came as: an XLSX workbook (by its zip
 * magic bytes) or a CSV (UTF-8 with or without a BOM, or GB18030, which Excel on a Chinese
 * Windows writes for "CSV (逗号分隔)"). Nothing here knows what the columns mean (sheet.ts does).
 */

/** An Excel error value in a cell (#N/A, #REF!…): never read as text. */
export class CellError {
  constructor(readonly text: string) {}
}

/** A cell as read: text, a number, a boolean, a date (an XLSX date cell, its wall clock in UTC fields), an error, or empty. */
export type RawCell = string | number | boolean | Date | CellError | null;

export interface SheetRow {
  /** The row's number as the spreadsheet shows it (1 is the first line). */
  row: number;
  /** Cells by column, from the first. */
  cells: RawCell[];
}

export interface SheetFile {
  format: 'xlsx' | 'csv';
  /** The workbook's worksheets in order (a CSV is one); empty rows left out. */
  sheets: Array<{ name: string; rows: SheetRow[] }>;
}

/** The upload is no spreadsheet the import reads: 400 with what to do instead. */
export class UnreadableSheetError extends ServerError {
  constructor(message: string) {
    super('unreadable_file', message, { statusCode: 400 });
  }
}

/**
 * Most bytes an XLSX may unpack to: a 5 MiB upload of 20 000 households unpacks to some 40 MB;
 * a zip bomb to gigabytes, which exceljs would hold in memory.
 */
export const MAX_UNZIPPED_BYTES = 200 * 1024 * 1024;

/** Rows and columns of one sheet read before the upload is refused (the import checks its own cap on households). */
export const MAX_SHEET_ROWS = 50_000;
export const MAX_SHEET_COLUMNS = 200;
/** Parts of a worksheet the import never reads, and exceljs would otherwise expand or keep. */
const IGNORED_NODES = [
  'dataValidations',
  'conditionalFormatting',
  'hyperlinks',
  'drawing',
  'picture',
  'legacyDrawing',
  'tableParts',
  'autoFilter',
  'rowBreaks',
] as const;

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** An old binary .xls (OLE compound file). */
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]);

/** Reads an uploaded XLSX or CSV. */
export async function readSheetFile(body: Buffer): Promise<SheetFile> {
  if (body.subarray(0, 4).equals(OLE_MAGIC))
    throw new UnreadableSheetError(
      'this is an old .xls workbook: save it as .xlsx (Excel: 文件 → 另存为 → Excel 工作簿) or as CSV UTF-8',
    );
  if (body.subarray(0, 4).equals(ZIP_MAGIC)) return { format: 'xlsx', sheets: await readXlsx(body) };
  if (body.includes(0))
    throw new UnreadableSheetError('not a spreadsheet: send an .xlsx workbook or a .csv file');
  return { format: 'csv', sheets: [{ name: 'csv', rows: csvRows(decodeText(body)) }] };
}

/**
 * The sum of the sizes a zip's central directory says its files unpack to, or null when it has
 * none to read (not a whole zip) or uses ZIP64 (no workbook of an import needs it).
 */
export function unzippedSize(zip: Buffer): number | null {
  // The end of central directory record: 22 bytes and a comment of at most 65 535.
  const floor = Math.max(0, zip.length - 22 - 0xffff);
  let end = -1;
  for (let i = zip.length - 22; i >= floor; i--)
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  if (end < 0) return null;
  const entries = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  let total = 0;
  for (let n = 0; n < entries; n++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== 0x02014b50) return null;
    const size = zip.readUInt32LE(at + 24);
    if (size === 0xffffffff) return null;
    total += size;
    at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return total;
}

/**
 * An XLSX checked for what it unpacks to, then parsed in a worker thread (sheet-worker.ts): the
 * parse of a workbook at the cap is seconds of CPU that would otherwise hold the event loop, and
 * with it every reading and alarm, for a second at a time.
 */
async function readXlsx(body: Buffer): Promise<SheetFile['sheets']> {
  const size = unzippedSize(body);
  if (size === null)
    throw new UnreadableSheetError('the .xlsx file is damaged (its zip directory is unreadable)');
  if (size > MAX_UNZIPPED_BYTES)
    throw new UnreadableSheetError(
      `the workbook unpacks to ${Math.round(size / 1e6)} MB, more than an import reads (${MAX_UNZIPPED_BYTES / 1e6} MB): split it`,
    );
  try {
    return decodeSheets(await runInWorker<EncodedSheets>('parse-xlsx', body));
  } catch (err) {
    if (!(err instanceof WorkerTaskError)) throw err;
    if (err.code === 'too_many_rows') throw new HttpError(413, err.code, err.message);
    if (err.code === 'unreadable_file') throw new UnreadableSheetError(err.message);
    if (err.code === 'worker_out_of_memory')
      throw new HttpError(
        413,
        'too_many_rows',
        'the workbook is too large to read at once: split it (by township or village)',
      );
    throw err;
  }
}

/** Sheets as they cross between threads: an error cell as `{ cellError }` (a class does not). */
export type EncodedSheets = Array<{ name: string; rows: Array<{ row: number; cells: unknown[] }> }>;

export function encodeSheets(sheets: SheetFile['sheets']): EncodedSheets {
  return sheets.map((s) => ({
    name: s.name,
    rows: s.rows.map((r) => ({
      row: r.row,
      cells: r.cells.map((c) => (c instanceof CellError ? { cellError: c.text } : c)),
    })),
  }));
}

function decodeSheets(sheets: EncodedSheets): SheetFile['sheets'] {
  return sheets.map((s) => ({
    name: s.name,
    rows: s.rows.map((r) => ({
      row: r.row,
      cells: r.cells.map((c) =>
        c !== null && typeof c === 'object' && 'cellError' in c
          ? new CellError(String((c as { cellError: unknown }).cellError))
          : (c as RawCell),
      ),
    })),
  }));
}

/**
 * Parses an XLSX into rows of plain cells, in the calling thread: the work of the worker thread
 * (worker-main.ts). The caller has checked what it unpacks to.
 */
export async function parseXlsx(body: Buffer): Promise<SheetFile['sheets']> {
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.Workbook();
  try {
    await book.xlsx.load(
      body as unknown as ArrayBuffer,
      {
        // Cells and merged cells only: a dropdown or a format over whole columns (common in
        // offices' templates) would cost exceljs a million cells' work each.
        ignoreNodes: [...IGNORED_NODES],
        maxRows: MAX_SHEET_ROWS,
        maxCols: MAX_SHEET_COLUMNS,
      } as Parameters<typeof book.xlsx.load>[1],
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/^Max (row|column) count/.test(message))
      throw new HttpError(
        413,
        'too_many_rows',
        `a sheet has more than ${MAX_SHEET_ROWS} rows or ${MAX_SHEET_COLUMNS} columns (empty ones with borders or formats count too: delete them, or split the sheet)`,
      );
    throw new UnreadableSheetError(
      `the .xlsx file cannot be read (${message}): open it in Excel and save it again`,
    );
  }
  return book.worksheets.map((ws) => {
    const rows: SheetRow[] = [];
    ws.eachRow({ includeEmpty: false }, (r, row) => {
      // row.values is 1-based (index 0 empty), sparse where cells are empty; a merged cell's
      // value is in each of its cells.
      const values = r.values as unknown[];
      const cells: RawCell[] = [];
      for (let c = 1; c < values.length; c++) cells.push(rawCell(values[c]));
      if (cells.some((c) => c !== null)) rows.push({ row, cells });
    });
    return { name: ws.name, rows };
  });
}

/** An exceljs cell value as a plain one: rich text as its text, a formula as its result, a link as its text. */
function rawCell(v: unknown): RawCell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.richText))
      return (o.richText as Array<{ text?: string }>).map((t) => t.text ?? '').join('');
    if ('error' in o) return new CellError(String(o.error));
    if ('formula' in o || 'sharedFormula' in o) return rawCell(o.result);
    if ('text' in o) return rawCell(o.text);
  }
  return String(v);
}

/** UTF-8 (its BOM dropped), else GB18030: what Excel on a Chinese Windows saves as "CSV (逗号分隔)". */
export function decodeText(body: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    text = new TextDecoder('gb18030').decode(body);
  }
  return text.startsWith(BOM) ? text.slice(BOM.length) : text;
}

/**
 * RFC 4180 records: fields split on commas, quoted fields may hold commas, doubled quotes and
 * line breaks; records end with CRLF, LF or CR. Each record's row is its number in the file as a
 * spreadsheet shows it (a quoted line break does not start a row).
 */
export function csvRows(text: string): SheetRow[] {
  const rows: SheetRow[] = [];
  let fields: string[] = [];
  let field = '';
  let row = 1;
  let quotedFrom = 0;
  const endRecord = () => {
    fields.push(field);
    if (fields.some((f) => f !== '')) rows.push({ row, cells: fields.map((f) => (f === '' ? null : f)) });
    fields = [];
    field = '';
    row++;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quotedFrom > 0) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quotedFrom = 0;
    } else if (ch === '"' && field === '') quotedFrom = row;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\r' || ch === '\n') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
    } else field += ch;
  }
  if (quotedFrom > 0) throw new UnreadableSheetError(`row ${quotedFrom}: a quoted field (") is never closed`);
  if (field !== '' || fields.length > 0) endRecord();
  return rows;
}
