import { INSPECTION_ITEMS, type InspectionItemId } from '@gaswatch/shared';
import { ALARM_KINDS, type Alarm, alarmKind } from '../alarms/model.js';
import { type NotifiedMilestones, type ResponseMilestones, responseMilestones } from '../alarms/response.js';
import type { ZoneClock } from '../zone.js';
import {
  ALARM_OUTCOMES,
  type AlarmCounts,
  type AlarmOutcome,
  type HazardItemCounts,
  type LedgerNumbers,
  type LedgerRow,
} from './ledger-schema.js';
import { addDays, type LedgerWeek, localTime, weekWindow } from './ledger-week.js';
import { intervalFigures } from './milestones.js';
import { inWindow, type TimeWindow } from './response-times.js';

/**
 * The weekly ledger (SPEC §10, issue 13) computed from the records: a pure function of what the
 * database, the alarm engine and the device registry hold (db/ledgers.ts reads them), so a test
 * can check every cell against what it put in. Each number's definition is in ledger-schema.ts.
 *
 * Everything but the detectors' online state is as of the end of the week, not of the moment the
 * ledger is made: a rectification, a resolution or a household registered after the week does
 * not change it, so the ledger of a past week made again gives the same numbers (online and
 * offline can only be known now, and say so). The checklist, the vulnerable flag and the area of
 * a household are as they are now: the registry keeps no history of them.
 */

/** An area of the ledger's tree: the ledger area, its rows, everything within them. */
export interface LedgerArea {
  id: string;
  parent: string | null;
  name: string;
}

export interface LedgerSources {
  /** Every household of the ledger area's subtree, whenever registered. */
  households: ReadonlyArray<{ id: string; area: string; createdAt: number; vulnerable: boolean }>;
  /** Every detector installed in one of those households (the household's area). */
  detectors: ReadonlyArray<{
    device: string;
    household: string;
    area: string;
    installedOn: string | null;
    expiresOn: string | null;
    createdAt: number;
  }>;
  /**
   * The visits of the subtree dated from the campaign start (or ever) to the end of the week, in
   * the area the visit was recorded in; `found`: the checklist items found.
   */
  inspections: ReadonlyArray<{
    household: string;
    area: string;
    date: string;
    found: readonly InspectionItemId[];
    outcome: string | null;
    rectifiedOn: string | null;
    deadline: string | null;
  }>;
  /** Advisories for a day from the campaign start to the end of the week, of the subtree and the areas above it. */
  advisories: ReadonlyArray<{ area: string; day: string; grade: number }>;
  /**
   * The alarms whose area (auth.areaOf) lies in the subtree, with that area and what their
   * notification records say (db/notifications.ts notifiedMilestones; none: nobody was notified).
   */
  alarms: ReadonlyArray<{ alarm: Readonly<Alarm>; area: string; notified?: NotifiedMilestones | undefined }>;
  /** What the device registry says of a device now. */
  deviceStatus(device: string): 'online' | 'offline' | 'never_reported';
}

export interface LedgerInput {
  /** The ledger's area (a township): `areas[]` has it, its subtree and its ancestors. */
  area: string;
  areas: readonly LedgerArea[];
  week: LedgerWeek;
  campaignStart: string | null;
  zone: ZoneClock;
  sources: LedgerSources;
}

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

const blankAlarms = (): AlarmCounts => ({
  raised: 0,
  byKind: zeros(ALARM_KINDS),
  byOutcome: zeros(ALARM_OUTCOMES),
});

const blankItem = (): HazardItemCounts => ({
  foundWeek: 0,
  rectifiedWeek: 0,
  foundCumulative: 0,
  rectifiedCumulative: 0,
});

function blankRow(area: string | null, name: string): LedgerRow {
  const none = { count: 0, p50: null, p90: null };
  const times = () => ({
    acknowledge: { ...none },
    resolve: { ...none },
    sent: { ...none },
    delivered: { ...none },
    onSite: { ...none },
  });
  return {
    area,
    name,
    households: {
      registered: 0,
      registeredWeek: 0,
      visitedWeek: 0,
      visitedCumulative: 0,
      visitsWeek: 0,
      visitsCumulative: 0,
    },
    vulnerable: { registered: 0, covered: 0, uncovered: 0, visitedWeek: 0, visitedCumulative: 0 },
    hazards: {
      foundWeek: 0,
      rectifiedWeek: 0,
      foundCumulative: 0,
      rectifiedCumulative: 0,
      outstanding: 0,
      overdue: 0,
      byItem: Object.fromEntries(INSPECTION_ITEMS.map((i) => [i, blankItem()])) as Record<
        InspectionItemId,
        HazardItemCounts
      >,
    },
    detectors: {
      installedWeek: 0,
      installedCumulative: 0,
      inService: 0,
      expired: 0,
      online: 0,
      offline: 0,
      neverReported: 0,
    },
    alarms: { week: blankAlarms(), cumulative: blankAlarms() },
    responseTimes: { week: times(), cumulative: times() },
    advisories: { week: 0, highestGradeWeek: null, cumulative: 0 },
  };
}

/** What the row holds beyond its counts while it is being filled: the sets and lists behind them. */
interface Tally {
  row: LedgerRow;
  visitedWeek: Set<string>;
  visitedCumulative: Set<string>;
  vulnerableVisitedWeek: Set<string>;
  vulnerableVisitedCumulative: Set<string>;
  alarms: ResponseMilestones[];
}

const tally = (row: LedgerRow): Tally => ({
  row,
  visitedWeek: new Set(),
  visitedCumulative: new Set(),
  vulnerableVisitedWeek: new Set(),
  vulnerableVisitedCumulative: new Set(),
  alarms: [],
});

/** Something worth a row of its own for the ledger area itself (advisories above it are in every row). */
const anything = (r: LedgerRow) =>
  r.households.registered +
    r.households.visitsCumulative +
    r.detectors.inService +
    r.detectors.installedCumulative +
    r.alarms.cumulative.raised >
  0;

export function computeLedger(input: LedgerInput): LedgerNumbers {
  const { week, zone, campaignStart, sources } = input;
  const byId = new Map(input.areas.map((a) => [a.id, a]));
  const self = byId.get(input.area);
  if (self === undefined) throw new Error(`no area ${input.area} among the ledger's areas`);

  const children = input.areas
    .filter((a) => a.parent === input.area)
    .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN') || (a.id < b.id ? -1 : 1));
  const rows = new Map<string, Tally>(children.map((c) => [c.id, tally(blankRow(c.id, c.name))]));
  const own = tally(blankRow(self.id, self.name));
  const total = tally(blankRow(null, self.name));

  // The row an area's records go to: the child of the ledger area it lies under, or the ledger
  // area's own row; undefined outside the subtree (bounded walk: parents are not checked acyclic).
  const rowCache = new Map<string, Tally | undefined>();
  const rowOf = (area: string): Tally | undefined => {
    if (rowCache.has(area)) return rowCache.get(area);
    let found: Tally | undefined;
    for (let a: string | null = area, steps = 0; a !== null && steps <= byId.size; steps++) {
      if (a === input.area) {
        found = own;
        break;
      }
      const row = rows.get(a);
      if (row !== undefined) {
        found = row;
        break;
      }
      a = byId.get(a)?.parent ?? null;
    }
    rowCache.set(area, found);
    return found;
  };
  /** Applies `fn` to the row of `area` and to the total, if the area is in the subtree. */
  const count = (area: string, fn: (t: Tally) => void) => {
    const t = rowOf(area);
    if (t === undefined) return;
    fn(t);
    fn(total);
  };

  const afterWeek = addDays(week.end, 1);
  const inWeek = (day: string) => day >= week.start && day <= week.end;
  const inCampaign = (day: string) => (campaignStart === null || day >= campaignStart) && day <= week.end;
  const weekTime = weekWindow(zone, week);
  const campaignTime: TimeWindow = {
    from: campaignStart === null ? Number.NEGATIVE_INFINITY : localTime(zone, campaignStart),
    to: weekTime.to,
  };

  // Households and the vulnerable among them.
  const vulnerable = new Set<string>();
  for (const h of sources.households) {
    if (h.createdAt >= weekTime.to) continue;
    if (h.vulnerable) vulnerable.add(h.id);
    count(h.area, ({ row }) => {
      row.households.registered++;
      if (h.createdAt >= weekTime.from) row.households.registeredWeek++;
      if (h.vulnerable) row.vulnerable.registered++;
    });
  }

  // Detectors: installed when the office says (else the day it was registered), in service at
  // the end of the week, their state as the registry knows it now.
  const covered = new Map<string, string>();
  for (const d of sources.detectors) {
    const installed = d.installedOn ?? zone.day(d.createdAt);
    if (installed > week.end) continue;
    const status = sources.deviceStatus(d.device);
    if (vulnerable.has(d.household)) covered.set(d.household, d.area);
    count(d.area, ({ row }) => {
      const x = row.detectors;
      if (inWeek(installed)) x.installedWeek++;
      if (inCampaign(installed)) x.installedCumulative++;
      x.inService++;
      if (d.expiresOn !== null && d.expiresOn < afterWeek) x.expired++;
      if (status === 'online') x.online++;
      else if (status === 'offline') x.offline++;
      else x.neverReported++;
    });
  }
  // A household counts in its own area's row, where its vulnerable flag was counted.
  const areaOfHousehold = new Map(sources.households.map((h) => [h.id, h.area]));
  for (const household of covered.keys())
    count(areaOfHousehold.get(household) ?? '', ({ row }) => {
      row.vulnerable.covered++;
    });

  // Visits and the hazards they found.
  for (const v of sources.inspections) {
    if (!inCampaign(v.date)) continue;
    const ofWeek = inWeek(v.date);
    const rectified = v.outcome === 'rectified' && v.rectifiedOn !== null && v.rectifiedOn <= week.end;
    const rectifiedThisWeek = rectified && v.rectifiedOn !== null && inWeek(v.rectifiedOn);
    const overdue = !rectified && v.deadline !== null && v.deadline < afterWeek;
    const isVulnerable = vulnerable.has(v.household);
    count(v.area, (t) => {
      const { households: h, hazards: z } = t.row;
      h.visitsCumulative++;
      t.visitedCumulative.add(v.household);
      if (isVulnerable) t.vulnerableVisitedCumulative.add(v.household);
      if (ofWeek) {
        h.visitsWeek++;
        t.visitedWeek.add(v.household);
        if (isVulnerable) t.vulnerableVisitedWeek.add(v.household);
      }
      const n = v.found.length;
      z.foundCumulative += n;
      if (ofWeek) z.foundWeek += n;
      if (rectified) z.rectifiedCumulative += n;
      else z.outstanding += n;
      if (rectifiedThisWeek) z.rectifiedWeek += n;
      if (overdue) z.overdue += n;
      for (const item of v.found) {
        const c = z.byItem[item];
        c.foundCumulative++;
        if (ofWeek) c.foundWeek++;
        if (rectified) c.rectifiedCumulative++;
        if (rectifiedThisWeek) c.rectifiedWeek++;
      }
    });
  }

  // Alarms: raised in the period, by kind, and what they had come to by the end of the week.
  const outcome = (a: Readonly<Alarm>): AlarmOutcome =>
    a.resolution !== undefined && a.resolution.at < weekTime.to ? a.resolution.reason : 'unresolved';
  for (const { alarm, area, notified } of sources.alarms) {
    const milestones = responseMilestones(alarm, notified);
    count(area, (t) => {
      t.alarms.push(milestones);
      const add = (c: AlarmCounts) => {
        c.raised++;
        c.byKind[alarmKind(alarm)]++;
        c.byOutcome[outcome(alarm)]++;
      };
      if (inWindow(alarm.detectedAt, campaignTime)) add(t.row.alarms.cumulative);
      if (inWindow(alarm.detectedAt, weekTime)) add(t.row.alarms.week);
    });
  }

  // Advisories: those of an area above the ledger area (or of it) are every row's.
  const above = new Set<string>();
  for (let a: string | null = input.area, steps = 0; a !== null && steps <= byId.size; steps++) {
    above.add(a);
    a = byId.get(a)?.parent ?? null;
  }
  const everyRow = [...rows.values(), own, total];
  for (const adv of sources.advisories) {
    if (!inCampaign(adv.day)) continue;
    const targets = above.has(adv.area) ? everyRow : [rowOf(adv.area), total];
    for (const t of targets) {
      if (t === undefined) continue;
      const x = t.row.advisories;
      x.cumulative++;
      if (inWeek(adv.day)) {
        x.week++;
        x.highestGradeWeek = Math.max(x.highestGradeWeek ?? adv.grade, adv.grade);
      }
    }
  }

  const finish = (t: Tally): LedgerRow => {
    const { row } = t;
    row.households.visitedWeek = t.visitedWeek.size;
    row.households.visitedCumulative = t.visitedCumulative.size;
    row.vulnerable.visitedWeek = t.vulnerableVisitedWeek.size;
    row.vulnerable.visitedCumulative = t.vulnerableVisitedCumulative.size;
    row.vulnerable.uncovered = row.vulnerable.registered - row.vulnerable.covered;
    row.responseTimes = {
      week: intervalFigures(t.alarms, weekTime),
      cumulative: intervalFigures(t.alarms, campaignTime),
    };
    return row;
  };
  const out = [...rows.values()].map(finish);
  const ownRow = finish(own);
  if (children.length === 0 || anything(ownRow)) out.unshift(ownRow);
  return {
    version: 1,
    area: self.id,
    areaName: self.name,
    week,
    campaignStart,
    timeZone: zone.tz,
    rows: out,
    total: finish(total),
  };
}
