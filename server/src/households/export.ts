import type { Readable } from 'node:stream';
import type { Household } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { Cell } from '../alarm-export/columns.js';
import { type ExportFormat, sheetStream } from '../alarm-export/export.js';
import type { ZoneClock } from '../zone.js';
import { IMPORT_MAX_ROWS } from './import.js';
import { CONTACT_GROUPS, headerOf, householdRow, listWords, type SheetLang, sheetColumns } from './sheet.js';

/** The words of the households export's second sheet, in each language. */
const LABELS: Record<
  SheetLang,
  {
    sheets: { rows: string; about: string };
    exportedAt: string;
    exportedBy: string;
    rows: string;
    filter: string;
    howTo: string;
    template: string;
  }
> = {
  'zh-CN': {
    sheets: { rows: '住户', about: '填写说明' },
    exportedAt: '导出时间',
    exportedBy: '导出人',
    rows: '户数',
    filter: '筛选条件',
    howTo: '各列填写说明',
    template: '第 2 行是示例，导入前请换成本村（社区）的住户',
  },
  en: {
    sheets: { rows: 'Households', about: 'How to fill in' },
    exportedAt: 'Exported at',
    exportedBy: 'Exported by',
    rows: 'Households',
    filter: 'Filter',
    howTo: 'What each column holds',
    template: 'Row 2 is an example: replace it with your households before importing',
  },
};

export interface HouseholdSheet {
  format: ExportFormat;
  lang: SheetLang;
  zone: ZoneClock;
  households: readonly Household[];
  /** How the sheet names an area: its name where that reads back as this area, else its id. */
  areaName(id: string): string;
  /** An export's: when, by whom, with which filter; a template's: none. */
  exported: { at: number; by: string; filter: ReadonlyArray<readonly [string, string]> } | null;
}

/**
 * The household sheet as a file (the import reads it back as it is): XLSX with the households on
 * the first sheet (dropdowns on the 是/否, dwelling and relation columns) and what each column
 * holds on the second; or CSV (UTF-8 with a BOM, RFC 4180, the formula guard of the alarm export).
 */
export function householdSheetStream(x: HouseholdSheet, log: Pick<Logger, 'error'>): Readable {
  const most = x.households.reduce((n, h) => Math.max(n, h.contacts.length), 0);
  const columns = sheetColumns(Math.max(CONTACT_GROUPS, most));
  const header = columns.map((c) => headerOf(c, x.lang));
  const households = x.households;
  const rows: Iterable<Cell[]> = {
    *[Symbol.iterator]() {
      for (const h of households) yield householdRow(h, columns, x.lang, x.areaName);
    },
  };
  const labels = LABELS[x.lang];
  const about: Array<[string, Cell, 'time'?]> =
    x.exported === null
      ? [[labels.template, null]]
      : [
          [labels.exportedAt, x.exported.at, 'time'],
          [labels.exportedBy, x.exported.by],
          [labels.rows, households.length],
          [labels.filter, null],
          ...x.exported.filter.map(([k, v]): [string, Cell] => [k, v]),
        ];
  about.push(['', null], [labels.howTo, null]);
  for (const c of columns) {
    const hint = c.hint[x.lang];
    if (hint !== '') about.push([headerOf(c, x.lang), hint]);
  }
  return sheetStream(
    x.format,
    {
      columns,
      header,
      rows,
      zone: x.zone,
      sheets: labels.sheets,
      about,
      // As many rows as one import takes.
      lists: {
        rows: IMPORT_MAX_ROWS,
        columns: columns.flatMap((c, column) =>
          c.list === undefined ? [] : [{ column, words: listWords(c.list, x.lang) }],
        ),
      },
    },
    log,
    'the household sheet',
  );
}

/** `gaswatch-households-20261120T0830.xlsx`, or the template's name. */
export function householdFileName(
  format: ExportFormat,
  zone: ZoneClock,
  now: number,
  template: boolean,
): string {
  return template
    ? `gaswatch-households-template.${format}`
    : `gaswatch-households-${zone.stamp(now)}.${format}`;
}
