import { GAS_NAMES_ZH, type GasId } from './gases.js';
import type { LockoutReason } from './maintenance.js';
import type { CombustibleCheck, GasCheck, ToxicCheck } from './permits/judge.js';
import type {
  GasCheckKind,
  GasIdentity,
  HotWorkApprover,
  HotWorkLevel,
  PermitKind,
  PermitReason,
  PermitRuleSetId,
  TestPosition,
} from './permits/model.js';
import type { PermitRefusalCode, SpaceHazard, SpaceKind, TestStatus } from './permits/records.js';
import type { ToxicLimitKind } from './permits/rule-set.js';
import type { PermitAction, PermitState } from './permits/states.js';

/**
 * The words of permits and gas tests (SPEC §7), as a safety officer at a Chinese plant writes them
 * and in English: the one copy the console, the server's records and exports say. Kept apart from
 * permits/ (zod) so the console's first load takes the words without the schemas (type imports
 * only). Reasons are templates with `{name}` placeholders, usable as vue-i18n messages as they
 * are; gasCheckText and permitTimingText fill them.
 */

export type PermitLocale = 'zh-CN' | 'en';

export interface PermitWords {
  ruleSets: Record<PermitRuleSetId, string>;
  kinds: Record<PermitKind, string>;
  levels: Record<HotWorkLevel, string>;
  approvers: Record<HotWorkApprover, string>;
  states: Record<PermitState, string>;
  actions: Record<PermitAction, string>;
  positions: Record<TestPosition, string>;
  checks: Record<GasCheckKind, string>;
  gases: Record<GasId, string>;
  limitKinds: Record<ToxicLimitKind, string>;
  reasons: Record<PermitReason, string>;
  /** The confined-space register's words. */
  spaceKinds: Record<SpaceKind, string>;
  hazards: Record<SpaceHazard, string>;
  testStatuses: Record<TestStatus, string>;
  roles: Record<'viewer' | 'operator' | 'supervisor' | 'admin' | 'system', string>;
  /** Why work stopped by itself (the server suspended it). */
  suspensions: Record<PermitSuspensionReason, string>;
  /** Why the server refuses an action, beyond the rule set's reasons: templates as `reasons`. */
  refusals: Record<PermitRefusalCode, string>;
  /** Why a detector may not be used for a gas test (SPEC §11), as `detector_unfit` lists them. */
  lockouts: Record<LockoutReason, string>;
}

/** Why the server suspended work by itself: any of these means stop, evacuate, test again. */
export type PermitSuspensionReason = 'alarm' | 'reading_failed' | 'offline' | 'detector_status';

export const PERMIT_WORDS: Record<PermitLocale, PermitWords> = {
  'zh-CN': {
    ruleSets: {
      gb30871: 'GB 30871-2022《危险化学品企业特殊作业安全规范》',
      mem13: '《工贸企业有限空间作业安全规定》（应急管理部令第13号）',
      osha1910: '美国 OSHA 29 CFR 1910.146（受限空间作业许可）',
    },
    kinds: { confined_space: '受限空间作业', hot_work: '动火作业' },
    levels: { special: '特级动火', level1: '一级动火', level2: '二级动火' },
    approvers: {
      leader_in_charge: '主管领导',
      safety_department: '安全管理部门',
      operating_unit: '动火点所在基层单位',
    },
    states: {
      draft: '草稿',
      approved: '已审批',
      testing: '气体检测中',
      ready: '检测合格，待作业',
      in_progress: '作业中',
      suspended: '作业暂停',
      closed: '已完工',
      cancelled: '已取消',
      expired: '已过期',
    },
    actions: {
      approve: '审批',
      start_test: '开始气体检测',
      pass_test: '检测合格',
      start: '开始作业',
      suspend: '暂停作业',
      resume: '恢复作业',
      close: '完工关闭',
      cancel: '取消作业票',
      expire: '作业票过期',
    },
    positions: {
      top: '上部',
      middle: '中部',
      bottom: '下部',
      representative: '代表性检测点',
      within_10m: '动火点周围 10 m 内',
      inside_equipment: '设备内部',
    },
    checks: { oxygen: '氧含量', combustible: '可燃气体', toxic: '有毒气体' },
    gases: GAS_NAMES_ZH,
    limitKinds: {
      mac: '最高容许浓度',
      pc_stel: '短时间接触容许浓度',
      pc_twa: '时间加权平均容许浓度',
      pel_ceiling: 'PEL 上限值',
      pel_twa: 'PEL（8 h 时间加权平均）',
      site: '本单位限值',
    },
    reasons: {
      o2_low: '氧含量 {value}，低于 {limit}',
      o2_high: '氧含量 {value}，高于 {limit}',
      o2_high_enriched: '氧含量 {value}，高于富氧环境上限 {limit}',
      combustible_high: '{gas}浓度 {value}，高于 {limit}',
      combustible_not_below: '{gas}浓度 {value}，未低于 {limit}',
      toxic_high: '{gas}浓度 {value}，高于{limitKind} {limit}',
      no_limit: '{gas}没有判定限值，请在本单位作业规则中设定',
      test_too_old: '气体分析合格已超过 {limit} 分钟，须重新检测',
      start_before_test: '作业开始时间早于气体分析合格时间',
      interruption_too_long: '作业中断超过 {limit} 分钟，须重新进行气体分析，合格后方可恢复作业',
      interrupted: '作业中断后须重新进行气体分析，合格后方可恢复作业',
      new_day: '每日动火前均应进行气体分析：上次分析在 {lastTestDay}，今天是 {startDay}',
      permit_expired: '作业票已超过有效期，须重新办理',
    },
    spaceKinds: {
      sewer: '污水管道',
      manhole: '检查井',
      tank: '储罐',
      pit: '地坑',
      silo: '筒仓',
      vessel: '容器（塔、釜、槽）',
      other: '其他',
    },
    hazards: {
      oxygen_deficiency: '缺氧窒息',
      toxic_gas: '有毒气体中毒',
      flammable_gas: '可燃气体燃爆',
      engulfment: '淹埋',
      drowning: '淹溺',
      mechanical: '机械伤害',
      electrical: '触电',
      fall: '高处坠落',
    },
    testStatuses: { in_progress: '检测中', passed: '合格', failed: '不合格', abandoned: '已作废' },
    roles: { viewer: '查看人员', operator: '值班人员', supervisor: '主管', admin: '管理员', system: '系统' },
    suspensions: {
      alarm: '检测仪报警',
      reading_failed: '监测数据不合格',
      offline: '检测仪离线',
      detector_status: '检测仪停止检测',
    },
    refusals: {
      invalid_transition: '作业票处于“{state}”状态，不能“{action}”',
      role_required: '“{action}”须由{role}办理',
      system_action: '“{action}”由系统自动完成',
      own_permit: '起草或修改过这张作业票的人不能审批它',
      measures_unconfirmed: '还有 {count} 项安全措施未确认',
      no_passed_test: '尚无合格的气体分析',
      before_window: '作业票自 {from} 起有效',
      evacuated: '作业因{reason}中止：人员撤离后须重新进行气体分析，合格后方可作业',
      no_monitor: '须连续监测：请指定监测用的检测仪或便携式仪器',
      detector_offline: '检测仪 {device} 离线',
      detector_alarm: '检测仪 {device} 正在报警：{message}',
      detector_unfit: '检测仪 {device} 不能用于作业前检测：{reasons}',
      detector_cannot_test: '检测仪 {device} 不能检测{checks}',
    },
    lockouts: {
      bump_test_failed: '最近一次冲击测试未通过',
      no_bump_test: '没有冲击测试记录',
      bump_test_not_today: '今天还没做冲击测试',
      calibration_failed: '最近一次标定不合格',
      no_calibration: '没有标定记录',
      calibration_overdue: '已超过标定有效期',
      sensor_end_of_life: '传感器已到使用寿命',
      alarm_expired: '报警器已超过使用年限',
    },
  },
  en: {
    ruleSets: {
      gb30871: 'GB 30871-2022 (special work in hazardous-chemical enterprises)',
      mem13: 'MEM Order No. 13 (confined spaces in industry and trade)',
      osha1910: 'OSHA 29 CFR 1910.146 (permit-required confined spaces)',
    },
    kinds: { confined_space: 'Confined-space entry', hot_work: 'Hot work' },
    levels: { special: 'Special-level hot work', level1: 'Level 1 hot work', level2: 'Level 2 hot work' },
    approvers: {
      leader_in_charge: 'Leader in charge',
      safety_department: 'Safety department',
      operating_unit: 'Operating unit where the work is done',
    },
    states: {
      draft: 'Draft',
      approved: 'Approved',
      testing: 'Gas testing',
      ready: 'Test passed, ready',
      in_progress: 'In progress',
      suspended: 'Suspended',
      closed: 'Closed',
      cancelled: 'Cancelled',
      expired: 'Expired',
    },
    actions: {
      approve: 'Approve',
      start_test: 'Start gas test',
      pass_test: 'Test passed',
      start: 'Start work',
      suspend: 'Suspend work',
      resume: 'Resume work',
      close: 'Close',
      cancel: 'Cancel permit',
      expire: 'Permit expired',
    },
    positions: {
      top: 'Top',
      middle: 'Middle',
      bottom: 'Bottom',
      representative: 'Representative point',
      within_10m: 'Within 10 m of the hot-work point',
      inside_equipment: 'Inside the equipment',
    },
    checks: { oxygen: 'Oxygen', combustible: 'Combustible gas', toxic: 'Toxic gas' },
    gases: {
      CO: 'CO',
      H2S: 'H2S',
      O2: 'Oxygen',
      CH4: 'Methane',
      C3H8: 'Propane',
      LEL: 'Combustible gas',
      CO2: 'CO2',
    },
    limitKinds: {
      mac: 'MAC',
      pc_stel: 'PC-STEL',
      pc_twa: 'PC-TWA',
      pel_ceiling: 'ceiling PEL',
      pel_twa: 'PEL (8-h TWA)',
      site: 'site limit',
    },
    reasons: {
      o2_low: 'Oxygen {value}, below {limit}',
      o2_high: 'Oxygen {value}, above {limit}',
      o2_high_enriched: 'Oxygen {value}, above the {limit} allowed in an oxygen-enriched space',
      combustible_high: '{gas} {value}, above {limit}',
      combustible_not_below: '{gas} {value}, not below {limit}',
      toxic_high: '{gas} {value}, above the {limitKind} of {limit}',
      no_limit: "{gas}: no limit to judge it by; set one in the site's permit rules",
      test_too_old: 'More than {limit} min since the gas test passed: test again',
      start_before_test: 'Work cannot start before the gas test has passed',
      interruption_too_long: 'Work stopped for more than {limit} min: test again before resuming',
      interrupted: 'Work was interrupted: test again before resuming',
      new_day: 'Hot work needs a gas test each day: last test on {lastTestDay}, today is {startDay}',
      permit_expired: 'The permit has expired: issue a new one',
    },
    spaceKinds: {
      sewer: 'Sewer',
      manhole: 'Manhole',
      tank: 'Tank',
      pit: 'Pit',
      silo: 'Silo',
      vessel: 'Vessel (column, reactor, tank car)',
      other: 'Other',
    },
    hazards: {
      oxygen_deficiency: 'Oxygen deficiency',
      toxic_gas: 'Toxic gas',
      flammable_gas: 'Flammable gas',
      engulfment: 'Engulfment',
      drowning: 'Drowning',
      mechanical: 'Moving machinery',
      electrical: 'Electricity',
      fall: 'Falls',
    },
    testStatuses: { in_progress: 'In progress', passed: 'Passed', failed: 'Failed', abandoned: 'Abandoned' },
    roles: {
      viewer: 'viewer',
      operator: 'operator',
      supervisor: 'supervisor',
      admin: 'administrator',
      system: 'system',
    },
    suspensions: {
      alarm: 'the detector alarmed',
      reading_failed: 'a monitoring reading failed',
      offline: 'the detector went offline',
      detector_status: 'the detector stopped measuring',
    },
    refusals: {
      invalid_transition: '“{action}” is not possible while the permit is “{state}”',
      role_required: '“{action}” needs the {role} role',
      system_action: '“{action}” is taken by the server itself',
      own_permit: 'Whoever drew up or changed a permit cannot approve it',
      measures_unconfirmed: '{count} safety measures are not confirmed yet',
      no_passed_test: 'No gas test has passed',
      before_window: 'The permit is valid from {from}',
      evacuated: 'Work was stopped because {reason}: evacuate, test the air again, then work may go on',
      no_monitor: 'Continuous monitoring: name the detector or portable instrument that watches the work',
      detector_offline: 'Detector {device} is offline',
      detector_alarm: 'Detector {device} is in alarm: {message}',
      detector_unfit: 'Detector {device} may not be used for a gas test: {reasons}',
      detector_cannot_test: 'Detector {device} cannot test {checks}',
    },
    lockouts: {
      bump_test_failed: 'its last bump test failed',
      no_bump_test: 'no bump test recorded',
      bump_test_not_today: 'not bump-tested today',
      calibration_failed: 'its last calibration failed',
      no_calibration: 'no calibration recorded',
      calibration_overdue: 'calibration overdue',
      sensor_end_of_life: 'sensor past its end of life',
      alarm_expired: 'alarm past its expiry',
    },
  },
};

/** `{name}` placeholders filled from `params`; an unknown one is left as it is. */
export function fillPermitTemplate(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

function digitsFor(n: number): number {
  const a = Math.abs(n);
  return a >= 100 ? 0 : a >= 10 ? 1 : 2;
}

function fmt(n: number, digits: number): string {
  return String(Number(n.toFixed(digits)));
}

/**
 * A value and its limit as people read them: 2 decimals below 10, 1 below 100, none above,
 * trailing zeros dropped; more decimals when rounding would make two different numbers look
 * alike (19.45 against 19.5 reads "19.45", not "19.5").
 */
export function formatPermitNumbers(value: number, limit: number): [string, string] {
  let digits = Math.max(digitsFor(value), digitsFor(limit));
  while (value !== limit && fmt(value, digits) === fmt(limit, digits) && digits < 6) digits++;
  return [fmt(value, digits), fmt(limit, digits)];
}

/** %vol in each language: Chinese writes a plain %, English says which percent. */
function pctVol(locale: PermitLocale, s: string): string {
  return locale === 'zh-CN' ? `${s}%` : `${s} %vol`;
}
function pctLel(locale: PermitLocale, s: string): string {
  return locale === 'zh-CN' ? `${s}%LEL` : `${s} %LEL`;
}
function alt(locale: PermitLocale, s: string): string {
  return locale === 'zh-CN' ? `（${s}）` : ` (${s})`;
}

/** A gas's name in a language: the catalogue's words, or the permit's own name of a custom gas. */
export function permitGasName(locale: PermitLocale, gas: GasIdentity): string {
  return typeof gas === 'string' ? PERMIT_WORDS[locale].gases[gas] : gas.name;
}

function combustibleParams(locale: PermitLocale, c: CombustibleCheck) {
  const [vVol, lVol] = formatPermitNumbers(c.valuePctVol, c.limitPctVol);
  const [vLel, lLel] = formatPermitNumbers(c.valuePctLel, c.limitPctLel);
  const vol = c.limitUnit === '%vol';
  return {
    value: vol
      ? pctVol(locale, vVol) + alt(locale, pctLel(locale, vLel))
      : pctLel(locale, vLel) + alt(locale, pctVol(locale, vVol)),
    limit: vol
      ? pctVol(locale, lVol) + alt(locale, pctLel(locale, lLel))
      : pctLel(locale, lLel) + alt(locale, pctVol(locale, lVol)),
  };
}

function toxicParams(locale: PermitLocale, c: ToxicCheck) {
  if (c.limit === null) return { value: `${c.valuePpm} ppm`, limit: '', limitKind: '' };
  const [vPpm, lPpm] = formatPermitNumbers(c.valuePpm, c.limit.ppm);
  const [vMg, lMg] = formatPermitNumbers(c.valueMgM3 ?? 0, c.limit.mgM3);
  const value = c.valueMgM3 === null ? `${vPpm} ppm` : `${vPpm} ppm${alt(locale, `${vMg} mg/m³`)}`;
  const limit =
    c.limit.unit === 'mg/m³'
      ? `${lMg} mg/m³${alt(locale, `${lPpm} ppm`)}`
      : `${lPpm} ppm${alt(locale, `${lMg} mg/m³`)}`;
  return { value, limit, limitKind: PERMIT_WORDS[locale].limitKinds[c.limit.kind] };
}

/**
 * Why a gas check failed, e.g. "氧含量 18.9%，低于 19.5%" / "Oxygen 18.9 %vol, below 19.5 %vol";
 * null when it passed.
 */
export function gasCheckText(locale: PermitLocale, check: GasCheck): string | null {
  if (check.reason === null) return null;
  const template = PERMIT_WORDS[locale].reasons[check.reason];
  const gas = permitGasName(locale, check.gas);
  switch (check.check) {
    case 'oxygen': {
      const limit = check.reason === 'o2_low' ? check.minPctVol : check.maxPctVol;
      const [v, l] = formatPermitNumbers(check.valuePctVol, limit);
      return fillPermitTemplate(template, { value: pctVol(locale, v), limit: pctVol(locale, l) });
    }
    case 'combustible':
      return fillPermitTemplate(template, { gas, ...combustibleParams(locale, check) });
    case 'toxic':
      return fillPermitTemplate(template, { gas, ...toxicParams(locale, check) });
  }
}

/**
 * What a timing verdict (testStillValid, interruptionNeedsRetest, dailyAnalysisNeeded,
 * permitStillValid) means for the work, e.g. "气体分析合格已超过 30 分钟，须重新检测"; null when
 * work may go on.
 */
export function permitTimingText(
  locale: PermitLocale,
  verdict: {
    reason: PermitReason | null;
    windowMin?: number;
    limitMin?: number;
    lastTestDay?: string;
    startDay?: string;
  },
): string | null {
  if (verdict.reason === null) return null;
  return fillPermitTemplate(PERMIT_WORDS[locale].reasons[verdict.reason], {
    limit: verdict.windowMin ?? verdict.limitMin ?? '',
    lastTestDay: verdict.lastTestDay ?? '',
    startDay: verdict.startDay ?? '',
  });
}

/** What an alarm of a detector is, said in the language (the engine's message is English). */
function alarmWords(locale: PermitLocale, p: Record<string, string | number>): string {
  const zh = locale === 'zh-CN';
  const kind = String(p.kind);
  if (kind === 'gas' && typeof p.gas === 'string') {
    const gas = (PERMIT_WORDS[locale].gases as Record<string, string>)[p.gas] ?? p.gas;
    const unit = String(p.unit ?? '');
    const [value, limit] = formatPermitNumbers(Number(p.value), Number(p.threshold));
    const u = (v: string) => (unit === '' ? v : zh ? `${v} ${unit}` : `${v} ${unit}`);
    return zh
      ? `${gas}浓度 ${u(value)}（报警值 ${u(limit)}）`
      : `${gas} ${u(value)} (alarm level ${u(limit)})`;
  }
  const words: Record<string, [string, string]> = {
    detector: ['检测仪自身报警输出动作', "the detector's own alarm output is on"],
    fault: ['检测仪故障', 'detector fault'],
    offline: ['检测仪离线', 'the detector is offline'],
    maintenance: ['最近一次冲击测试未通过', 'its last bump test failed'],
  };
  const w = words[kind];
  return w === undefined ? String(p.message ?? kind) : w[zh ? 0 : 1];
}

/**
 * A refusal of a permit action as a person reads it: the rule set's reasons (PERMIT_REASONS) and
 * the server's (PERMIT_REFUSALS), with the ids among the params (state, action, role, reason,
 * checks) said in the language. An unknown code comes back as it is.
 */
export function permitRefusalText(
  locale: PermitLocale,
  refusal: { code: string; params: Record<string, string | number> },
): string {
  const w = PERMIT_WORDS[locale];
  const template =
    (w.reasons as Record<string, string>)[refusal.code] ??
    (w.refusals as Record<string, string>)[refusal.code] ??
    refusal.code;
  const p = { ...refusal.params };
  const word = (key: string, table: Record<string, string>) => {
    const v = p[key];
    if (typeof v === 'string' && v in table) p[key] = table[v] as string;
  };
  word('state', w.states);
  word('action', w.actions);
  word('role', w.roles);
  word('reason', w.suspensions);
  if (typeof p.reasons === 'string')
    p.reasons = p.reasons
      .split(',')
      .map((r) => (w.lockouts as Record<string, string>)[r] ?? r)
      .join(locale === 'zh-CN' ? '、' : ', ');
  if (refusal.code === 'detector_alarm' && typeof p.kind === 'string') p.message = alarmWords(locale, p);
  if (typeof p.checks === 'string')
    p.checks = p.checks
      .split(',')
      .map((c) => (w.checks as Record<string, string>)[c] ?? c)
      .join(locale === 'zh-CN' ? '、' : ', ');
  return fillPermitTemplate(template, p);
}
