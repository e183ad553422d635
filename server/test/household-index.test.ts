/**
 * The household index (device → home) read page by page (issue 18: one query of a city's homes
 * held the event loop for seconds every minute), on a real SQLite database.
 */
import { join } from 'node:path';
import type { HouseholdInput } from '@gaswatch/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, type Db, migrateToLatest } from '../src/db/database.js';
import { insertDetectors, insertHouseholds, removeDetector } from '../src/db/households.js';
import { createHouseholdIndex, LOAD_PAGE } from '../src/households/index.js';
import { quietLogger, tempDir } from './helpers.js';

const T0 = Date.UTC(2026, 11, 7, 2, 0, 0);
const home = (id: string, area: string): HouseholdInput => ({
  id,
  area,
  address: `${area} ${id} 号`,
  lat: null,
  lon: null,
  dwelling: null,
  occupants: { count: 1, flags: [] },
  heating: [],
  contacts: [],
  notes: '',
});

describe('household index', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function city(homes: number, perHome: number): Promise<Db> {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const db = createDatabase({ kind: 'sqlite', file: join(dir.dir, 'gaswatch.db') }, quietLogger());
    cleanup.push(() => db.destroy());
    await migrateToLatest(db);
    await db
      .insertInto('areas')
      .values(
        ['v-east', 'v-west'].map((id) => ({ id, parent: null, name: id, kind: 'village', created_at: T0 })),
      )
      .execute();
    const hs = Array.from({ length: homes }, (_, i) => home(`h${i}`, i % 2 === 0 ? 'v-east' : 'v-west'));
    await insertHouseholds(db, hs, T0);
    await insertDetectors(
      db,
      hs.flatMap((h) =>
        Array.from({ length: perHome }, (_, k) => ({
          household: h.id,
          detector: { device: `${h.id}-co${k}`, location: k === 0 ? 'bedroom' : 'kitchen' },
        })),
      ),
      T0,
    );
    return db;
  }

  it('reads more detectors than a page holds: each in its home exactly once', async () => {
    const homes = Math.ceil((2 * LOAD_PAGE + 100) / 2);
    const db = await city(homes, 2);
    const index = createHouseholdIndex(db);
    await index.load();
    const east = [...index.devicesIn('v-east')];
    const west = [...index.devicesIn('v-west')];
    expect(east.length + west.length).toBe(2 * homes);
    expect(new Set([...east, ...west]).size).toBe(2 * homes);
    expect(index.ofDevice('h0-co0')).toMatchObject({ id: 'h0', area: 'v-east', location: 'bedroom' });
    const last = `h${homes - 1}-co1`;
    expect(index.ofDevice(last)).toMatchObject({ id: `h${homes - 1}`, location: 'kitchen' });
    expect(index.homeOf(last)?.contacts).toEqual([]);
  });

  it('gives a home as it was written: Chinese names, flags in the board\u2019s order, each detector\u2019s place', async () => {
    const db = await city(2, 1);
    const contacts: HouseholdInput['contacts'] = [
      { name: '王秀英', relation: 'occupant', phone: '138 0000 1234' },
      { name: '王建国（儿子）', relation: 'family', phone: '+86 139-0000-5678' },
      { name: '李网格员', relation: 'grid_worker', phone: '13700002222' },
    ];
    await insertHouseholds(
      db,
      [
        {
          ...home('h-wang', 'v-east'),
          address: '柳江村三组 17 号',
          occupants: { count: 2, flags: ['bedridden', 'elderly_alone'] },
          contacts,
        },
      ],
      T0,
    );
    await insertDetectors(
      db,
      [
        { household: 'h-wang', detector: { device: 'wang-co1', location: '卧室' } },
        { household: 'h-wang', detector: { device: 'wang-co2', location: '厨房' } },
      ],
      T0,
    );
    const index = createHouseholdIndex(db);
    await index.load();
    const flags = index.homeOf('wang-co1')?.flags;
    expect(index.homeOf('wang-co2')).toEqual({
      id: 'h-wang',
      area: 'v-east',
      address: '柳江村三组 17 号',
      flags,
      location: '厨房',
      contacts,
    });
    expect([...(flags ?? [])].sort()).toEqual(['bedridden', 'elderly_alone']);
    expect(index.ofDevice('wang-co1')).toEqual({
      id: 'h-wang',
      area: 'v-east',
      address: '柳江村三组 17 号',
      vulnerable: ['elderly_alone', 'bedridden'],
      location: '卧室',
    });
    // Another home's detector in the same village keeps its own (empty) contacts.
    expect(index.homeOf('h0-co0')?.contacts).toEqual([]);
  });

  it('a household changed here while a reload reads its pages keeps its change', async () => {
    const db = await city(LOAD_PAGE, 2); // two pages
    const index = createHouseholdIndex(db);
    await index.load();
    const reload = index.load();
    // h1 is on the first page, already read when this runs (the reload waits between pages).
    await new Promise((r) => setImmediate(r));
    await removeDetector(db, 'h1', 'h1-co1');
    await index.refresh('h1');
    await reload;
    expect(index.ofDevice('h1-co1')).toBeUndefined();
    expect(index.ofDevice('h1-co0')?.id).toBe('h1');
    expect([...index.devicesIn('v-west')]).not.toContain('h1-co1');
  });
});
