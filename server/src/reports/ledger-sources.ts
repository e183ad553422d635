import type { InspectionItemId, InspectionItemInput } from '@gaswatch/shared';
import type { Db } from '../db/database.js';
import { detectorsOf } from '../db/households.js';
import { inList } from '../db/page.js';
import type { LedgerSources } from './ledger.js';

/**
 * The records a ledger counts (reports/ledger.ts LedgerSources, but for the alarms and the
 * devices, which are in memory): the households and detectors of `areas` (a subtree), its visits
 * dated from `from` (null: ever) to `to` inclusive, and the advisories of those days for `areas`
 * and `above` (the areas over it). Only the columns counted are read, and a visit's checklist
 * only when it found something.
 */
export async function ledgerSources(
  db: Db,
  q: { areas: readonly string[]; above: readonly string[]; from: string | null; to: string },
): Promise<Omit<LedgerSources, 'alarms' | 'deviceStatus'>> {
  const households = await db
    .selectFrom('households')
    .select(['id', 'area', 'created_at', 'vulnerable'])
    .where('area', 'in', inList(q.areas))
    .execute();
  const areaOf = new Map(households.map((h) => [h.id, h.area]));
  const detectors = await detectorsOf(db, [...areaOf.keys()]);
  let visits = db
    .selectFrom('inspections')
    .select((eb) => [
      'household_id',
      'area',
      'date',
      'rectify_outcome',
      'rectified_on',
      'rectify_deadline',
      eb.case().when('found_count', '>', 0).then(eb.ref('items')).else(null).end().as('items'),
    ])
    .where('area', 'in', inList(q.areas))
    .where('date', '<=', q.to);
  if (q.from !== null) visits = visits.where('date', '>=', q.from);
  let advisories = db
    .selectFrom('advisories')
    .select(['area', 'day', 'grade'])
    .where('area', 'in', inList([...q.areas, ...q.above]))
    .where('day', '<=', q.to);
  if (q.from !== null) advisories = advisories.where('day', '>=', q.from);

  return {
    households: households.map((h) => ({
      id: h.id,
      area: h.area,
      createdAt: Number(h.created_at),
      vulnerable: Number(h.vulnerable) === 1,
    })),
    detectors: detectors.map((d) => ({
      device: d.device,
      household: d.household_id,
      area: areaOf.get(d.household_id) ?? '',
      installedOn: d.installed_on,
      expiresOn: d.expires_on,
      createdAt: Number(d.created_at),
    })),
    inspections: (await visits.execute()).map((v) => ({
      household: v.household_id,
      area: v.area,
      date: v.date,
      found:
        v.items === null
          ? []
          : (JSON.parse(v.items) as InspectionItemInput[])
              .filter((x) => x.result === 'found')
              .map((x) => x.item as InspectionItemId),
      outcome: v.rectify_outcome,
      rectifiedOn: v.rectified_on,
      deadline: v.rectify_deadline,
    })),
    advisories: (await advisories.execute()).map((a) => ({
      area: a.area,
      day: a.day,
      grade: Number(a.grade),
    })),
  };
}

/**
 * Stores a ledger. One of the schedule (a `schedule_key`) is written only if no ledger of that
 * key is: false when another run (another server sharing the database) wrote it first.
 */
