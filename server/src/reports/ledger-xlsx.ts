import type { ExportLang } from '../alarm-export/labels.js';
import { columnLetter } from '../alarm-export/xlsx.js';
import type { ZoneClock } from '../zone.js';
import { LEDGER_LABELS } from './ledger-labels.js';
import type { LedgerNumbers } from './ledger-schema.js';
import { groupSpans, ledgerSubtitle, ledgerTables, staged, stageSpans } from './ledger-tables.js';

/** When and by whom a ledger was made, as its documents say. */
export interface LedgerMade {
  at: number;
  by: string;
}

/** `2026-12-11 16:00` in the zone: how an office writes a time on a form. */
export const localMinute = (zone: ZoneClock, at: number): string =>
  zone.wall(at).toISOString().slice(0, 16).replace('T', ' ');

/** Rows above each table: the ledger's title, the table's title with the week, who made it. */
const TOP = 3;
const thin = { style: 'thin' } as const;
const BORDER = { top: thin, left: thin, bottom: thin, right: thin };

/**
 * The ledger as an XLSX workbook an office forwards as is: one sheet per table (ledger-tables.ts),
 * each headed by the township, the table and the week, its column groups merged over their
 * columns, bordered, set to print landscape on A4 one page wide with the header on every page;
 * and an About sheet with the period, who made it, and what the numbers count. Sheets are small
 * (a row per village), so the workbook is built in memory, not streamed. exceljs is loaded when
 * the first ledger is downloaded, as for the alarm export.
 */
export async function ledgerXlsx(
  n: LedgerNumbers,
  lang: ExportLang,
  made: LedgerMade,
  zone: ZoneClock,
): Promise<Buffer> {
  const { default: ExcelJS } = await import('exceljs');
  const L = LEDGER_LABELS[lang];
  const book = new ExcelJS.Workbook();
  book.creator = 'gaswatch';
  book.created = new Date(made.at);
  const [weekLine = '', madeLine = ''] = ledgerSubtitle(n, lang, {
    at: localMinute(zone, made.at),
    by: made.by,
  });

  for (const table of ledgerTables(n, lang)) {
    const heads = table.head.length;
    const width = heads + table.columns.length;
    const last = columnLetter(width);
    // Group, (stage,) label: the header rows under the title lines.
    const headRows = staged(table) ? 3 : 2;
    const sheet = book.addWorksheet(table.title, {
      views: [{ state: 'frozen', xSplit: heads, ySplit: TOP + headRows }],
      pageSetup: {
        paperSize: 9,
        orientation: 'landscape',
        fitToPage: true,
        fitToWidth: 1,
        fitToHeight: 0,
        printTitlesRow: `${TOP + 1}:${TOP + headRows}`,
      },
    });
    sheet.columns = [
      ...table.head.map((_, i) => ({ width: table.id === 'hazardItems' ? (i === 0 ? 16 : 36) : 18 })),
      ...table.columns.map(() => ({ width: 11 })),
    ];
    const line = (row: number, text: string, font: object, horizontal: 'center' | 'right') => {
      sheet.mergeCells(`A${row}:${last}${row}`);
      const cell = sheet.getCell(`A${row}`);
      cell.value = text;
      cell.font = font;
      cell.alignment = { horizontal, vertical: 'middle' };
    };
    line(1, L.title(n.areaName), { bold: true, size: 14 }, 'center');
    line(2, `${table.title}    ${weekLine}`, { bold: true, size: 11 }, 'center');
    line(3, madeLine, { size: 9 }, 'right');
    sheet.getRow(1).height = 24;

    const groupRow = TOP + 1;
    const stageRow = TOP + 2;
    const labelRow = TOP + headRows;
    table.head.forEach((label, i) => {
      const col = columnLetter(i + 1);
      sheet.mergeCells(`${col}${groupRow}:${col}${labelRow}`);
      sheet.getCell(`${col}${groupRow}`).value = label;
    });
    for (const [group, first, span] of groupSpans(table.columns)) {
      const from = columnLetter(heads + first + 1);
      const to = columnLetter(heads + first + span);
      if (span > 1) sheet.mergeCells(`${from}${groupRow}:${to}${groupRow}`);
      sheet.getCell(`${from}${groupRow}`).value = L.groups[group];
    }
    if (headRows === 3)
      for (const [stage, first, span] of stageSpans(table.columns)) {
        const from = columnLetter(heads + first + 1);
        const to = columnLetter(heads + first + span);
        if (span > 1) sheet.mergeCells(`${from}${stageRow}:${to}${stageRow}`);
        sheet.getCell(`${from}${stageRow}`).value = stage;
      }
    table.columns.forEach((c, i) => {
      sheet.getCell(labelRow, heads + i + 1).value = c.label;
    });
    for (let r = groupRow; r <= labelRow; r++) {
      const row = sheet.getRow(r);
      row.font = { bold: true };
      row.alignment = { horizontal: 'center', vertical: 'middle', wrapText: true };
    }
    sheet.getRow(labelRow).height = 30;

    for (const body of table.rows) {
      const row = sheet.addRow([...body.head, ...body.cells]);
      if (body.total) row.font = { bold: true };
      table.columns.forEach((c, i) => {
        if (c.seconds) row.getCell(heads + i + 1).numFmt = '0';
      });
    }
    for (let r = groupRow; r <= sheet.rowCount; r++)
      for (let c = 1; c <= width; c++) sheet.getCell(r, c).border = BORDER;
  }

  const about = book.addWorksheet(L.about.sheet);
  about.columns = [{ width: 16 }, { width: 100 }];
  const lines: Array<[string, string]> = [
    [L.about.area, n.areaName],
    [L.about.week, `${n.week.start} — ${n.week.end}`],
    [L.about.cumulative, L.cumulativeFrom(n.campaignStart)],
    [L.about.generatedAt, localMinute(zone, made.at)],
    [L.about.generatedBy, made.by === 'schedule' ? L.about.schedule : made.by],
    [L.about.timeZone, n.timeZone],
    ...L.about.lines.map((text, i): [string, string] => [i === 0 ? L.about.notes : '', text]),
  ];
  for (const [label, value] of lines) {
    const row = about.addRow([label, value]);
    row.getCell(1).font = { bold: true };
    row.getCell(2).alignment = { wrapText: true, vertical: 'top' };
  }
  return Buffer.from(await book.xlsx.writeBuffer());
}
