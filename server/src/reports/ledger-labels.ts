import type { InspectionHazard, InspectionItemId } from '@gaswatch/shared';
import type { ExportLang } from '../alarm-export/labels.js';

/**
 * Everything a person reads in a ledger's XLSX and PDF, in one language. The Chinese is a
 * township office's own (登记户数, 走访户次, 隐患排查整改, 逾期未整改, 本级); the checklist's words are
 * those of docs/server.md "Inspections"; alarm kinds and reasons come from the alarm export's
 * labels (alarm-export/labels.ts), so the ledger and the history say the same.
 */
export interface LedgerLabels {
  title(areaName: string): string;
  week(start: string, end: string): string;
  cumulativeFrom(start: string | null): string;
  generated(at: string, by: string): string;
  /** A row of what lies directly in the ledger area (not in one of its villages). */
  ownRow(name: string): string;
  total: string;
  areaColumn: string;
  groups: { end: string; week: string; cumulative: string; now: string };
  tables: {
    households: { title: string } & Record<'registered' | 'registeredWeek' | 'visited' | 'visits', string>;
    vulnerable: { title: string } & Record<'registered' | 'covered' | 'uncovered' | 'visited', string>;
    hazards: { title: string } & Record<'found' | 'rectified' | 'outstanding' | 'overdue', string>;
    hazardItems: { title: string; hazard: string; item: string };
    detectors: { title: string } & Record<
      'installed' | 'inService' | 'expired' | 'online' | 'offline' | 'neverReported',
      string
    >;
    alarmKinds: { title: string; raised: string };
    alarmOutcomes: { title: string; unresolved: string };
    responseTimes: { title: string } & Record<
      'ackCount' | 'ackP50' | 'ackP90' | 'resolveCount' | 'resolveP50' | 'resolveP90',
      string
    >;
    advisories: { title: string; count: string; highest: string };
  };
  hazards: Record<InspectionHazard, string>;
  items: Record<InspectionItemId, string>;
  about: {
    sheet: string;
    area: string;
    week: string;
    cumulative: string;
    generatedAt: string;
    generatedBy: string;
    schedule: string;
    timeZone: string;
    notes: string;
    lines: string[];
  };
}

const zhCN: LedgerLabels = {
  title: (area) => `${area}冬季一氧化碳中毒防范工作周报`,
  week: (start, end) => `统计周期：${start} 至 ${end}`,
  cumulativeFrom: (start) => (start === null ? '累计：自首条记录起' : `累计：自 ${start} 起`),
  generated: (at, by) => `生成时间：${at}（${by}）`,
  ownRow: (name) => `${name}（本级）`,
  total: '合计',
  areaColumn: '村（社区）',
  groups: { end: '截至周末', week: '本周', cumulative: '累计', now: '生成时' },
  tables: {
    households: {
      title: '住户走访情况',
      registered: '登记户数',
      registeredWeek: '新登记户数',
      visited: '走访户数',
      visits: '走访户次',
    },
    vulnerable: {
      title: '重点人群覆盖情况',
      registered: '重点户数',
      covered: '已装报警器',
      uncovered: '未装报警器',
      visited: '走访户数',
    },
    hazards: {
      title: '隐患排查整改情况',
      found: '排查隐患',
      rectified: '完成整改',
      outstanding: '未整改',
      overdue: '逾期未整改',
    },
    hazardItems: { title: '隐患分项统计', hazard: '隐患类别', item: '检查项' },
    detectors: {
      title: '报警器安装及运行情况',
      installed: '安装数',
      inService: '在装总数',
      expired: '已过期',
      online: '在线',
      offline: '离线',
      neverReported: '从未上线',
    },
    alarmKinds: { title: '报警分类统计', raised: '报警总数' },
    alarmOutcomes: { title: '报警处置结果', unresolved: '未办结' },
    responseTimes: {
      title: '报警响应时间（秒）',
      ackCount: '确认数',
      ackP50: '确认用时中位数',
      ackP90: '确认用时90%分位',
      resolveCount: '办结数',
      resolveP50: '办结用时中位数',
      resolveP90: '办结用时90%分位',
    },
    advisories: { title: '一氧化碳中毒气象预警', count: '预警次数', highest: '最高等级' },
  },
  hazards: {
    water_heater: '燃气热水器',
    flue: '烟道',
    stove: '煤炉与烟囱',
    bedroom_burning: '卧室取暖',
    ventilation: '通风',
    gas_hose: '燃气软管',
    appliance_life: '燃气具年限',
    mixed_gas: '混用气源',
    kitchen_sleeping: '厨房住人',
    co_alarm: '一氧化碳报警器',
  },
  items: {
    water_heater_in_bathroom: '燃气热水器装在浴室内',
    water_heater_flueless: '使用直排式（无烟道）燃气热水器',
    flue_missing: '热水器未装烟道',
    flue_damaged: '烟道破损、脱节',
    flue_blocked: '烟道堵塞',
    flue_not_outdoors: '烟道未伸出室外',
    stove_no_chimney: '煤炉未装烟囱',
    chimney_leaking: '烟囱漏烟（破损、接口不严）',
    chimney_blocked: '烟囱堵塞',
    no_vent_window: '未装风斗、未留通风口',
    no_wind_cap: '烟囱出口未装防风帽',
    burning_in_bedroom: '卧室内烧炭火或生炉子',
    room_sealed: '门窗紧闭，室内不通风',
    gas_hose_aged: '燃气软管老化、龟裂',
    gas_hose_rubber: '使用普通橡胶软管',
    gas_hose_expired: '燃气软管超期使用',
    appliance_past_life: '燃气具超过使用年限（8 年）',
    pipeline_and_lpg_mixed: '同一房间混用管道燃气和瓶装液化气',
    sleeping_in_kitchen: '有人在厨房睡觉',
    co_alarm_missing: '未装一氧化碳报警器',
    co_alarm_unpowered: '报警器未通电或电池耗尽',
    co_alarm_expired: '报警器超过使用期限',
    co_alarm_misplaced: '报警器安装位置不当',
  },
  about: {
    sheet: '说明',
    area: '区域',
    week: '统计周期',
    cumulative: '累计起始',
    generatedAt: '生成时间',
    generatedBy: '生成方式',
    schedule: '定时生成',
    timeZone: '时区',
    notes: '口径说明',
    lines: [
      '“本周”为统计周期内；“累计”自活动开始至周末；“截至周末”为周末当日结束时的状态；“生成时”为报表生成时设备的在线状态。',
      '走访户数按户计，同一户多次走访计一户；走访户次按次计。重点户指有独居老人、老人、卧床、残疾、婴幼儿或留守儿童的住户。',
      '隐患按检查项计，一次走访发现几项计几项；整改按走访登记的整改完成日期计。逾期未整改指整改期限已过而未整改。',
      '报警按平台产生报警的时间计；处置结果为周末前的办结原因，周末前未办结的计“未办结”。',
      '响应时间为报警产生至确认（办结）的用时，按最近秩法取中位数和90%分位，单位秒。',
    ],
  },
};

const en: LedgerLabels = {
  title: (area) => `${area}: weekly CO-poisoning prevention ledger`,
  week: (start, end) => `Week: ${start} to ${end}`,
  cumulativeFrom: (start) =>
    start === null ? 'Cumulative: since the first record' : `Cumulative: since ${start}`,
  generated: (at, by) => `Made ${at} (${by})`,
  ownRow: (name) => `${name} (directly)`,
  total: 'Total',
  areaColumn: 'Village / community',
  groups: { end: 'At the end of the week', week: 'This week', cumulative: 'Cumulative', now: 'When made' },
  tables: {
    households: {
      title: 'Households and visits',
      registered: 'Registered',
      registeredWeek: 'Newly registered',
      visited: 'Households visited',
      visits: 'Visits',
    },
    vulnerable: {
      title: 'Vulnerable households covered',
      registered: 'Vulnerable households',
      covered: 'With a detector',
      uncovered: 'Without a detector',
      visited: 'Visited',
    },
    hazards: {
      title: 'Hazards found and rectified',
      found: 'Found',
      rectified: 'Rectified',
      outstanding: 'Not rectified',
      overdue: 'Overdue',
    },
    hazardItems: { title: 'Hazards by checklist item', hazard: 'Hazard', item: 'Item' },
    detectors: {
      title: 'Detectors installed, in service',
      installed: 'Installed',
      inService: 'In service',
      expired: 'Expired',
      online: 'Online',
      offline: 'Offline',
      neverReported: 'Never reported',
    },
    alarmKinds: { title: 'Alarms by kind', raised: 'Alarms' },
    alarmOutcomes: { title: 'Alarms by outcome', unresolved: 'Not resolved' },
    responseTimes: {
      title: 'Response times (seconds)',
      ackCount: 'Acknowledged',
      ackP50: 'p50 to acknowledge',
      ackP90: 'p90 to acknowledge',
      resolveCount: 'Resolved',
      resolveP50: 'p50 to resolve',
      resolveP90: 'p90 to resolve',
    },
    advisories: { title: 'CO weather advisories', count: 'Advisories', highest: 'Highest grade' },
  },
  hazards: {
    water_heater: 'Gas water heater',
    flue: 'Flue',
    stove: 'Stove and chimney',
    bedroom_burning: 'Heating in a bedroom',
    ventilation: 'Ventilation',
    gas_hose: 'Gas hose',
    appliance_life: 'Appliance life',
    mixed_gas: 'Mixed gas supplies',
    kitchen_sleeping: 'Sleeping in the kitchen',
    co_alarm: 'CO alarm',
  },
  items: {
    water_heater_in_bathroom: 'Gas water heater installed in the bathroom',
    water_heater_flueless: 'Flueless (direct-vent) gas water heater',
    flue_missing: 'No flue fitted',
    flue_damaged: 'Flue broken or come apart',
    flue_blocked: 'Flue blocked',
    flue_not_outdoors: 'Flue not led outdoors',
    stove_no_chimney: 'Stove without a chimney',
    chimney_leaking: 'Chimney leaking (broken, loose joints)',
    chimney_blocked: 'Chimney blocked',
    no_vent_window: 'No vent window (风斗) or air inlet',
    no_wind_cap: 'No wind cap on the chimney',
    burning_in_bedroom: 'Charcoal or a stove burning in a bedroom',
    room_sealed: 'Room sealed, no ventilation',
    gas_hose_aged: 'Gas hose aged or cracked',
    gas_hose_rubber: 'Plain rubber gas hose',
    gas_hose_expired: 'Gas hose past its service life',
    appliance_past_life: 'Gas appliance past its service life (8 years)',
    pipeline_and_lpg_mixed: 'Pipeline gas and bottled LPG in one room',
    sleeping_in_kitchen: 'Someone sleeps in the kitchen',
    co_alarm_missing: 'No CO alarm',
    co_alarm_unpowered: 'CO alarm unpowered or its battery flat',
    co_alarm_expired: 'CO alarm past its expiry',
    co_alarm_misplaced: 'CO alarm badly placed',
  },
  about: {
    sheet: 'About',
    area: 'Area',
    week: 'Week',
    cumulative: 'Cumulative since',
    generatedAt: 'Made at',
    generatedBy: 'Made by',
    schedule: 'the schedule',
    timeZone: 'Time zone',
    notes: 'Definitions',
    lines: [
      '"This week" is the 7 days of the ledger; "cumulative" runs from the campaign start to the end of the week; "at the end of the week" is the state at midnight after its last day; "when made" is the detectors\' state when the ledger was made.',
      'Households visited count each household once however often visited; visits count each visit. A vulnerable household has an occupant who is elderly (alone or not), bedridden, disabled, an infant or a left-behind child.',
      'Hazards count checklist items found (a visit finding three counts three); rectified by the day the visit records them put right. Overdue: past the rectification deadline and not put right.',
      'Alarms count by when the server raised them; the outcome is the reason they were resolved with before the end of the week, else "not resolved".',
      'Response times run from the raise to the acknowledgement (resolution): median (p50) and 90th percentile (p90), nearest rank, in seconds.',
    ],
  },
};

export const LEDGER_LABELS: Record<ExportLang, LedgerLabels> = { 'zh-CN': zhCN, en };
