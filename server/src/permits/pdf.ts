import type { GasCheck, PermitDetail } from '@gaswatch/shared';
import {
  gasCheckText,
  PERMIT_WORDS,
  type PermitLocale,
  permitGasName,
  permitRefusalText,
} from '@gaswatch/shared/permit-words';
import { CJK_FONTS, type CjkFont, loadCjkFont } from '../reports/cjk-font.js';
import { localMinute } from '../reports/ledger-xlsx.js';
import type { ZoneClock } from '../zone.js';

/**
 * A permit as a PDF in the layout of GB 30871-2022 annex A's forms (受限空间安全作业票, 动火安全作业票):
 * the form's header (who, where, what, when), the gas analyses with every reading (time, position,
 * gas, value, limit, result, tester, detector), the safety measures with who confirmed each,
 * monitoring records, and the signatures of each state change up to the acceptance at close-out.
 * Set in the CJK font of the ledger (reports/cjk-font.ts), in Chinese or English.
 */

const LABELS = {
  'zh-CN': {
    title: { confined_space: '受限空间安全作业票', hot_work: '动火安全作业票' },
    number: '作业票编号',
    state: '状态',
    basis: '执行标准',
    unit: '作业单位',
    applicant: '作业申请人',
    place: { confined_space: '受限空间名称及位置', hot_work: '动火地点' },
    level: '动火级别',
    kind: '作业类别',
    work: '作业内容',
    crew: { confined_space: '作业人及证书编号', hot_work: '动火人及证书编号' },
    attendant: '监护人',
    mobile: (phone: string) => `  手机 ${phone}`,
    approver: '审批人（按级别）',
    window: '计划作业时间',
    validUntil: '有效期至',
    related: '关联作业票',
    requirements: '检测要求',
    requirementText: (r: PermitDetail['permit']['rules'], positions: string) =>
      `检测部位：${positions}；作业开始前 ${r.testWindowMin} 分钟内分析合格；中断超过 ${r.interruptionMin} 分钟须重新分析${r.dailyAnalysis ? '；每日作业前重新分析' : ''}${r.continuous ? `；作业中连续监测，至少每 ${r.recordEveryMin} 分钟记录一次` : ''}`,
    gasTests: '气体分析',
    testHead: (n: number, status: string, by: string, instrument: string) =>
      `第 ${n} 次分析：${status}　分析人：${by}　检测仪：${instrument}`,
    manual: '（便携式仪器，手工录入）',
    cols: {
      time: '分析时间',
      position: '分析部位',
      gas: '分析项目',
      value: '分析数据',
      limit: '合格标准',
      result: '结论',
      tester: '分析人',
    },
    pass: '合格',
    fail: '不合格',
    noTests: '尚无气体分析记录',
    measures: '安全措施',
    measureCols: { n: '序号', text: '安全措施', by: '确认人', at: '确认时间' },
    unconfirmed: '未确认',
    monitoring: '作业中监测记录',
    monitoringCols: { at: '时间', source: '检测仪', values: '检测数据', result: '结论', reasons: '说明' },
    noMonitoring: '无',
    signatures: '审批及作业记录',
    signatureCols: { at: '时间', action: '事项', by: '签字人', note: '意见及说明', hash: '校验码' },
    acceptance: '完工验收',
    notClosed: '尚未完工验收',
    keepUntil: '本作业票保存至',
    made: '打印时间',
    none: '无',
    colon: '：',
  },
  en: {
    title: { confined_space: 'Confined-space entry permit', hot_work: 'Hot work permit' },
    number: 'Permit no.',
    state: 'State',
    basis: 'Rules',
    unit: 'Unit doing the work',
    applicant: 'Applicant',
    place: { confined_space: 'Confined space and location', hot_work: 'Hot-work location' },
    level: 'Hot-work level',
    kind: 'Kind of work',
    work: 'Work',
    crew: { confined_space: 'Entrants and certificates', hot_work: 'Hot-work crew and certificates' },
    attendant: 'Attendant',
    mobile: (phone: string) => `, mobile ${phone}`,
    approver: 'Approver (by level)',
    window: 'Planned window',
    validUntil: 'Valid until',
    related: 'Related permits',
    requirements: 'Testing',
    requirementText: (r: PermitDetail['permit']['rules'], positions: string) =>
      `at ${positions}; work starts within ${r.testWindowMin} min of a passed test; an interruption of more than ${r.interruptionMin} min needs a new test${r.dailyAnalysis ? '; a new test each day' : ''}${r.continuous ? `; monitored continuously, a record at least every ${r.recordEveryMin} min` : ''}`,
    gasTests: 'Gas tests',
    testHead: (n: number, status: string, by: string, instrument: string) =>
      `Test ${n}: ${status}    tester: ${by}    detector: ${instrument}`,
    manual: ' (portable instrument, typed in)',
    cols: {
      time: 'Time',
      position: 'Position',
      gas: 'Gas',
      value: 'Reading',
      limit: 'Limit',
      result: 'Result',
      tester: 'Tester',
    },
    pass: 'Pass',
    fail: 'Fail',
    noTests: 'No gas test yet',
    measures: 'Safety measures',
    measureCols: { n: 'No.', text: 'Measure', by: 'Confirmed by', at: 'Confirmed at' },
    unconfirmed: 'not confirmed',
    monitoring: 'Monitoring during the work',
    monitoringCols: {
      at: 'Time',
      source: 'Detector',
      values: 'Readings',
      result: 'Result',
      reasons: 'Remarks',
    },
    noMonitoring: 'None',
    signatures: 'Approvals and records of the work',
    signatureCols: { at: 'Time', action: 'Action', by: 'Signed by', note: 'Remarks', hash: 'Check' },
    acceptance: 'Acceptance at close-out',
    notClosed: 'Not closed yet',
    keepUntil: 'Keep this permit until',
    made: 'Printed',
    none: 'none',
    colon: ': ',
  },
} as const;

const MARGIN = 40;
const A4 = { width: 595.28, height: 841.89 };
const HEAD_FILL = '#e4e4e4';

function num(n: number): string {
  return String(Number(n.toFixed(Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2)));
}

function unitText(locale: PermitLocale, unit: string): string {
  if (locale === 'zh-CN' && unit === '%vol') return '%';
  return locale === 'zh-CN' || unit.startsWith('%') ? unit : ` ${unit}`;
}

function valueText(locale: PermitLocale, value: number, unit: string): string {
  return `${num(value)}${unitText(locale, unit)}`;
}

/** The limit a check was held to, as the form writes its 合格标准. */
function limitText(locale: PermitLocale, checks: readonly GasCheck[]): string {
  return checks
    .map((c) => {
      switch (c.check) {
        case 'oxygen':
          return `${num(c.minPctVol)}–${num(c.maxPctVol)}${unitText(locale, '%vol')}`;
        case 'combustible': {
          const op = c.inclusive ? '≤' : '<';
          const vol = `${num(c.limitPctVol)}${unitText(locale, '%vol')}`;
          const lel = `${num(c.limitPctLel)}%LEL`;
          return c.limitUnit === '%vol' ? `${op} ${vol} (${lel})` : `${op} ${lel} (${vol})`;
        }
        case 'toxic':
          return c.limit === null
            ? '—'
            : `≤ ${num(c.limit.value)} ${c.limit.unit}${c.limit.unit === 'mg/m³' ? ` (${num(c.limit.ppm)} ppm)` : ''}`;
      }
      return '';
    })
    .join('; ');
}

/** The failed checks in the language, as the form's 说明. */
function reasonsText(locale: PermitLocale, checks: readonly unknown[]): string {
  return (checks as GasCheck[])
    .flatMap((c) => gasCheckText(locale, c) ?? [])
    .join(locale === 'zh-CN' ? '；' : '; ');
}

/** What a record says: the signer's note, or for the server's own records why, in the language. */
function eventNote(locale: PermitLocale, e: PermitDetail['events'][number]): string {
  if (e.signed.role !== 'system') return e.note;
  if (e.action === 'expire') return permitRefusalText(locale, { code: 'permit_expired', params: {} });
  const reason = typeof e.data.reason === 'string' ? e.data.reason : 'alarm';
  const why = Array.isArray(e.data.checks)
    ? reasonsText(locale, e.data.checks)
    : String(e.data.message ?? '');
  const text = permitRefusalText(locale, { code: 'evacuated', params: { reason } });
  return locale === 'zh-CN' ? `${text}（${why}）` : `${text} (${why})`;
}

/** The permit as a PDF in `lang`; times in `zone`. pdfkit is loaded when the first PDF is made. */
export async function permitPdf(
  d: PermitDetail,
  lang: PermitLocale,
  zone: ZoneClock,
  madeAt: number,
  fonts: readonly CjkFont[] = CJK_FONTS,
): Promise<Buffer> {
  const { font, bytes } = await loadCjkFont(fonts);
  const { default: PDFDocument } = await import('pdfkit');
  const L = LABELS[lang];
  const W = PERMIT_WORDS[lang];
  const p = d.permit;
  const t = (iso: string | null) => (iso === null ? '—' : localMinute(zone, Date.parse(iso)));
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    font: '',
    lang,
    displayTitle: true,
    info: { Title: `${L.title[p.kind]} ${p.id}`, Creator: 'gaswatch', CreationDate: new Date(madeAt) },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.registerFont('cjk', bytes, font.face);
  doc.font('cjk');

  const head = { backgroundColor: HEAD_FILL };
  const cellStyle = { border: 0.5, padding: 3 } as PDFKit.Mixins.CellStyle;
  const section = (title: string, needed = 60) => {
    if (doc.y + needed > A4.height - MARGIN) doc.addPage();
    doc.moveDown(0.6);
    doc.fontSize(11).text(title, MARGIN, doc.y, { lineGap: 3 });
  };
  const table = (columns: (string | number)[], rows: string[][], heads?: string[]) => {
    doc.fontSize(8).table({
      position: { x: MARGIN },
      columnStyles: columns,
      defaultStyle: cellStyle,
      data: [...(heads === undefined ? [] : [heads.map((text) => ({ text, ...head }))]), ...rows],
    });
  };

  doc.fontSize(16).text(L.title[p.kind], { align: 'center' });
  doc.moveDown(0.3);
  doc
    .fontSize(9)
    .text(
      `${L.number}${L.colon}${p.id}    ${L.state}${L.colon}${W.states[p.state]}    ${L.basis}${L.colon}${p.ruleSet.name}`,
      { align: 'center' },
    );
  doc.moveDown(0.6);

  const crew = p.crew.map((c) => (c.certificate === '' ? c.name : `${c.name} (${c.certificate})`)).join(', ');
  // The mobile number beside the name: whom the evacuation alert goes to, as the form says it.
  const withPhone = (who: { name: string; phone?: string | undefined }, text: string) =>
    who.phone === undefined ? text : `${text}${L.mobile(who.phone)}`;
  const attendant = withPhone(
    p.attendant,
    p.attendant.certificate === '' ? p.attendant.name : `${p.attendant.name} (${p.attendant.certificate})`,
  );
  const kindText = p.kind === 'hot_work' && p.level !== null ? W.levels[p.level] : W.kinds[p.kind];
  const positions = p.positions.map((x) => W.positions[x]).join(lang === 'zh-CN' ? '、' : ', ');
  const lbl = (text: string) => ({ text, ...head });
  doc.fontSize(8).table({
    position: { x: MARGIN },
    columnStyles: [90, '*', 90, '*'],
    defaultStyle: cellStyle,
    data: [
      [lbl(L.unit), p.applicant.unit || '—', lbl(L.applicant), withPhone(p.applicant, p.applicant.name)],
      [lbl(L.place[p.kind]), p.location, lbl(p.kind === 'hot_work' ? L.level : L.kind), kindText],
      [lbl(L.work), { text: p.work, colSpan: 3 }],
      [lbl(L.crew[p.kind]), { text: crew, colSpan: 3 }],
      [
        lbl(L.attendant),
        attendant,
        lbl(L.approver),
        p.approver === null ? '—' : W.approvers[p.approver as keyof typeof W.approvers],
      ],
      [lbl(L.window), `${t(p.plannedStart)} — ${t(p.plannedEnd)}`, lbl(L.validUntil), t(p.validUntil)],
      [lbl(L.related), { text: p.related.length === 0 ? L.none : p.related.join(', '), colSpan: 3 }],
      [lbl(L.requirements), { text: L.requirementText(p.rules, positions), colSpan: 3 }],
    ],
  });

  section(L.gasTests);
  if (d.tests.length === 0) doc.fontSize(9).text(L.noTests);
  d.tests.forEach((test, i) => {
    const instrument = test.device ?? `${test.instrument ?? ''}${L.manual}`;
    doc
      .fontSize(9)
      .text(L.testHead(i + 1, W.testStatuses[test.status], test.started.name, instrument), MARGIN, doc.y, {
        lineGap: 2,
      });
    if (test.readings.length === 0) return;
    table(
      [70, 62, 60, 60, '*', 42, 60],
      test.readings.map((r) => [
        t(r.readAt),
        W.positions[r.position],
        permitGasName(lang, r.gas),
        valueText(lang, r.value, r.unit),
        limitText(lang, r.checks as unknown as GasCheck[]),
        r.pass ? L.pass : L.fail,
        r.recorded.name,
      ]),
      Object.values(L.cols),
    );
    doc.moveDown(0.3);
  });

  section(L.measures);
  table(
    [30, '*', 90, 80],
    p.measures.map((m) => [
      String(m.n),
      m.text,
      m.confirmed === null ? L.unconfirmed : m.confirmed.name,
      m.confirmed === null ? '—' : t(m.confirmed.at),
    ]),
    Object.values(L.measureCols),
  );

  section(L.monitoring);
  if (d.monitoring.records.length === 0) doc.fontSize(9).text(L.noMonitoring);
  else
    table(
      [70, 70, '*', 42, 130],
      [...d.monitoring.records]
        .reverse()
        .map((m) => [
          t(m.at),
          m.device ?? m.instrument ?? '—',
          m.values.map((v) => `${permitGasName(lang, v.gas)} ${valueText(lang, v.value, v.unit)}`).join(', '),
          m.pass ? L.pass : L.fail,
          reasonsText(lang, m.checks) || m.note,
        ]),
      Object.values(L.monitoringCols),
    );

  section(L.signatures);
  table(
    [70, 70, 90, '*', 50],
    d.events.map((e) => {
      const as = typeof e.data.as === 'string' ? W.approvers[e.data.as as keyof typeof W.approvers] : null;
      return [
        t(e.signed.at),
        W.actions[e.action as keyof typeof W.actions] ?? e.action,
        `${e.signed.name} (${W.roles[e.signed.role]})`,
        [as, eventNote(lang, e)].filter((x) => x !== null && x !== '').join(' — '),
        e.hash.slice(0, 8),
      ];
    }),
    Object.values(L.signatureCols),
  );

  section(L.acceptance, 40);
  const close = d.events.find((e) => e.action === 'close');
  doc
    .fontSize(9)
    .text(
      close === undefined
        ? L.notClosed
        : `${close.signed.name} (${W.roles[close.signed.role]})    ${t(close.signed.at)}    ${close.note}`,
    );
  doc.moveDown(1);
  doc
    .fontSize(8)
    .text(
      `${p.keepUntil === null ? '' : `${L.keepUntil}${L.colon}${t(p.keepUntil)}    `}${L.made}${L.colon}${localMinute(zone, madeAt)} (${zone.tz})`,
    );
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
