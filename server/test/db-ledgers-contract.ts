import { describe, expect, it } from 'vitest';
import type { Db } from '../src/db/database.js';
import { insertHousehold, putDetector } from '../src/db/households.js';
import { insertInspection } from '../src/db/inspections.js';
import { allAreas, getLedger, insertLedger, listLedgers, scheduledLedgerExists } from '../src/db/ledgers.js';
import type { LedgersTable } from '../src/db/schema.js';
import { ledgerSources } from '../src/reports/ledger-sources.js';
import { type DbTarget, migratedDatabases } from './db-contract.js';

const T0 = Date.UTC(2026, 11, 10, 2, 0, 0);

/**
 * Weekly ledgers (migration 0008-ledgers) and the records they count, on one database: the same
 * suite runs on SQLite and on a real PostgreSQL (db-sqlite.test.ts, db-postgres.test.ts), so
 * bigint and integer columns, the checklist read only when something was found, and the
 * schedule's lock behave alike on both.
 */
export function ledgersContract(name: string, target: () => DbTarget): void {
  describe(`ledger records contract: ${name}`, () => {
    const migrated = migratedDatabases(target);
    const fresh = async (): Promise<Db> => {
      const db = await migrated();
      for (const [id, parent, kind] of [
        ['county', null, 'county'],
        ['tw-a', 'county', 'township'],
        ['v-a1', 'tw-a', 'village'],
        ['tw-b', 'county', 'township'],
        ['v-b1', 'tw-b', 'village'],
      ] as const)
        await db
          .insertInto('areas')
          .values({ id, parent, name: `${id}名`, kind, created_at: T0 })
          .execute();
      for (const [id, area, flags] of [
        ['h-1', 'v-a1', ['elderly_alone']],
        ['h-2', 'v-a1', []],
        ['h-3', 'v-b1', []],
      ] as const)
        await insertHousehold(
          db,
          {
            id,
            area,
            address: `${id} 号`,
            lat: null,
            lon: null,
            dwelling: null,
            occupants: { count: 1, flags: [...flags] },
            heating: [],
            contacts: [],
            notes: '',
          },
          T0 + 1,
        );
      await putDetector(db, 'h-1', { device: 'co-1', location: '卧室', installedOn: '2026-12-01' }, T0 + 2);
      const visit = (household: string, area: string, date: string, found: boolean) =>
        insertInspection(
          db,
          {
            household,
            area,
            date,
            inspectors: ['李'],
            items: [
              { item: 'room_sealed', result: found ? 'found' : 'not_found', note: '' },
              { item: 'flue_blocked', result: 'not_found', note: '' },
            ],
            rectification: found
              ? { deadline: date, outcome: 'rectified', rectifiedOn: date, note: '' }
              : null,
            note: '',
            createdBy: 'test',
          },
          T0,
        );
      await visit('h-1', 'v-a1', '2026-10-30', true); // before `from`
      await visit('h-1', 'v-a1', '2026-12-02', true);
      await visit('h-2', 'v-a1', '2026-12-03', false);
      await visit('h-2', 'v-a1', '2026-12-11', true); // after `to`
      await visit('h-3', 'v-b1', '2026-12-02', true); // another township
      for (const [id, area, day] of [
        ['adv-1', 'county', '2026-12-05'],
        ['adv-2', 'v-a1', '2026-12-06'],
        ['adv-3', 'tw-b', '2026-12-06'],
        ['adv-4', 'v-a1', '2026-12-12'],
      ] as const)
        await db
          .insertInto('advisories')
          .values({ id, area, day, grade: 3, text: 'x', source: 'entered', entered_by: 't', created_at: T0 })
          .execute();
      return db;
    };

    it("reads a township's records with their types, the checklist only where something was found", async () => {
      const db = await fresh();
      const s = await ledgerSources(db, {
        areas: ['tw-a', 'v-a1'],
        above: ['county'],
        from: '2026-11-01',
        to: '2026-12-10',
      });
      expect([...s.households].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual([
        { id: 'h-1', area: 'v-a1', createdAt: T0 + 1, vulnerable: true },
        { id: 'h-2', area: 'v-a1', createdAt: T0 + 1, vulnerable: false },
      ]);
      expect(s.detectors).toEqual([
        {
          device: 'co-1',
          household: 'h-1',
          area: 'v-a1',
          installedOn: '2026-12-01',
          expiresOn: null,
          createdAt: T0 + 2,
        },
      ]);
      expect([...s.inspections].sort((a, b) => (a.date < b.date ? -1 : 1))).toEqual([
        {
          household: 'h-1',
          area: 'v-a1',
          date: '2026-12-02',
          found: ['room_sealed'],
          outcome: 'rectified',
          rectifiedOn: '2026-12-02',
          deadline: '2026-12-02',
        },
        {
          household: 'h-2',
          area: 'v-a1',
          date: '2026-12-03',
          found: [],
          outcome: null,
          rectifiedOn: null,
          deadline: null,
        },
      ]);
      expect([...s.advisories].sort((a, b) => (a.day < b.day ? -1 : 1))).toEqual([
        { area: 'county', day: '2026-12-05', grade: 3 },
        { area: 'v-a1', day: '2026-12-06', grade: 3 },
      ]);
      // Without a campaign start: every visit up to `to`.
      const all = await ledgerSources(db, { areas: ['v-a1'], above: [], from: null, to: '2026-12-10' });
      expect(all.inspections.map((v) => v.date).sort()).toEqual(['2026-10-30', '2026-12-02', '2026-12-03']);
      expect((await allAreas(db)).find((a) => a.id === 'tw-a')).toEqual({
        id: 'tw-a',
        parent: 'county',
        name: 'tw-a名',
        kind: 'township',
        createdAt: T0,
      });
    });

    const row = (id: string, area: string, key: string | null): LedgersTable => ({
      id,
      area,
      week_start: '2026-12-04',
      week_end: '2026-12-10',
      generated_at: T0,
      generated_by: key === null ? 'lin' : 'schedule',
      schedule_key: key,
      numbers: '{"version":1}',
    });

    it("the schedule's key is its lock: a second ledger of the same run is not written", async () => {
      const db = await fresh();
      expect(await scheduledLedgerExists(db, 'tw-a/2026-12-04')).toBe(false);
      expect(await insertLedger(db, row('l-1', 'tw-a', 'tw-a/2026-12-04'))).toBe(true);
      expect(await insertLedger(db, row('l-2', 'tw-a', 'tw-a/2026-12-04'))).toBe(false);
      expect(await scheduledLedgerExists(db, 'tw-a/2026-12-04')).toBe(true);
      // Ledgers made on request have no key: as many as asked for.
      expect(await insertLedger(db, row('l-3', 'tw-a', null))).toBe(true);
      expect(await insertLedger(db, row('l-4', 'tw-a', null))).toBe(true);
      expect(await getLedger(db, 'l-2')).toBeUndefined();
      const got = await getLedger(db, 'l-1');
      expect(got === undefined ? null : { ...got, generated_at: Number(got.generated_at) }).toEqual(
        row('l-1', 'tw-a', 'tw-a/2026-12-04'),
      );
    });

    it('lists newest first without the numbers, paged, by area', async () => {
      const db = await fresh();
      for (const [id, area] of [
        ['l-1', 'tw-a'],
        ['l-2', 'tw-b'],
        ['l-3', 'tw-a'],
        ['l-4', 'tw-a'],
      ] as const)
        await insertLedger(db, row(id, area, null));
      const first = await listLedgers(db, { areas: ['tw-a', 'v-a1'], limit: 2 });
      expect(first.rows.map((r) => r.id)).toEqual(['l-4', 'l-3']);
      expect(first).toMatchObject({ total: 3, nextCursor: 'l-3' });
      expect(first.rows[0]).toEqual({
        id: 'l-4',
        area: 'tw-a',
        week_start: '2026-12-04',
        week_end: '2026-12-10',
        generated_at: T0,
        generated_by: 'lin',
      });
      const next = await listLedgers(db, { areas: ['tw-a', 'v-a1'], limit: 2, cursor: 'l-3' });
      expect([next.rows.map((r) => r.id), next.nextCursor]).toEqual([['l-1'], null]);
      expect((await listLedgers(db, { areas: null, limit: 10 })).total).toBe(4);
      expect((await listLedgers(db, { areas: [], limit: 10 })).total).toBe(0);
    });
  });
}
