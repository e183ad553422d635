import type { InspectionHazard, InspectionItemId } from '@gaswatch/shared';
import { INSPECTION_WORDS } from '@gaswatch/shared/inspection-words';
import type { ExportLang } from '../alarm-export/labels.js';
import type { Interval } from '../alarms/response.js';

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
    /** Each interval's stage heading, over its count (acknowledged, resolved), p50 and p90. */
    responseTimes: {
      title: string;
      stages: Record<Interval, string>;
      count: string;
      p50: string;
      p90: string;
    };
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
      stages: {
        sent: '通知发出',
        delivered: '通知送达',
        acknowledge: '确认',
        onSite: '到场',
        resolve: '办结',
      },
      count: '数量',
      p50: '中位数',
      p90: '90%分位',
    },
    advisories: { title: '一氧化碳中毒气象预警', count: '预警次数', highest: '最高等级' },
  },
  hazards: INSPECTION_WORDS['zh-CN'].hazards,
  items: INSPECTION_WORDS['zh-CN'].items,
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
      '响应时间均自平台产生报警起算，至首条通知发出（短信、电话、邮件、工作群消息，不含对接系统的Webhook）、首条通知送达（运营商回执、电话接通或收到回复）、确认、处置人员报告“已到场”、办结为止；按最近秩法取中位数和90%分位，单位秒。',
      '各项用时计入该环节发生的统计周期，例如本周确认用时为本周内确认的报警。空白（PDF中为“—”）表示该周期内无报警到达此环节。',
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
      stages: {
        sent: 'First sent',
        delivered: 'Delivered',
        acknowledge: 'Acknowledged',
        onSite: 'On site',
        resolve: 'Resolved',
      },
      count: 'count',
      p50: 'p50',
      p90: 'p90',
    },
    advisories: { title: 'CO weather advisories', count: 'Advisories', highest: 'Highest grade' },
  },
  hazards: INSPECTION_WORDS.en.hazards,
  items: INSPECTION_WORDS.en.items,
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
      'Response times run from the raise to the first notification sent (SMS, call, e-mail, work chat; not webhooks to other systems), to the first one delivered (a receipt, a call picked up or a reply), to the acknowledgement, to a responder reporting "on site", and to the resolution: median (p50) and 90th percentile (p90), nearest rank, in seconds.',
      "Each time counts in the period its milestone fell in: this week's time to acknowledge is of the alarms acknowledged this week. An empty cell (— in the PDF): no alarm reached that milestone in the period.",
    ],
  },
};

export const LEDGER_LABELS: Record<ExportLang, LedgerLabels> = { 'zh-CN': zhCN, en };
