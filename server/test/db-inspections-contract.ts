import {
  INSPECTION_ITEMS,
  type InspectionInput,
  InspectionInputSchema,
  PHOTOS_PER_INSPECTION,
  PHOTOS_PER_ITEM,
} from '@gaswatch/shared';
import { describe, expect, it } from 'vitest';
import type { Db } from '../src/db/database.js';
import { insertHousehold } from '../src/db/households.js';
import {
  getInspection,
  getPhoto,
  InspectionNotFoundError,
  insertInspection,
  insertPhoto,
  listInspections,
  moveInspections,
  photosOf,
  TooManyPhotosError,
  toInspection,
  updateInspection,
} from '../src/db/inspections.js';
import { type DbTarget, migratedDatabases } from './db-contract.js';

const T0 = Date.UTC(2026, 11, 10, 2, 0, 0);

/**
 * Home visits (migration 0006-inspections) on one database: the same suite runs on SQLite and on
 * a real PostgreSQL (db-sqlite.test.ts, db-postgres.test.ts).
 */
export function inspectionsContract(name: string, target: () => DbTarget): void {
  describe(`inspection records contract: ${name}`, () => {
    const migrated = migratedDatabases(target);
    const fresh = async (): Promise<Db> => {
      const db = await migrated();
      for (const [id, parent, kind] of [
        ['tw-a', null, 'township'],
        ['v-a1', 'tw-a', 'village'],
        ['v-a2', 'tw-a', 'village'],
      ] as const)
        await db.insertInto('areas').values({ id, parent, name: id, kind, created_at: T0 }).execute();
      for (const [id, area] of [
        ['h-1', 'v-a1'],
        ['h-2', 'v-a2'],
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
            occupants: { count: 1, flags: [] },
            heating: ['coal_stove'],
            contacts: [],
            notes: '',
          },
          T0,
        );
      return db;
    };

    const visit = (over: Record<string, unknown>): InspectionInput =>
      InspectionInputSchema.parse({
        household: 'h-1',
        date: '2026-12-01',
        inspectors: ['李国强'],
        items: [
          { item: 'co_alarm_missing', result: 'found', note: '无报警器 "需安装"' },
          { item: 'room_sealed', result: 'not_found' },
        ],
        rectification: { deadline: '2026-12-05' },
        ...over,
      });
    const record = (db: Db, over: Record<string, unknown>, now = T0, area = 'v-a1') =>
      insertInspection(db, { ...visit(over), area, createdBy: 'lin' }, now);

    it('keeps a visit as written, lists by area, household and day, newest first, page by page', async () => {
      const db = await fresh();
      const a = await record(db, {});
      const b = await record(db, { date: '2026-12-03' }, T0 - 1000);
      const c = await record(db, { date: '2026-12-03' }, T0 + 1000);
      const d = await record(db, { household: 'h-2', date: '2026-12-02' }, T0, 'v-a2');

      const back = await getInspection(db, a.id);
      expect(back).toEqual(a);
      expect(toInspection(back ?? a, [], '2026-12-04')).toMatchObject({
        household: 'h-1',
        area: 'v-a1',
        items: [
          { item: 'room_sealed', result: 'not_found', note: '', photos: [] },
          { item: 'co_alarm_missing', result: 'found', note: '无报警器 "需安装"', photos: [] },
        ],
        foundCount: 1,
        rectification: { deadline: '2026-12-05', outcome: 'pending', rectifiedOn: null, note: '' },
        overdue: false,
      });

      const list = async (q: Partial<Parameters<typeof listInspections>[1]>) =>
        (await listInspections(db, { areas: null, limit: 10, ...q })).rows.map((r) => r.id);
      // Newest day first; within a day, newest recorded first.
      expect(await list({})).toEqual([c.id, b.id, d.id, a.id]);
      expect(await list({ areas: ['v-a2'] })).toEqual([d.id]);
      expect(await list({ areas: [] })).toEqual([]);
      expect(await list({ household: 'h-1', from: '2026-12-02', to: '2026-12-03' })).toEqual([c.id, b.id]);

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listInspections(db, { areas: ['v-a1', 'v-a2'], limit: 3, cursor });
        expect(page.total).toBe(4);
        seen.push(...page.rows.map((r) => r.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      expect(seen).toEqual([c.id, b.id, d.id, a.id]);
    });

    it('lists pending rectifications past their deadline, oldest first; rectified ones leave', async () => {
      const db = await fresh();
      const late = await record(db, { rectification: { deadline: '2026-12-02' } });
      const later = await record(db, { rectification: { deadline: '2026-12-04' } });
      const due = await record(db, { rectification: { deadline: '2026-12-05' } });
      const calm = await record(db, {
        items: [{ item: 'room_sealed', result: 'not_found' }],
        rectification: null,
      });
      const refused = await record(db, {
        rectification: { deadline: '2026-12-01', outcome: 'not_rectified' },
      });

      const overdue = async (today: string, is = true, limit = 10, cursor?: string) =>
        listInspections(db, { areas: null, overdue: { today, is }, limit, cursor });
      // The deadline day itself is not overdue.
      expect((await overdue('2026-12-05')).rows.map((r) => r.id)).toEqual([late.id, later.id]);
      const first = await overdue('2026-12-06', true, 2);
      expect([first.rows.map((r) => r.id), first.total]).toEqual([[late.id, later.id], 3]);
      expect((await overdue('2026-12-06', true, 2, first.nextCursor ?? '')).rows.map((r) => r.id)).toEqual([
        due.id,
      ]);
      expect((await overdue('2026-12-06', false)).rows.map((r) => r.id).sort()).toEqual(
        [calm.id, refused.id].sort(),
      );

      const after = await updateInspection(
        db,
        late.id,
        {
          rectification: {
            deadline: '2026-12-02',
            outcome: 'rectified',
            rectifiedOn: '2026-12-06',
            note: '已整改',
          },
          note: '复查',
        },
        T0 + 5000,
      );
      expect([after.rectify_outcome, after.rectified_on, after.note, after.updated_at]).toEqual([
        'rectified',
        '2026-12-06',
        '复查',
        T0 + 5000,
      ]);
      expect((await overdue('2026-12-06')).rows.map((r) => r.id)).toEqual([later.id, due.id]);
      await expect(
        updateInspection(db, 'nope', { rectification: null, note: '' }, T0),
      ).rejects.toBeInstanceOf(InspectionNotFoundError);
    });

    it('keeps photo bytes exactly, capped per item and per inspection', async () => {
      const db = await fresh();
      const i = await record(db, {});
      // Every byte value, a NUL first: binary, not text.
      const bytes = Buffer.from(Array.from({ length: 512 }, (_, n) => (n * 7) % 256));
      const meta = await db
        .transaction()
        .execute((tx) =>
          insertPhoto(
            tx,
            { inspection: i.id, item: 'co_alarm_missing', contentType: 'image/png', bytes, createdBy: 'lin' },
            T0,
          ),
        );
      expect(meta).toMatchObject({ item: 'co_alarm_missing', contentType: 'image/png', size: 512 });
      const back = await getPhoto(db, i.id, meta.id);
      expect(Buffer.isBuffer(back?.bytes)).toBe(true);
      expect(Buffer.from(back?.bytes ?? []).equals(bytes)).toBe(true);
      expect(await getPhoto(db, 'other', meta.id)).toBeUndefined();
      expect((await photosOf(db, [i.id])).get(i.id)).toEqual([meta]);

      const add = (item: string) =>
        db
          .transaction()
          .execute((tx) =>
            insertPhoto(
              tx,
              { inspection: i.id, item, contentType: 'image/jpeg', bytes, createdBy: 'lin' },
              T0,
            ),
          );
      for (let n = 1; n < PHOTOS_PER_ITEM; n++) await add('co_alarm_missing');
      await expect(add('co_alarm_missing')).rejects.toBeInstanceOf(TooManyPhotosError);
      // Every item counts toward the inspection's cap.
      for (let n = PHOTOS_PER_ITEM; n < PHOTOS_PER_INSPECTION; n++) await add(INSPECTION_ITEMS[n % 4] ?? '');
      await expect(add('room_sealed')).rejects.toThrow(/20 photos/);
      expect((await photosOf(db, [i.id])).get(i.id)).toHaveLength(PHOTOS_PER_INSPECTION);
      await expect(
        insertPhoto(
          db,
          { inspection: 'nope', item: 'x', contentType: 'image/png', bytes, createdBy: 'lin' },
          T0,
        ),
      ).rejects.toBeInstanceOf(InspectionNotFoundError);
    });

    it('refuses a visit of a household that does not exist, and moves visits with their household', async () => {
      const db = await fresh();
      await expect(record(db, { household: 'ghost' })).rejects.toThrow();
      const i = await record(db, {});
      expect(await moveInspections(db, 'h-1', 'v-a2')).toBe(1);
      expect((await getInspection(db, i.id))?.area).toBe('v-a2');
      expect(await moveInspections(db, 'h-1', 'v-a2')).toBe(0);
    });
  });
}
