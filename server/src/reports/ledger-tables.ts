import { INSPECTION_CHECKLIST } from '@gaswatch/shared';
import { EXPORT_LABELS, type ExportLang } from '../alarm-export/labels.js';
import { ALARM_KINDS, RESOLUTION_REASONS } from '../alarms/model.js';
import type { Interval } from '../alarms/response.js';
import { LEDGER_LABELS } from './ledger-labels.js';
import type { AlarmCounts, LedgerNumbers, LedgerResponseTimes, LedgerRow } from './ledger-schema.js';
import type { DurationFigures } from './percentiles.js';

/**
 * The ledger's tables as an office reads them, in one language: what the XLSX (a sheet each) and
 * the PDF (one after another) both draw, so the two never differ. Each table has its row labels
 * on the left (a village per row and the total last, or for hazardItems a checklist item per
 * row) and its numbers under column groups: at the end of the week, this week, cumulative, when
 * the ledger was made.
 */

export const LEDGER_TABLE_IDS = [
  'households',
  'vulnerable',
  'hazards',
  'hazardItems',
  'detectors',
  'alarmKinds',
  'alarmOutcomes',
  'responseTimes',
  'advisories',
] as const;
export type LedgerTableId = (typeof LEDGER_TABLE_IDS)[number];

export type LedgerGroup = 'end' | 'week' | 'cumulative' | 'now';

export interface LedgerColumn {
  group: LedgerGroup;
  /**
   * A heading between the group and the label, over the columns of one measure (the response
   * times: 确认 over 数量, 中位数, 90%分位). A table has it on every column or on none.
   */
  stage?: string;
  label: string;
  /** A duration in seconds (shown whole) rather than a count. */
  seconds?: boolean;
}

export interface LedgerBodyRow {
  /** The row's labels, one per `head` column. */
  head: string[];
  cells: Array<number | null>;
  /** The total row (drawn bold). */
  total?: boolean;
}

export interface LedgerTable {
  id: LedgerTableId;
  title: string;
  /** Labels of the row-label columns. */
  head: string[];
  columns: LedgerColumn[];
  rows: LedgerBodyRow[];
}

/** A column of a table with a row per village: its group, label, the number it shows, and whether seconds; its stage. */
type Spec = [LedgerGroup, string, (r: LedgerRow) => number | null, boolean?, string?];

/** Runs of equal groups, for the merged header cells: [group, first column, count]. */
export function groupSpans(columns: readonly LedgerColumn[]): Array<[LedgerGroup, number, number]> {
  const spans: Array<[LedgerGroup, number, number]> = [];
  columns.forEach((c, i) => {
    const last = spans.at(-1);
    if (last !== undefined && last[0] === c.group) last[2]++;
    else spans.push([c.group, i, 1]);
  });
  return spans;
}

/** Runs of equal stages within a group, for the middle header row: [stage, first column, count]. */
export function stageSpans(columns: readonly LedgerColumn[]): Array<[string, number, number]> {
  const spans: Array<[string, number, number]> = [];
  columns.forEach((c, i) => {
    const last = spans.at(-1);
    const prev = columns[i - 1];
    if (last !== undefined && prev?.group === c.group && prev.stage === c.stage) last[2]++;
    else spans.push([c.stage ?? '', i, 1]);
  });
  return spans;
}

/** Whether the table has the stage header row. */
export const staged = (t: LedgerTable): boolean => t.columns.some((c) => c.stage !== undefined);

export function ledgerTables(n: LedgerNumbers, lang: ExportLang): LedgerTable[] {
  const L = LEDGER_LABELS[lang];
  const X = EXPORT_LABELS[lang];
  const T = L.tables;
  const byVillage = (id: LedgerTableId, title: string, specs: Spec[]): LedgerTable => ({
    id,
    title,
    head: [L.areaColumn],
    columns: specs.map(([group, label, , seconds, stage]) => ({
      group,
      label,
      ...(seconds ? { seconds } : {}),
      ...(stage === undefined ? {} : { stage }),
    })),
    rows: [
      ...n.rows.map((r) => ({
        head: [r.area === n.area ? L.ownRow(r.name) : r.name],
        cells: specs.map(([, , get]) => get(r)),
      })),
      { head: [L.total], cells: specs.map(([, , get]) => get(n.total)), total: true },
    ],
  });
  const kinds = (group: LedgerGroup, of: (r: LedgerRow) => AlarmCounts): Spec[] => [
    [group, T.alarmKinds.raised, (r) => of(r).raised],
    ...ALARM_KINDS.map((k): Spec => [group, X.kind[k], (r) => of(r).byKind[k]]),
  ];
  const outcomes = (group: LedgerGroup, of: (r: LedgerRow) => AlarmCounts): Spec[] => [
    ...RESOLUTION_REASONS.map((k): Spec => [group, X.reason[k], (r) => of(r).byOutcome[k]]),
    [group, T.alarmOutcomes.unresolved, (r) => of(r).byOutcome.unresolved],
  ];
  // Along the chain: sent, delivered, acknowledged, on site, resolved. Ledgers made before issue
  // 15 have no sent, delivered or on-site figures: those cells stay empty.
  // Along the chain: first sent, delivered, acknowledged, on site, resolved, each under its stage
  // heading. Ledgers made before issue 15 have no sent, delivered or on-site figures: empty cells.
  const times = (group: LedgerGroup, of: (r: LedgerRow) => LedgerResponseTimes): Spec[] => {
    const R = T.responseTimes;
    const figures = (stage: Interval, count: boolean): Spec[] => {
      const get = (r: LedgerRow): DurationFigures | undefined => of(r)[stage];
      return [
        ...(count
          ? [[group, R.count, (r: LedgerRow) => get(r)?.count ?? null, false, R.stages[stage]] as Spec]
          : []),
        [group, R.p50, (r) => get(r)?.p50 ?? null, true, R.stages[stage]],
        [group, R.p90, (r) => get(r)?.p90 ?? null, true, R.stages[stage]],
      ];
    };
    return [
      ...figures('sent', false),
      ...figures('delivered', false),
      ...figures('acknowledge', true),
      ...figures('onSite', false),
      ...figures('resolve', true),
    ];
  };
  const itemGroups: LedgerColumn[] = [
    { group: 'week', label: T.hazards.found },
    { group: 'week', label: T.hazards.rectified },
    { group: 'cumulative', label: T.hazards.found },
    { group: 'cumulative', label: T.hazards.rectified },
  ];
  const t = n.total.hazards;

  return [
    byVillage('households', T.households.title, [
      ['end', T.households.registered, (r) => r.households.registered],
      ['week', T.households.registeredWeek, (r) => r.households.registeredWeek],
      ['week', T.households.visited, (r) => r.households.visitedWeek],
      ['week', T.households.visits, (r) => r.households.visitsWeek],
      ['cumulative', T.households.visited, (r) => r.households.visitedCumulative],
      ['cumulative', T.households.visits, (r) => r.households.visitsCumulative],
    ]),
    byVillage('vulnerable', T.vulnerable.title, [
      ['end', T.vulnerable.registered, (r) => r.vulnerable.registered],
      ['end', T.vulnerable.covered, (r) => r.vulnerable.covered],
      ['end', T.vulnerable.uncovered, (r) => r.vulnerable.uncovered],
      ['week', T.vulnerable.visited, (r) => r.vulnerable.visitedWeek],
      ['cumulative', T.vulnerable.visited, (r) => r.vulnerable.visitedCumulative],
    ]),
    byVillage('hazards', T.hazards.title, [
      ['week', T.hazards.found, (r) => r.hazards.foundWeek],
      ['week', T.hazards.rectified, (r) => r.hazards.rectifiedWeek],
      ['cumulative', T.hazards.found, (r) => r.hazards.foundCumulative],
      ['cumulative', T.hazards.rectified, (r) => r.hazards.rectifiedCumulative],
      ['end', T.hazards.outstanding, (r) => r.hazards.outstanding],
      ['end', T.hazards.overdue, (r) => r.hazards.overdue],
    ]),
    {
      id: 'hazardItems',
      title: T.hazardItems.title,
      head: [T.hazardItems.hazard, T.hazardItems.item],
      columns: itemGroups,
      rows: [
        ...INSPECTION_CHECKLIST.map(({ id, hazard }) => {
          const c = t.byItem[id];
          return {
            head: [L.hazards[hazard], L.items[id]],
            cells: [c.foundWeek, c.rectifiedWeek, c.foundCumulative, c.rectifiedCumulative],
          };
        }),
        {
          head: [L.total, ''],
          cells: [t.foundWeek, t.rectifiedWeek, t.foundCumulative, t.rectifiedCumulative],
          total: true,
        },
      ],
    },
    byVillage('detectors', T.detectors.title, [
      ['week', T.detectors.installed, (r) => r.detectors.installedWeek],
      ['cumulative', T.detectors.installed, (r) => r.detectors.installedCumulative],
      ['end', T.detectors.inService, (r) => r.detectors.inService],
      ['end', T.detectors.expired, (r) => r.detectors.expired],
      ['now', T.detectors.online, (r) => r.detectors.online],
      ['now', T.detectors.offline, (r) => r.detectors.offline],
      ['now', T.detectors.neverReported, (r) => r.detectors.neverReported],
    ]),
    byVillage('alarmKinds', T.alarmKinds.title, [
      ...kinds('week', (r) => r.alarms.week),
      ...kinds('cumulative', (r) => r.alarms.cumulative),
    ]),
    byVillage('alarmOutcomes', T.alarmOutcomes.title, [
      ...outcomes('week', (r) => r.alarms.week),
      ...outcomes('cumulative', (r) => r.alarms.cumulative),
    ]),
    byVillage('responseTimes', T.responseTimes.title, [
      ...times('week', (r) => r.responseTimes.week),
      ...times('cumulative', (r) => r.responseTimes.cumulative),
    ]),
    byVillage('advisories', T.advisories.title, [
      ['week', T.advisories.count, (r) => r.advisories.week],
      ['week', T.advisories.highest, (r) => r.advisories.highestGradeWeek],
      ['cumulative', T.advisories.count, (r) => r.advisories.cumulative],
    ]),
  ];
}

/** The lines under a ledger's title: its week, where cumulative starts, when and by whom it was made. */
export function ledgerSubtitle(
  n: LedgerNumbers,
  lang: ExportLang,
  made: { at: string; by: string },
): string[] {
  const L = LEDGER_LABELS[lang];
  return [
    `${L.week(n.week.start, n.week.end)}    ${L.cumulativeFrom(n.campaignStart)}`,
    L.generated(made.at, made.by === 'schedule' ? L.about.schedule : made.by),
  ];
}
