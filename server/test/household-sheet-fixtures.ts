/**
 * A township's household list as an office keeps it (issue 13): 200 households in the columns of
 * the template, written as XLSX or CSV, and the five bad rows of the done-when with where the
 * import must report them. Used by the import's API test and the campaign's end-to-end test.
 */
import ExcelJS from 'exceljs';

/** The sheet's columns as a township office writes them (the order of the template). */
export const HEADERS = [
  '户编号',
  '所属村（社区）',
  '地址',
  '纬度',
  '经度',
  '房屋类型',
  '居住人数',
  '独居老人',
  '老人',
  '卧床',
  '残疾',
  '婴幼儿',
  '留守儿童',
  '外来务工',
  '取暖方式',
  '联系人1姓名',
  '联系人1关系',
  '联系人1电话',
  '联系人2姓名',
  '联系人2关系',
  '联系人2电话',
  '探测器编号',
  '安装位置',
  '安装日期',
  '到期日期',
  '备注',
] as const;
export type Row = Partial<Record<(typeof HEADERS)[number], string | number | Date | null>>;

export const pad = (n: number, w = 4) => String(n).padStart(w, '0');

/** Household `i` (1-based) of the list: every third alone and elderly, half with a second contact. */
export function household(i: number): Row {
  const village = i % 2 === 0 ? '柳江村' : 'hexi';
  return {
    户编号: `dp-${pad(i)}`,
    '所属村（社区）': village,
    地址: `${village === 'hexi' ? '河西村' : '柳江村'} ${1 + (i % 9)} 组 ${i} 号`,
    纬度: 24.3 + i / 10_000,
    经度: 109.4 + i / 10_000,
    房屋类型: i % 5 === 0 ? '出租屋' : '自建房',
    居住人数: i % 3 === 0 ? 1 : 3,
    独居老人: i % 3 === 0 ? '是' : '否',
    老人: i % 3 === 0 ? '是' : '',
    取暖方式: i % 4 === 0 ? '煤炉、燃气热水器（无烟道）' : '炭火',
    联系人1姓名: `住户${i}`,
    联系人1关系: '住户本人',
    联系人1电话: `1380000${pad(i)}`,
    ...(i % 2 === 0
      ? { 联系人2姓名: `家属${i}`, 联系人2关系: '家属', 联系人2电话: `139 0000 ${pad(i)}` }
      : {}),
    探测器编号: `co-h${pad(i)}`,
    安装位置: '卧室',
    // A date cell, as Excel keeps a typed date (the import reads both).
    安装日期: i % 2 === 0 ? new Date(Date.UTC(2026, 10, 20)) : '2026-11-20',
    到期日期: '2031-11-20',
    备注: i === 1 ? '=HYPERLINK("http://x")，耳背' : '',
  };
}

/** An XLSX as an office keeps it: a title row above the header, one row per household. */
export async function xlsxOf(rows: Row[], headers: readonly string[] = HEADERS): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('住户');
  sheet.addRow(['大埔镇一氧化碳中毒预防重点户台账']);
  sheet.addRow([...headers]);
  for (const r of rows) sheet.addRow(headers.map((h) => r[h as keyof Row] ?? null));
  return Buffer.from(await book.xlsx.writeBuffer());
}

const csvField = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
export function csvOf(rows: Row[], headers: readonly string[] = HEADERS): Buffer {
  const lines = [
    headers.join(','),
    ...rows.map((r) => headers.map((h) => csvField(r[h as keyof Row])).join(',')),
  ];
  return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`);
}

/** The five bad rows of the done-when, each of another kind, and where they must be reported. */
export function withFiveBadRows(rows: Row[]): {
  rows: Row[];
  expected: Array<{ row: number; column: string; code: string }>;
} {
  const bad = rows.map((r) => ({ ...r }));
  const at = (i: number) => bad[i - 1] as Row;
  // Data starts on row 3 (a title row, then the header): household i is on row i + 2.
  at(7).联系人1电话 = 'call me';
  at(30).独居老人 = '可能';
  at(55)['所属村（社区）'] = '不存在村';
  at(120).户编号 = at(119).户编号 as string;
  at(120).探测器编号 = 'co-h9120';
  at(180).到期日期 = '2031-02-30';
  return {
    rows: bad,
    expected: [
      { row: 9, column: '联系人1电话', code: 'bad_phone' },
      { row: 32, column: '独居老人', code: 'unknown_word' },
      { row: 57, column: '所属村（社区）', code: 'unknown_area' },
      { row: 122, column: '户编号', code: 'duplicate_id' },
      { row: 182, column: '到期日期', code: 'bad_date' },
    ],
  };
}

export const ROWS = Array.from({ length: 200 }, (_, i) => household(i + 1));
