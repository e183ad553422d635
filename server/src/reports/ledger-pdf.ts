import type { ExportLang } from '../alarm-export/labels.js';
import type { ZoneClock } from '../zone.js';
import { CJK_FONTS, type CjkFont, loadCjkFont } from './cjk-font.js';
import { LEDGER_LABELS } from './ledger-labels.js';
import type { LedgerNumbers } from './ledger-schema.js';
import {
  groupSpans,
  type LedgerTable,
  ledgerSubtitle,
  ledgerTables,
  staged,
  stageSpans,
} from './ledger-tables.js';
import { type LedgerMade, localMinute } from './ledger-xlsx.js';

const A4_LANDSCAPE = { width: 841.89, height: 595.28 };
const MARGIN = 36;
const ROW_HEIGHT = 15;
const HEAD_FILL = '#e4e4e4';
const TOTAL_FILL = '#f2f2f2';

function cellText(v: number | null, seconds: boolean | undefined): string {
  if (v === null) return '—';
  return String(seconds ? Math.round(v) : v);
}

/** Draws one table: its title, the group and column header rows, a row per village, the total. */
function drawTable(doc: PDFKit.PDFDocument, table: LedgerTable, groups: Record<string, string>): void {
  const bottom = A4_LANDSCAPE.height - MARGIN;
  const needed = 24 + (table.rows.length + 3) * ROW_HEIGHT;
  // A table that fits on a page starts on one where it fits; a longer one flows.
  if (doc.y + needed > bottom && needed < bottom - MARGIN) doc.addPage();
  doc.fontSize(11).text(table.title, MARGIN, doc.y, { lineGap: 4 });
  const heads = table.head.length;
  const withStages = staged(table);
  const head = { backgroundColor: HEAD_FILL, align: 'center' as const };
  const groupRow = [
    ...table.head.map((text) => ({
      text,
      rowSpan: withStages ? 3 : 2,
      ...head,
      align: { x: 'center' as const, y: 'center' as const },
    })),
    ...groupSpans(table.columns).map(([group, , span]) => ({
      text: groups[group] ?? group,
      colSpan: span,
      ...head,
    })),
  ];
  const stageRow = stageSpans(table.columns).map(([text, , span]) => ({ text, colSpan: span, ...head }));
  const labelRow = table.columns.map((c) => ({ text: c.label, ...head }));
  const body = table.rows.map((r) => [
    ...r.head.map((text) => ({ text, ...(r.total ? { backgroundColor: TOTAL_FILL } : {}) })),
    ...r.cells.map((v, i) => ({
      text: cellText(v, table.columns[i]?.seconds),
      align: { x: 'right' as const },
      ...(r.total ? { backgroundColor: TOTAL_FILL } : {}),
    })),
  ]);
  const headWidths = table.id === 'hazardItems' ? [80, 190] : [110];
  doc.fontSize(8).table({
    position: { x: MARGIN },
    columnStyles: [...headWidths.slice(0, heads), ...table.columns.map(() => '*')],
    defaultStyle: { border: 0.5, padding: 3 } as PDFKit.Mixins.CellStyle,
    data: [groupRow, ...(withStages ? [stageRow] : []), labelRow, ...body],
  });
  doc.moveDown(1.2);
}

/**
 * The ledger as a PDF in a CJK font, landscape A4: the title, the week, who made it, every table
 * of the XLSX in turn, and what the numbers count. pdfkit is loaded when the first PDF is made.
 */
export async function ledgerPdf(
  n: LedgerNumbers,
  lang: ExportLang,
  made: LedgerMade,
  zone: ZoneClock,
  fonts: readonly CjkFont[] = CJK_FONTS,
): Promise<Buffer> {
  const { font, bytes } = await loadCjkFont(fonts, 'the XLSX needs no font');
  const { default: PDFDocument } = await import('pdfkit');
  const L = LEDGER_LABELS[lang];
  const title = L.title(n.areaName);
  // No default font: pdfkit's is Helvetica, read from its package folder, and Latin only.
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: MARGIN,
    font: '',
    lang,
    displayTitle: true,
    info: {
      Title: `${title} ${n.week.start} — ${n.week.end}`,
      Creator: 'gaswatch',
      CreationDate: new Date(made.at),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.registerFont('cjk', bytes, font.face);
  doc.font('cjk');

  doc.fontSize(16).text(title, { align: 'center' });
  doc.moveDown(0.3);
  for (const line of ledgerSubtitle(n, lang, { at: localMinute(zone, made.at), by: made.by }))
    doc.fontSize(9).text(line, { align: 'center' });
  doc.moveDown(1);
  for (const table of ledgerTables(n, lang)) drawTable(doc, table, L.groups);

  if (doc.y > A4_LANDSCAPE.height - MARGIN - 120) doc.addPage();
  doc.fontSize(11).text(L.about.notes, MARGIN, doc.y, { lineGap: 4 });
  doc.fontSize(8);
  for (const line of L.about.lines) doc.text(line, { lineGap: 2 });
  doc.text(`${L.about.timeZone}: ${n.timeZone}`);
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
