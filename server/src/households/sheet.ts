import type {
  CONTACT_RELATIONS,
  DWELLINGS,
  HEATING_KINDS,
  Household,
  HouseholdContact,
  OccupantFlag,
} from '@gaswatch/shared';

/**
 * The household sheet (issue 13): the one shape township offices import, export and fill in from
 * the template, one row per household. Headers and words are read in Chinese, in English or as
 * the contract's ids; they are written in the language asked. docs/server.md ("Households: import
 * and export") shows the table an office reads.
 */

export const SHEET_LANGS = ['zh-CN', 'en'] as const;
export type SheetLang = (typeof SHEET_LANGS)[number];

type Dwelling = (typeof DWELLINGS)[number];
type HeatingKind = (typeof HEATING_KINDS)[number];
type Relation = (typeof CONTACT_RELATIONS)[number];

/** A word of an enumeration as offices write it: Chinese, English, and other words they use for it. */
export interface Word {
  zh: string;
  en: string;
  also?: readonly string[];
}

/** The console's words (server/console/src/locales/*\/households.ts), so the sheet and the screen agree. */
export const DWELLING_WORDS: Record<Dwelling, Word> = {
  own_home: { zh: '自建房', en: 'Own home', also: ['自有住房', '自住房'] },
  rental: { zh: '出租屋', en: 'Rental', also: ['出租房', '租房'] },
  urban_village: { zh: '城中村', en: 'Urban village' },
  remote_single: { zh: '偏远独户', en: 'Remote, single', also: ['偏远独居户', 'Remote single'] },
};

export const FLAG_WORDS: Record<OccupantFlag, Word> = {
  elderly_alone: { zh: '独居老人', en: 'Elderly, alone', also: ['Elderly alone', 'Elderly living alone'] },
  bedridden: { zh: '卧床', en: 'Bedridden', also: ['卧床病人'] },
  disabled: { zh: '残疾', en: 'Disabled', also: ['残疾人'] },
  infant: { zh: '婴幼儿', en: 'Infant' },
  left_behind_child: { zh: '留守儿童', en: 'Left-behind child' },
  elderly: { zh: '老人', en: 'Elderly', also: ['老年人'] },
  migrant: { zh: '外来务工', en: 'Migrant worker', also: ['外来务工人员', 'Migrant'] },
};

export const HEATING_WORDS: Record<HeatingKind, Word> = {
  coal_stove: { zh: '煤炉', en: 'Coal stove', also: ['燃煤炉', '煤球炉', '蜂窝煤炉'] },
  charcoal: { zh: '炭火', en: 'Charcoal', also: ['木炭', '炭盆', '炭火盆', '烤火盆'] },
  kang: { zh: '火炕', en: 'Kang', also: ['炕'] },
  gas_water_heater_flued: {
    zh: '燃气热水器（有烟道）',
    en: 'Gas water heater (flued)',
    also: ['烟道式燃气热水器', '强排式燃气热水器', '平衡式燃气热水器'],
  },
  gas_water_heater_flueless: {
    zh: '燃气热水器（无烟道）',
    en: 'Gas water heater (no flue)',
    also: ['直排式燃气热水器', '直排式热水器'],
  },
  gas_cooker: { zh: '燃气灶', en: 'Gas cooker', also: ['煤气灶', '液化气灶'] },
  other: { zh: '其他', en: 'Other', also: ['其它'] },
};

export const RELATION_WORDS: Record<Relation, Word> = {
  occupant: { zh: '住户本人', en: 'Occupant', also: ['本人'] },
  family: { zh: '家属', en: 'Family', also: ['亲属', '子女'] },
  neighbour: { zh: '邻居', en: 'Neighbour', also: ['Neighbor'] },
  grid_worker: { zh: '网格员', en: 'Grid worker' },
  village_cadre: { zh: '村干部', en: 'Village cadre', also: ['社区干部', '村（居）干部'] },
};

/** The flag columns' answers. A blank cell is 否. */
export const YES_NO: Record<'yes' | 'no', Word> = {
  yes: { zh: '是', en: 'Yes', also: ['y', 'true', '1', '有', '√', '✓', '✔'] },
  no: { zh: '否', en: 'No', also: ['n', 'false', '0', '无', '×', '✗', '-'] },
};

/** What separates the words of one cell (取暖方式, several detectors): 、 as offices write lists; , ; / too. */
export const LIST_SEPARATORS = /[、,，;；/\n]+/;

/** How a header or a word is compared: full-width forms folded (（）→ ()), no spaces, lower case. */
export const fold = (s: string): string => s.normalize('NFKC').replace(/\s+/g, '').toLowerCase();

/** Every way of writing each word of an enumeration, folded, to its id. */
export function wordIndex<K extends string>(words: Record<K, Word>): Map<string, K> {
  const index = new Map<string, K>();
  for (const [id, w] of Object.entries(words) as [K, Word][])
    for (const s of [id, w.zh, w.en, ...(w.also ?? [])]) index.set(fold(s), id);
  return index;
}

/** The word for `id` in `lang`. */
export const wordOf = (w: Word, lang: SheetLang): string => (lang === 'en' ? w.en : w.zh);

/** The words a person may write for an enumeration, for an error message. */
export const wordsOf = (words: Record<string, Word>): string =>
  Object.entries(words)
    .map(([id, w]) => `${w.zh} / ${w.en} / ${id}`)
    .join('; ');

/** Contact columns on an export and the template: three, or as many as the most any household has. */
export const CONTACT_GROUPS = 3;
/** The most contacts a household has (HouseholdInputSchema): the import reads 联系人1 to 联系人10. */
export const MAX_CONTACTS = 10;

export type ContactField = 'name' | 'relation' | 'phone';
export type ColumnKey =
  | 'id'
  | 'area'
  | 'address'
  | 'lat'
  | 'lon'
  | 'dwelling'
  | 'count'
  | `flag.${OccupantFlag}`
  | 'heating'
  | `contact.${number}.${ContactField}`
  | 'device'
  | 'location'
  | 'installedOn'
  | 'expiresOn'
  | 'notes';

/** The dropdown a column gets in an XLSX (Excel's list validation). */
export type ColumnList = 'yesNo' | 'dwelling' | 'relation';

export interface SheetColumn {
  key: ColumnKey;
  zh: string;
  en: string;
  /** Other headers offices write for it. */
  also?: readonly string[];
  type: 'text' | 'number';
  /** Width in Excel's units (a Chinese character takes two). */
  width: number;
  list?: ColumnList;
  /** What to write in it: the template's 填写说明 / How to fill in sheet. */
  hint: Record<SheetLang, string>;
}

const words = (w: Record<string, Word>, lang: SheetLang, sep: string) =>
  Object.values(w)
    .map((x) => wordOf(x, lang))
    .join(sep);

/** The flag columns in the order offices list them (独居老人 first), which is not the board's. */
const FLAG_COLUMNS: readonly OccupantFlag[] = [
  'elderly_alone',
  'elderly',
  'bedridden',
  'disabled',
  'infant',
  'left_behind_child',
  'migrant',
];

function contactColumns(n: number): SheetColumn[] {
  return [
    {
      key: `contact.${n}.name`,
      zh: `联系人${n}姓名`,
      en: `Contact ${n} name`,
      also: [`联系人${n}`],
      type: 'text',
      width: 12,
      hint: {
        'zh-CN': n === 1 ? '按拨打顺序：联系人1 最先打' : '',
        en: n === 1 ? 'In call order: contact 1 is called first' : '',
      },
    },
    {
      key: `contact.${n}.relation`,
      zh: `联系人${n}关系`,
      en: `Contact ${n} relation`,
      type: 'text',
      width: 10,
      list: 'relation',
      hint: { 'zh-CN': words(RELATION_WORDS, 'zh-CN', '、'), en: words(RELATION_WORDS, 'en', ', ') },
    },
    {
      key: `contact.${n}.phone`,
      zh: `联系人${n}电话`,
      en: `Contact ${n} phone`,
      also: [`联系人${n}手机`, `联系人${n}联系电话`],
      type: 'text',
      width: 15,
      hint: {
        'zh-CN': n === 1 ? '数字，可含空格、短横线，可以 + 开头' : '',
        en: n === 1 ? 'Digits, spaces and dashes, optionally a leading +' : '',
      },
    },
  ];
}

/** The sheet's columns in order, with `contacts` groups of contact columns. */
export function sheetColumns(contacts = CONTACT_GROUPS): SheetColumn[] {
  const yesNo = { 'zh-CN': '是 或 否（空白即否）', en: 'Yes or No (blank: No)' };
  return [
    {
      key: 'id',
      zh: '户编号',
      en: 'Household id',
      also: ['住户编号'],
      type: 'text',
      width: 18,
      hint: {
        'zh-CN': '必填。小写字母、数字、- 和 _，如 liujiang-3-12；同一编号再次导入即更新该户',
        en: 'Required. Lowercase letters, digits, - and _, e.g. liujiang-3-12; importing the same id again updates it',
      },
    },
    {
      key: 'area',
      zh: '所属村（社区）',
      en: 'Village or community',
      also: ['所属村', '所属社区', '村（社区）', '村居', 'Area'],
      type: 'text',
      width: 14,
      hint: { 'zh-CN': '必填。村或社区的名称或编号', en: 'Required. Its name or id' },
    },
    {
      key: 'address',
      zh: '地址',
      en: 'Address',
      also: ['住址', '详细地址'],
      type: 'text',
      width: 28,
      hint: { 'zh-CN': '必填', en: 'Required' },
    },
    {
      key: 'lat',
      zh: '纬度',
      en: 'Latitude',
      type: 'number',
      width: 10,
      hint: { 'zh-CN': '十进制度数，如 24.331', en: 'Decimal degrees, e.g. 24.331' },
    },
    {
      key: 'lon',
      zh: '经度',
      en: 'Longitude',
      type: 'number',
      width: 10,
      hint: { 'zh-CN': '十进制度数，如 109.412', en: 'Decimal degrees, e.g. 109.412' },
    },
    {
      key: 'dwelling',
      zh: '房屋类型',
      en: 'Dwelling',
      type: 'text',
      width: 10,
      list: 'dwelling',
      hint: { 'zh-CN': words(DWELLING_WORDS, 'zh-CN', '、'), en: words(DWELLING_WORDS, 'en', ', ') },
    },
    {
      key: 'count',
      zh: '居住人数',
      en: 'Occupants',
      also: ['人数', '常住人数'],
      type: 'number',
      width: 9,
      hint: { 'zh-CN': '0 到 99 的整数', en: 'A whole number, 0 to 99' },
    },
    ...FLAG_COLUMNS.map(
      (f): SheetColumn => ({
        key: `flag.${f}`,
        zh: FLAG_WORDS[f].zh,
        en: FLAG_WORDS[f].en,
        also: [`是否${FLAG_WORDS[f].zh}`, ...(FLAG_WORDS[f].also ?? [])],
        type: 'text',
        width: f === 'left_behind_child' || f === 'elderly_alone' || f === 'migrant' ? 9 : 7,
        list: 'yesNo',
        hint: yesNo,
      }),
    ),
    {
      key: 'heating',
      zh: '取暖方式',
      en: 'Heating',
      also: ['取暖/用气', '取暖用气方式', 'Heating and gas'],
      type: 'text',
      width: 22,
      hint: {
        'zh-CN': `多项用“、”分隔：${words(HEATING_WORDS, 'zh-CN', '、')}`,
        en: `Several separated by commas: ${words(HEATING_WORDS, 'en', ', ')}`,
      },
    },
    ...Array.from({ length: contacts }, (_, i) => contactColumns(i + 1)).flat(),
    {
      key: 'device',
      zh: '探测器编号',
      en: 'Detector id',
      also: ['报警器编号', '设备编号', 'Detector'],
      type: 'text',
      width: 14,
      hint: {
        'zh-CN': '网关上报的设备编号；一户多台用“、”分隔，安装位置和日期按同样顺序（或只写一个，各台相同）',
        en: 'The device id its gateway reports; several separated by commas, locations and dates in the same order (or one for all)',
      },
    },
    {
      key: 'location',
      zh: '安装位置',
      en: 'Detector location',
      type: 'text',
      width: 10,
      hint: { 'zh-CN': '如 卧室、厨房', en: 'e.g. bedroom, kitchen' },
    },
    {
      key: 'installedOn',
      zh: '安装日期',
      en: 'Installed on',
      type: 'text',
      width: 12,
      hint: { 'zh-CN': '如 2026-11-20（日期单元格也可）', en: 'e.g. 2026-11-20 (a date cell too)' },
    },
    {
      key: 'expiresOn',
      zh: '到期日期',
      en: 'Expires on',
      also: ['有效期至'],
      type: 'text',
      width: 12,
      hint: { 'zh-CN': '报警器寿命到期日', en: 'When the alarm wears out' },
    },
    {
      key: 'notes',
      zh: '备注',
      en: 'Notes',
      type: 'text',
      width: 30,
      hint: { 'zh-CN': '', en: '' },
    },
  ];
}

export const headerOf = (c: SheetColumn, lang: SheetLang): string => (lang === 'en' ? c.en : c.zh);

/** Every header the import reads, folded, to its column (contacts 1 to MAX_CONTACTS). */
export const HEADER_INDEX: ReadonlyMap<string, SheetColumn> = (() => {
  const index = new Map<string, SheetColumn>();
  for (const c of sheetColumns(MAX_CONTACTS))
    for (const h of [c.key, c.zh, c.en, ...(c.also ?? [])]) index.set(fold(h), c);
  return index;
})();

/** The words a dropdown offers, in `lang`. */
export function listWords(list: ColumnList, lang: SheetLang): string[] {
  const all = list === 'yesNo' ? YES_NO : list === 'dwelling' ? DWELLING_WORDS : RELATION_WORDS;
  return Object.values(all).map((w) => wordOf(w, lang));
}

/** A cell written: text, a number, or empty. */
export type SheetCell = string | number | null;

/**
 * A household as a row of `columns`, in `lang`. The area is written as `areaName` gives it (its
 * name where that is unique, else its id: the import reads either back).
 */
export function householdRow(
  h: Household,
  columns: readonly SheetColumn[],
  lang: SheetLang,
  areaName: (id: string) => string,
): SheetCell[] {
  const listSep = lang === 'en' ? ', ' : '、';
  const yes = wordOf(YES_NO.yes, lang);
  const no = wordOf(YES_NO.no, lang);
  const contact = (n: number): HouseholdContact | undefined => h.contacts[n - 1];
  const detectors = h.detectors;
  const joined = (f: (d: Household['detectors'][number]) => string | undefined): string | null =>
    detectors.length === 0 ? null : detectors.map((d) => f(d) ?? '').join(listSep);
  const cell = (key: ColumnKey): SheetCell => {
    switch (key) {
      case 'id':
        return h.id;
      case 'area':
        return areaName(h.area);
      case 'address':
        return h.address;
      case 'lat':
        return h.lat;
      case 'lon':
        return h.lon;
      case 'dwelling':
        return h.dwelling === null ? null : wordOf(DWELLING_WORDS[h.dwelling], lang);
      case 'count':
        return h.occupants.count;
      case 'heating':
        return h.heating.map((k) => wordOf(HEATING_WORDS[k], lang)).join(listSep) || null;
      case 'device':
        return joined((d) => d.device);
      case 'location':
        return joined((d) => d.location);
      case 'installedOn':
        return joined((d) => d.installedOn);
      case 'expiresOn':
        return joined((d) => d.expiresOn);
      case 'notes':
        return h.notes || null;
    }
    if (key.startsWith('flag.')) return h.occupants.flags.includes(key.slice(5) as OccupantFlag) ? yes : no;
    const [, n, field] = key.split('.') as [string, string, ContactField];
    const c = contact(Number(n));
    if (c === undefined) return null;
    return field === 'relation' ? wordOf(RELATION_WORDS[c.relation], lang) : c[field];
  };
  return columns.map((c) => cell(c.key));
}

/** The template's example row: a household as an office registers one. */
export const EXAMPLE_HOUSEHOLD: Household = {
  id: 'liujiang-3-12',
  area: 'liujiang',
  address: '柳江村 3 组 12 号',
  lat: 24.331,
  lon: 109.412,
  dwelling: 'own_home',
  occupants: { count: 1, flags: ['elderly_alone'] },
  heating: ['charcoal', 'gas_water_heater_flueless'],
  contacts: [
    { name: '王秀英', relation: 'occupant', phone: '138 0000 0001' },
    { name: '王建军', relation: 'family', phone: '13900000002' },
    { name: '李国强', relation: 'grid_worker', phone: '13700000003' },
  ],
  notes: '耳背，敲门要用力',
  detectors: [{ device: 'co-w12', location: '卧室', installedOn: '2026-11-20', expiresOn: '2031-11-20' }],
  createdAt: '',
  updatedAt: '',
};
