/**
 * A county's household registry for the 100 000-household bench (households.ts): townships of
 * villages, each village's homes with the addresses, occupants, heating, contacts, detectors, visits
 * and alarms a township office records in a CO-prevention campaign, written straight into SQL in
 * bulk (a few seconds for 100 000 homes, where the API would take an hour).
 *
 * Everything of a township comes from a generator seeded by its code, so the measured township is
 * the same 1 000 homes whether the county around it has no other township or 99 more.
 */
import {
  HEATING_KINDS,
  type HouseholdContact,
  INSPECTION_ITEMS,
  type InspectionItemInput,
  type OccupantFlag,
  vulnerableFlags,
} from '@gaswatch/shared';
import type { Alarm } from '../src/alarms/model.js';
import { appendAlarmEvents } from '../src/db/alarm-records.js';
import type { Db } from '../src/db/database.js';
import { timeOrderedId } from '../src/db/page.js';
import type {
  AdvisoriesTable,
  AreasTable,
  HouseholdDetectorsTable,
  HouseholdsTable,
  InspectionsTable,
} from '../src/db/schema.js';
import type { AlarmEventRecord } from '../src/store/types.js';

/** The county (its 6-digit division code, as 统计用区划代码 start). */
export const COUNTY = { id: '450222', name: '柳城县' } as const;

/** The measured township: the demo's 大埔镇 with 柳江村 and 河西村 among its villages. */
export const MEASURED = { code: 150, name: '大埔镇', villages: ['柳江村', '河西村'] } as const;

export interface EstateShape {
  /** Homes per township (spread evenly over its villages). */
  households: number;
  /** Villages per township. */
  villages: number;
  /** Alarms per township over the campaign. */
  alarms: number;
  /** The campaign's first day and today (local days, YYYY-MM-DD), and now (ms). */
  campaignStart: string;
  today: string;
  now: number;
}

/** What one township's seed wrote. */
export interface TownshipSeed {
  id: string;
  name: string;
  villages: Array<{ id: string; name: string }>;
  households: number;
  detectors: number;
  inspections: number;
  alarms: number;
  /** Ids of its households in id order (the bench's cursor and prefix come from them). */
  ids: string[];
}

/** mulberry32: small, fast and good enough for test data; the same seed gives the same estate. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const msOf = (day: string) => Date.parse(`${day}T00:00:00Z`);
const addDays = (day: string, n: number) => dayOf(msOf(day) + n * DAY_MS);

// Place names as a county's are made: two characters and 镇 or 村. 60 × 40 pairs, drawn without
// repeats across the county, so an address search for one village's name finds that village only.
const FIRST = [
  ...'东西南北上下大小新石黄白青龙马凤金银红绿古长平安太福寿兴和丰永富宝华中高竹梅桃杨松柏桂兰荷莲樟枫杉茶桑麻',
];
const SECOND = [...'江河坪岭山塘田湾口桥头寨冲坝坡源溪洞庄屯岗洲城垌圩岩峒滩湖井泉沟岸林洋浦洞陂'];
const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韦蓝覃莫潘廖'];
const GIVEN = [...'秀英桂兰建华德明志强小梅国庆丽芳淑芬秀珍玉兰海军春生金凤福贵红霞永胜'];
const ROOMS = ['卧室', '厨房', '浴室', '客厅'] as const;
const INSPECTORS = ['韦海燕', '覃志明', '蓝秀琴', '莫国华', '廖春生', '潘立新'];

function placeNames(): string[] {
  const out: string[] = [];
  const r = rng(7);
  const seen = new Set<string>(['大埔', '柳江', '河西']);
  for (let i = 0; out.length < FIRST.length * SECOND.length - seen.size && i < 1_000_000; i++) {
    const name = `${FIRST[Math.floor(r() * FIRST.length)]}${SECOND[Math.floor(r() * SECOND.length)]}`;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(name);
  }
  return out;
}
const NAMES = placeNames();

/** The code of the `n`th township of a county of `count` (101 …), the measured one in the middle. */
export function townshipCodes(count: number): number[] {
  const first = MEASURED.code - Math.floor(count / 2);
  return Array.from({ length: count }, (_, i) => first + i);
}

/** The county's area row; townships and villages come with their seeds. */
export async function seedCounty(db: Db, now: number): Promise<void> {
  await db
    .insertInto('areas')
    .values({ id: COUNTY.id, parent: null, name: COUNTY.name, kind: 'county', created_at: now })
    .execute();
}

function names(code: number, villages: number): { township: string; villages: string[] } {
  if (code === MEASURED.code) {
    const own: string[] = [...MEASURED.villages];
    for (let i = 0; own.length < villages; i++) own.push(`${NAMES[(NAMES.length - 1 - i) % NAMES.length]}村`);
    return { township: MEASURED.name, villages: own.slice(0, villages) };
  }
  // Township k takes names k·(v+1) … : one for itself, v for its villages, none shared.
  const k = code % 1000;
  const at = (i: number) => NAMES[(k * (villages + 1) + i) % (NAMES.length - villages)] ?? '新村';
  return {
    township: `${at(0)}镇`,
    villages: Array.from({ length: villages }, (_, i) => `${at(i + 1)}村`),
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const phone = (r: () => number) =>
  `1${pick(r, ['38', '39', '58', '77', '86'])}${String(Math.floor(r() * 1e8)).padStart(8, '0')}`;
const person = (r: () => number) => `${pick(r, SURNAMES)}${pick(r, GIVEN)}${r() < 0.5 ? pick(r, GIVEN) : ''}`;

/** Flags of a home: about 30 % have someone vulnerable, a few a migrant worker. */
function flagsOf(r: () => number): OccupantFlag[] {
  const x = r();
  const flags: OccupantFlag[] = [];
  if (x < 0.1) flags.push('elderly_alone');
  else if (x < 0.18) flags.push('elderly');
  else if (x < 0.21) flags.push('elderly', 'bedridden');
  else if (x < 0.24) flags.push('infant');
  else if (x < 0.28) flags.push('left_behind_child');
  else if (x < 0.3) flags.push('disabled');
  if (r() < 0.06) flags.push('migrant');
  return flags;
}

/** A visit's checklist as an inspector ticks it: every item, `found` ones first chosen. */
function checklist(r: () => number, found: number): InspectionItemInput[] {
  const hit = new Set<string>();
  while (hit.size < found) hit.add(pick(r, INSPECTION_ITEMS));
  return INSPECTION_ITEMS.map((item) =>
    hit.has(item)
      ? {
          item,
          result: 'found' as const,
          note: pick(r, ['烟道接口脱开', '胶管老化开裂', '门窗紧闭无通风', '']),
        }
      : { item, result: r() < 0.3 ? ('n/a' as const) : ('not_found' as const), note: '' },
  );
}

/** Kinds of alarm a campaign's detectors raise, with their key, rule and how they end. */
const ALARM_SHAPES = [
  {
    share: 0.45,
    key: 'CO:dose',
    rule: 'co-dose',
    gas: 'CO' as const,
    reasons: ['real_event', 'false_alarm', 'test'],
  },
  { share: 0.15, key: 'detector', rule: 'detector', reasons: ['real_event', 'false_alarm', 'test'] },
  { share: 0.25, key: 'offline', rule: 'offline', reasons: ['maintenance', 'device_fault'] },
  { share: 0.15, key: 'fault', rule: 'fault', reasons: ['device_fault', 'maintenance'] },
] as const;

/** Rows per INSERT: well under either database's bound parameters. */
const CHUNK = 400;

async function insertAll<T>(rows: readonly T[], insert: (part: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await insert(rows.slice(i, i + CHUNK));
}

/**
 * One township with its villages and all its records, in one transaction (its alarms after, as
 * the alarm engine writes them). Ids and addresses: `<village code>-<number>`, 「大埔镇柳江村 3 组
 * 12 号」.
 */
export async function seedTownship(db: Db, code: number, shape: EstateShape): Promise<TownshipSeed> {
  const r = rng(code * 7919);
  const campaign0 = msOf(shape.campaignStart);
  const campaignDays = Math.max(1, Math.round((msOf(shape.today) - campaign0) / DAY_MS));
  const tid = `${COUNTY.id}${code}`;
  const n = names(code, shape.villages);
  const villages = n.villages.map((name, i) => ({ id: `${tid}${200 + i + 1}`, name }));
  const areas: AreasTable[] = [
    { id: tid, parent: COUNTY.id, name: n.township, kind: 'township', created_at: shape.now },
    ...villages.map((v) => ({
      id: v.id,
      parent: tid,
      name: v.name,
      kind: 'village' as const,
      created_at: shape.now,
    })),
  ];
  const households: HouseholdsTable[] = [];
  const detectors: HouseholdDetectorsTable[] = [];
  const inspections: InspectionsTable[] = [];
  const perVillage = Math.ceil(shape.households / villages.length);
  for (let h = 0; h < shape.households; h++) {
    const v = villages[Math.floor(h / perVillage)] ?? villages[villages.length - 1];
    if (v === undefined) break;
    const no = (h % perVillage) + 1;
    const group = Math.floor((no - 1) / 14) + 1;
    const id = `${v.id}-${String(no).padStart(4, '0')}`;
    // Registered mostly in the campaign's first weeks, some later.
    const created = campaign0 + Math.floor((r() < 0.8 ? r() * 0.3 : r()) * campaignDays * DAY_MS);
    const flags = flagsOf(r);
    const occupant = person(r);
    const contacts: HouseholdContact[] = [{ name: occupant, relation: 'occupant', phone: phone(r) }];
    if (r() < 0.7) contacts.push({ name: person(r), relation: 'family', phone: phone(r) });
    contacts.push({
      name: person(r),
      relation: r() < 0.5 ? 'grid_worker' : 'village_cadre',
      phone: phone(r),
    });
    const heating = [...new Set([pick(r, HEATING_KINDS), pick(r, HEATING_KINDS)])].slice(
      0,
      r() < 0.6 ? 1 : 2,
    );
    households.push({
      id,
      area: v.id,
      address: `${n.township}${v.name} ${group} 组 ${no} 号`,
      lat: 24.3 + r() * 0.4,
      lon: 109.1 + r() * 0.4,
      dwelling: pick(r, ['own_home', 'own_home', 'own_home', 'rental', 'urban_village', 'remote_single']),
      occupant_count: flags.includes('elderly_alone') ? 1 : 1 + Math.floor(r() * 5),
      occupant_flags: JSON.stringify(flags),
      vulnerable: vulnerableFlags(flags).length > 0 ? 1 : 0,
      heating: JSON.stringify(heating),
      contacts: JSON.stringify(contacts),
      notes: r() < 0.1 ? '子女在外务工，网格员每周上门' : '',
      created_at: created,
      updated_at: created,
    });
    // A detector in about 60 % of homes, a second in some; a few past or near their end of life.
    if (r() < 0.6)
      for (let k = 1; k <= (r() < 0.12 ? 2 : 1); k++) {
        const installed = dayOf(created + Math.floor(r() * 10) * DAY_MS);
        const life = r() < 0.03 ? -Math.floor(r() * 60) - 1 : r() < 0.03 ? Math.floor(r() * 30) : 1825;
        detectors.push({
          device: `co-${id}-${k}`,
          household_id: id,
          location: ROOMS[(k - 1 + (h % 2)) % ROOMS.length] ?? '卧室',
          installed_on: installed,
          expires_on: life === 1825 ? addDays(installed, life) : addDays(shape.today, life),
          created_at: created,
        });
      }
    // Visits: a quarter of homes not yet, most once, some twice; a third of visits find hazards.
    const visits = r() < 0.25 ? 0 : r() < 0.75 ? 1 : 2;
    for (let k = 0; k < visits; k++) {
      const date = dayOf(
        created + Math.floor(r() * Math.max(1, (msOf(shape.today) - created) / DAY_MS)) * DAY_MS,
      );
      const found = r() < 0.33 ? 1 + Math.floor(r() * 3) : 0;
      const items = checklist(r, found);
      const deadline = found > 0 ? addDays(date, 7 + Math.floor(r() * 8)) : null;
      const x = r();
      const rectifiedOn = found > 0 && x < 0.6 ? addDays(date, 1 + Math.floor(r() * 10)) : null;
      const outcome =
        found === 0
          ? null
          : rectifiedOn !== null && rectifiedOn <= shape.today
            ? 'rectified'
            : x < 0.9
              ? 'pending'
              : 'not_rectified';
      const at = msOf(date) + 10 * 3_600_000;
      inspections.push({
        id: timeOrderedId(at),
        household_id: id,
        area: v.id,
        date,
        inspectors: JSON.stringify([pick(r, INSPECTORS), pick(r, INSPECTORS)]),
        items: JSON.stringify(items),
        found_count: found,
        rectify_deadline: deadline,
        rectify_outcome: outcome,
        rectified_on: outcome === 'rectified' ? rectifiedOn : null,
        rectify_note: outcome === 'rectified' ? '已更换不锈钢波纹管' : '',
        note: '',
        created_by: 'bench',
        created_at: at,
        updated_at: at,
      });
    }
  }
  const advisories: AdvisoriesTable[] = [];
  for (let d = 0; d < campaignDays; d += 9 + Math.floor(r() * 6))
    advisories.push({
      id: timeOrderedId(campaign0 + d * DAY_MS),
      area: tid,
      day: addDays(shape.campaignStart, d),
      grade: 1 + Math.floor(r() * 4),
      text: '夜间气温低、风力小，易发生一氧化碳中毒，请注意通风',
      source: 'entered',
      entered_by: 'bench',
      created_at: campaign0 + d * DAY_MS,
    });

  await db.transaction().execute(async (tx) => {
    await tx.insertInto('areas').values(areas).execute();
    await insertAll(households, (part) => tx.insertInto('households').values(part).execute());
    await insertAll(detectors, (part) => tx.insertInto('household_detectors').values(part).execute());
    await insertAll(inspections, (part) => tx.insertInto('inspections').values(part).execute());
    if (advisories.length > 0) await tx.insertInto('advisories').values(advisories).execute();
  });

  // Alarms of its detectors over the campaign, as the engine records them: raised, mostly
  // acknowledged within minutes, cleared, most resolved with a reason. All closed, so the engine
  // rebuilt at start has nothing to escalate.
  const records: AlarmEventRecord[] = [];
  const span = shape.now - campaign0;
  for (let i = 0; i < shape.alarms && detectors.length > 0; i++) {
    const d = pick(r, detectors);
    const u = r();
    let below = 0;
    const s =
      ALARM_SHAPES.find((x) => {
        below += x.share;
        return u < below;
      }) ?? ALARM_SHAPES[0];
    const t = campaign0 + Math.floor(r() * (span - 3_600_000));
    const raised: Alarm = {
      id: `${d.device}.${s.key}.${t.toString(36)}`,
      gw: `gw-${tid}`,
      dev: d.device,
      site: null,
      key: s.key,
      rule: s.rule,
      profile: 'co-residential',
      ...('gas' in s ? { gas: s.gas } : {}),
      severity: s.key === 'CO:dose' || s.key === 'detector' ? 'critical' : 'warning',
      state: 'active',
      message: s.key === 'CO:dose' ? 'CO dose above the 50 ppm limit' : s.key,
      value: s.key === 'CO:dose' ? 120 + Math.floor(r() * 300) : 0,
      threshold: s.key === 'CO:dose' ? 50 : 0,
      unit: 'ppm',
      raisedAt: t,
      detectedAt: t + 40,
      late: false,
      clearedAt: null,
      ack: null,
      tier: 1,
      lastNotifiedAt: t + 1_000,
      seq: 1,
    };
    const ackAt = t + 30_000 + Math.floor(r() * 600_000);
    const acked: Alarm = { ...raised, state: 'acknowledged', ack: { actor: 'duty', at: ackAt, note: '' } };
    const clearAt = ackAt + 60_000 + Math.floor(r() * 1_800_000);
    const cleared: Alarm = { ...acked, state: 'cleared', clearedAt: clearAt };
    const ev = (a: Alarm, seq: number, type: string, ts: number, extra: Record<string, unknown> = {}) => {
      const alarm = { ...a, seq };
      records.push({
        id: `${a.id}#${seq}`,
        alarmId: a.id,
        ts,
        data: { ...extra, type, seq, state: alarm.state, alarm },
      });
    };
    ev(raised, 1, 'raised', t);
    ev(acked, 2, 'acknowledged', ackAt, { actor: 'duty', note: '' });
    ev(cleared, 3, 'cleared', clearAt);
    if (r() < 0.85) {
      const reason = pick(r, s.reasons);
      const at = clearAt + Math.floor(r() * 7_200_000);
      ev({ ...cleared, resolution: { actor: 'duty', at, reason, note: '' } }, 4, 'resolved', at, {
        actor: 'duty',
        reason,
        note: '',
      });
    }
  }
  for (let i = 0; i < records.length; i += 2_000) await appendAlarmEvents(db, records.slice(i, i + 2_000));

  return {
    id: tid,
    name: n.township,
    villages,
    households: households.length,
    detectors: detectors.length,
    inspections: inspections.length,
    alarms: shape.alarms,
    ids: households.map((h) => h.id).sort(),
  };
}
