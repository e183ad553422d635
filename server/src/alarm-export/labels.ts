import { GAS_NAMES_ZH, type GasId } from '@gaswatch/shared';
import type { Alarm, AlarmKind, AlarmLifecycleState, ResolutionReason } from '../alarms/model.js';

/** The languages an export is written in. */
export const EXPORT_LANGS = ['zh-CN', 'en'] as const;
export type ExportLang = (typeof EXPORT_LANGS)[number];

/** The export's columns, in order: the keys the console and scripts name them by. */
export const COLUMN_KEYS = [
  'id',
  'raisedAt',
  'device',
  'gateway',
  'site',
  'area',
  'kind',
  'gas',
  'severity',
  'value',
  'threshold',
  'unit',
  'state',
  'clearedAt',
  'ackBy',
  'ackAt',
  'ackNote',
  'onMyWayAt',
  'onSiteAt',
  'calls',
  'resolvedBy',
  'resolvedAt',
  'reason',
  'resolutionNote',
  'secondsToAck',
  'secondsToResolve',
] as const;
export type ColumnKey = (typeof COLUMN_KEYS)[number];

/** Everything a person reads in an export, in one language. */
export interface ExportLabels {
  columns: Record<ColumnKey, string>;
  kind: Record<AlarmKind, string>;
  severity: Record<Alarm['severity'], string>;
  state: Record<AlarmLifecycleState, string>;
  reason: Record<ResolutionReason, string>;
  gas: Record<GasId, string>;
  /** The worksheets' names (at most 31 characters, no []:*?/\). */
  sheets: { alarms: string; about: string };
  /** The second sheet: what the export holds and which filter chose it. */
  about: {
    exportedAt: string;
    exportedBy: string;
    timeZone: string;
    rows: string;
    filter: string;
    /** A filter not given: every value. */
    everything: string;
  };
  filters: Record<FilterKey, string>;
  /** The outcome filter's `unresolved` and the state filter's `open`. */
  unresolved: string;
  open: string;
}

/** The filters an export names on its second sheet (routes/alarm-query.ts). */
export const FILTER_KEYS = [
  'from',
  'to',
  'area',
  'site',
  'device',
  'kind',
  'gas',
  'severity',
  'outcome',
  'state',
] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

/**
 * Chinese as a township duty room writes it, with the console's own words where it has them
 * (server/console/src/locales/zh-CN.ts: 紧急/预警, 报警中/已确认/已恢复, 点位, 检测值, 报警值,
 * 处置情况), so the sheet and the screen say the same thing.
 */
const zhCN: ExportLabels = {
  columns: {
    id: '报警编号',
    raisedAt: '报警时间',
    device: '设备',
    gateway: '网关',
    site: '点位',
    area: '区域',
    kind: '报警类型',
    gas: '气体',
    severity: '报警级别',
    value: '检测值',
    threshold: '报警值',
    unit: '单位',
    state: '状态',
    clearedAt: '恢复时间',
    ackBy: '确认人',
    ackAt: '确认时间',
    ackNote: '处置情况',
    onMyWayAt: '出发时间',
    onSiteAt: '到场时间',
    calls: '电话联系次数',
    resolvedBy: '办结人',
    resolvedAt: '办结时间',
    reason: '办结原因',
    resolutionNote: '办结说明',
    secondsToAck: '确认用时（秒）',
    secondsToResolve: '办结用时（秒）',
  },
  kind: {
    gas: '浓度报警',
    detector: '探测器报警',
    offline: '设备离线',
    fault: '故障报警',
    maintenance: '维护报警',
  },
  severity: { critical: '紧急', warning: '预警' },
  state: {
    active: '报警中',
    acknowledged: '已确认',
    cleared_unacked: '已恢复·待确认',
    cleared: '已恢复',
  },
  // 真实警情 rather than 真实泄漏: a CO alarm from a charcoal brazier is real but no leak.
  reason: {
    real_event: '真实警情',
    false_alarm: '误报',
    test: '测试',
    maintenance: '维护作业',
    device_fault: '设备故障',
  },
  gas: GAS_NAMES_ZH,
  sheets: { alarms: '报警记录', about: '导出说明' },
  about: {
    exportedAt: '导出时间',
    exportedBy: '导出人',
    timeZone: '时区',
    rows: '报警条数',
    filter: '筛选条件',
    everything: '全部',
  },
  filters: {
    from: '报警时间起（含）',
    to: '报警时间止（不含）',
    area: '区域',
    site: '点位',
    device: '设备',
    kind: '报警类型',
    gas: '气体',
    severity: '报警级别',
    outcome: '办结原因',
    state: '状态',
  },
  unresolved: '未办结',
  open: '未结束（待确认或未恢复）',
};

const en: ExportLabels = {
  columns: {
    id: 'Alarm id',
    raisedAt: 'Raised at',
    device: 'Device',
    gateway: 'Gateway',
    site: 'Site',
    area: 'Area',
    kind: 'Kind',
    gas: 'Gas',
    severity: 'Severity',
    value: 'Reading',
    threshold: 'Set point',
    unit: 'Unit',
    state: 'State',
    clearedAt: 'Cleared at',
    ackBy: 'Acknowledged by',
    ackAt: 'Acknowledged at',
    ackNote: 'Acknowledgement note',
    onMyWayAt: 'On my way at',
    onSiteAt: 'On site at',
    calls: 'Calls',
    resolvedBy: 'Resolved by',
    resolvedAt: 'Resolved at',
    reason: 'Reason',
    resolutionNote: 'Resolution note',
    secondsToAck: 'Time to acknowledge (s)',
    secondsToResolve: 'Time to resolve (s)',
  },
  kind: {
    gas: 'Gas level',
    detector: 'Detector alarm',
    offline: 'Offline',
    fault: 'Fault',
    maintenance: 'Maintenance',
  },
  severity: { critical: 'Critical', warning: 'Warning' },
  state: {
    active: 'Active',
    acknowledged: 'Acknowledged',
    cleared_unacked: 'Cleared, not acknowledged',
    cleared: 'Cleared',
  },
  reason: {
    real_event: 'Real event',
    false_alarm: 'False alarm',
    test: 'Test',
    maintenance: 'Maintenance work',
    device_fault: 'Device fault',
  },
  gas: { CO: 'CO', H2S: 'H2S', O2: 'O2', CH4: 'CH4', C3H8: 'C3H8', LEL: 'LEL', CO2: 'CO2' },
  sheets: { alarms: 'Alarms', about: 'About' },
  about: {
    exportedAt: 'Exported at',
    exportedBy: 'Exported by',
    timeZone: 'Time zone',
    rows: 'Alarms',
    filter: 'Filter',
    everything: 'all',
  },
  filters: {
    from: 'Raised from (inclusive)',
    to: 'Raised before',
    area: 'Area',
    site: 'Site',
    device: 'Device',
    kind: 'Kind',
    gas: 'Gas',
    severity: 'Severity',
    outcome: 'Outcome',
    state: 'State',
  },
  unresolved: 'Not resolved',
  open: 'Open (not acknowledged or not cleared)',
};

export const EXPORT_LABELS: Record<ExportLang, ExportLabels> = { 'zh-CN': zhCN, en };
