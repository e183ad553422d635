import type { HouseholdInput } from '@gaswatch/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, type Db, migrateToLatest } from '../src/db/database.js';
import {
  type HouseholdQuery,
  insertHousehold,
  listHouseholds,
  updateHousehold,
} from '../src/db/households.js';
import type { DbTarget } from './db-contract.js';
import { quietLogger } from './helpers.js';

const T0 = Date.UTC(2026, 11, 10, 2, 0, 0);

const home = (id: string, area: string, address: string, vulnerable = false): HouseholdInput => ({
  id,
  area,
  address,
  lat: null,
  lon: null,
  dwelling: null,
  occupants: { count: 1, flags: vulnerable ? ['elderly_alone'] : [] },
  heating: [],
  contacts: [],
  notes: '',
});

/** 沙埔镇's extra villages: enough that a caller of the whole county spans more areas than a township does. */
const EXTRA_VILLAGES = 70;

/**
 * The household list and its search (issue 13) on one database: the same suite runs on SQLite
 * and on a real PostgreSQL (db-sqlite.test.ts, db-postgres.test.ts). A search is a part of the
 * address or of the id, anywhere in it, case-insensitive for latin letters, with `%` and `_`
 * taken as written, whether the trigram index answers it (3 characters or more) or not, and
 * whether the list is read area by area (a township) or in one pass (the county).
 */
export function householdsContract(name: string, target: () => DbTarget): void {
  describe(`household list contract: ${name}`, () => {
    const open: Db[] = [];
    afterEach(async () => {
      for (const db of open.splice(0)) await db.destroy();
    });

    /** A county of two townships, 大埔镇 (2 villages) and 沙埔镇 (71), and their homes. */
    async function registry(): Promise<{ db: Db; county: string[]; dapu: string[] }> {
      const { config } = await target().fresh();
      const db = createDatabase(config, quietLogger());
      open.push(db);
      await migrateToLatest(db);
      const extra = Array.from({ length: EXTRA_VILLAGES }, (_, i) => `shapu-x${String(i).padStart(2, '0')}`);
      const areas: Array<[string, string | null, 'county' | 'township' | 'village']> = [
        ['liucheng', null, 'county'],
        ['dapu', 'liucheng', 'township'],
        ['liujiang', 'dapu', 'village'],
        ['hexi', 'dapu', 'village'],
        ['shapu', 'liucheng', 'township'],
        ['shapu-1', 'shapu', 'village'],
        ...extra.map((id): [string, string, 'village'] => [id, 'shapu', 'village']),
      ];
      await db
        .insertInto('areas')
        .values(areas.map(([id, parent, kind]) => ({ id, parent, name: id, kind, created_at: T0 })))
        .execute();
      const homes = [
        home('dp-0001', 'liujiang', '大埔镇柳江村 3 组 12 号', true),
        home('dp-0002', 'liujiang', '大埔镇柳江村 3 组 15 号'),
        home('dp-0003', 'liujiang', '大埔镇 Block B 50% 楼 2 室', true),
        home('dp-0004', 'hexi', '大埔镇 x_y 路 1 号'),
        home('dp-0005', 'hexi', '大埔镇河西村 50 号'),
        home('dp-0006', 'hexi', '大埔镇 xzy 路 6 号', true),
        home('sp-0001', 'shapu-1', '沙埔镇柳江村 3 组 12 号'),
        ...extra.map((area, i) =>
          home(`sp-1${String(i).padStart(2, '0')}`, area, `沙埔镇新村 ${i} 号`, i % 3 === 0),
        ),
      ];
      for (const h of homes) await insertHousehold(db, h, T0);
      return {
        db,
        county: areas.map(([id]) => id),
        dapu: ['dapu', 'liujiang', 'hexi'],
      };
    }

    /** Every page of the list, following nextCursor: the ids in order, and the total each page said. */
    async function all(db: Db, q: Omit<HouseholdQuery, 'limit'>, limit = 2) {
      const ids: string[] = [];
      const totals = new Set<number>();
      let cursor: string | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const page = await listHouseholds(db, { ...q, limit, cursor });
        ids.push(...page.rows.map((r) => r.id));
        totals.add(page.total);
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      return { ids, totals: [...totals] };
    }

    it('pages a township area by area and the county in one pass, with the same answers', async () => {
      const { db, county, dapu } = await registry();
      const township = await all(db, { areas: dapu });
      expect(township).toEqual({
        ids: ['dp-0001', 'dp-0002', 'dp-0003', 'dp-0004', 'dp-0005', 'dp-0006'],
        totals: [6],
      });
      const everyone = await all(db, { areas: county }, 7);
      expect(everyone.ids).toHaveLength(7 + EXTRA_VILLAGES);
      expect(everyone.ids).toEqual([...everyone.ids].sort());
      expect(everyone.totals).toEqual([7 + EXTRA_VILLAGES]);
      expect(await all(db, { areas: null }, 7)).toEqual(everyone);
      expect(await all(db, { areas: dapu, vulnerable: true })).toEqual({
        ids: ['dp-0001', 'dp-0003', 'dp-0006'],
        totals: [3],
      });
      expect((await all(db, { areas: county, vulnerable: true }, 5)).totals).toEqual([
        3 + Math.ceil(EXTRA_VILLAGES / 3),
      ]);
    });

    it('finds a part of the address or the id, case-insensitive for latin, % and _ as written', async () => {
      const { db, county, dapu } = await registry();
      const search = async (areas: string[] | null, q: string) => (await all(db, { areas, q })).ids;
      for (const areas of [county, null]) {
        expect(await search(areas, '柳江村 3 组')).toEqual(['dp-0001', 'dp-0002', 'sp-0001']);
        expect(await search(areas, 'block b')).toEqual(['dp-0003']);
        expect(await search(areas, '50%')).toEqual(['dp-0003']);
        expect(await search(areas, 'x_y')).toEqual(['dp-0004']);
        expect(await search(areas, 'DP-000')).toEqual([
          'dp-0001',
          'dp-0002',
          'dp-0003',
          'dp-0004',
          'dp-0005',
          'dp-0006',
        ]);
        // Shorter than the trigram index reads: the same answer, by reading every home.
        expect(await search(areas, '50')).toEqual(['dp-0003', 'dp-0005', 'sp-150']);
        expect(await search(areas, '6')).toEqual([
          'dp-0006',
          'sp-106',
          'sp-116',
          'sp-126',
          'sp-136',
          'sp-146',
          'sp-156',
          'sp-160',
          'sp-161',
          'sp-162',
          'sp-163',
          'sp-164',
          'sp-165',
          'sp-166',
          'sp-167',
          'sp-168',
          'sp-169',
        ]);
        expect(await all(db, { areas, q: '没有这户' })).toEqual({ ids: [], totals: [0] });
      }
      expect(await search(dapu, '柳江村 3 组')).toEqual(['dp-0001', 'dp-0002']);
      expect(await search(dapu, 'BLOCK b')).toEqual(['dp-0003']);
      expect(await search(dapu, '50%')).toEqual(['dp-0003']);
      expect(await search(dapu, 'x_y')).toEqual(['dp-0004']);
      expect(await search(dapu, '50')).toEqual(['dp-0003', 'dp-0005']);
      expect((await all(db, { areas: county, q: '沙埔镇新村', vulnerable: true }, 3)).totals).toEqual([
        Math.ceil(EXTRA_VILLAGES / 3),
      ]);
    });

    it('keeps its totals through moves, a changed flag and a deletion', async () => {
      const { db, county, dapu } = await registry();
      // dp-0002 moves to 沙埔镇 and becomes vulnerable; dp-0001 stops being; dp-0005 is deleted.
      await updateHousehold(db, home('dp-0002', 'shapu-1', '沙埔镇柳江村 3 组 15 号', true), T0 + 1);
      await updateHousehold(db, home('dp-0001', 'liujiang', '大埔镇柳江村 3 组 12 号'), T0 + 1);
      await db.deleteFrom('households').where('id', '=', 'dp-0005').execute();
      const totals = async (areas: string[] | null, vulnerable?: boolean) => {
        const counted = (await listHouseholds(db, { areas, vulnerable, limit: 1 })).total;
        // What a count of the homes themselves says: a search every home's id matches.
        const searched = (await listHouseholds(db, { areas, vulnerable, limit: 1, q: 'p-' })).total;
        expect(counted).toBe(searched);
        return counted;
      };
      expect(await totals(dapu)).toBe(4);
      expect(await totals(dapu, true)).toBe(2);
      expect(await totals(dapu, false)).toBe(2);
      expect(await totals(['shapu-1'], true)).toBe(1);
      expect(await totals(county)).toBe(6 + EXTRA_VILLAGES);
      expect(await totals(null, true)).toBe(3 + Math.ceil(EXTRA_VILLAGES / 3));
    });

    it('follows a changed address and a move to another area', async () => {
      const { db, county, dapu } = await registry();
      await updateHousehold(db, home('dp-0002', 'liujiang', '大埔镇柳江村 9 组 15 号'), T0 + 1);
      await updateHousehold(db, home('sp-0001', 'hexi', '大埔镇河西村 3 组 12 号'), T0 + 1);
      const search = async (areas: string[] | null, q: string) => (await all(db, { areas, q })).ids;
      expect(await search(county, '柳江村 3 组')).toEqual(['dp-0001']);
      expect(await search(county, '柳江村 9 组')).toEqual(['dp-0002']);
      expect(await search(county, '河西村 3 组')).toEqual(['sp-0001']);
      expect(await search(dapu, '河西村 3 组')).toEqual(['sp-0001']);
      expect((await all(db, { areas: dapu })).totals).toEqual([7]);
    });
  });
}
