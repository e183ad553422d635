import { GB30871, SpaceInputSchema } from '@gaswatch/shared';
import { describe, expect, it } from 'vitest';
import type { Db } from '../src/db/database.js';
import { timeOrderedId } from '../src/db/page.js';
import {
  abandonOpenTests,
  allMonitoringOf,
  brokenLink,
  deletePermit,
  getPermit,
  insertMonitoring,
  insertPermit,
  insertReadings,
  insertTest,
  listPermits,
  monitoredPermits,
  monitoringOf,
  PermitChangedError,
  permitEvents,
  permitsPastValidity,
  RecordsKeptError,
  readingsOf,
  type Signer,
  testsOf,
  transitionPermit,
  updateTest,
} from '../src/db/permits.js';
import type { PermitsTable, PermitTestsTable } from '../src/db/schema.js';
import {
  deleteSpace,
  getSpace,
  insertSpace,
  listSpaces,
  SpaceExistsError,
  SpaceInUseError,
  updateSpace,
} from '../src/db/spaces.js';
import { type DbTarget, migratedDatabases } from './db-contract.js';

const T0 = Date.UTC(2026, 11, 10, 1, 0, 0);
const HOUR = 3_600_000;
const LI: Signer = { by: 'li', kind: 'user', name: '李明', role: 'operator' };

/**
 * Spaces and permits (migration 0011-permits) on one database: the same suite runs on SQLite and
 * on a real PostgreSQL (db-sqlite.test.ts, db-postgres.test.ts).
 */
export function permitsContract(name: string, target: () => DbTarget): void {
  describe(`permit records contract: ${name}`, () => {
    const migrated = migratedDatabases(target);
    const fresh = async (): Promise<Db> => {
      const db = await migrated();
      for (const [id, parent, kind] of [
        ['tw-a', null, 'township'],
        ['v-a1', 'tw-a', 'village'],
        ['tw-b', null, 'township'],
      ] as const)
        await db.insertInto('areas').values({ id, parent, name: id, kind, created_at: T0 }).execute();
      await insertSpace(
        db,
        SpaceInputSchema.parse({ id: 'ws-1', name: '1号检查井', area: 'v-a1', kind: 'manhole' }),
        T0,
      );
      return db;
    };

    let n = 0;
    const permit = (over: Partial<PermitsTable> = {}): PermitsTable => ({
      id: timeOrderedId(T0 + ++n),
      kind: 'confined_space',
      level: null,
      state: 'draft',
      area: 'v-a1',
      site: null,
      space_id: 'ws-1',
      location: '1号检查井',
      hot_work_site: null,
      large: 1,
      oxygen_enriched: 0,
      rule_set: 'gb30871',
      rules: JSON.stringify(GB30871),
      work: '清淤 "井底"',
      applicant: JSON.stringify({ name: '刘志远', certificate: '', unit: '' }),
      crew: JSON.stringify([{ name: '周强', certificate: 'YX-1', role: '' }]),
      attendant: JSON.stringify({ name: '郑伟', certificate: '', unit: '' }),
      measures: JSON.stringify([{ text: '通风', confirmed: null }]),
      related: '[]',
      notes: '',
      people: '刘志远\n周强\n郑伟\nli\nzhang wei',
      planned_start: T0,
      planned_end: T0 + 8 * HOUR,
      valid_until: T0 + 8 * HOUR,
      monitor_device: null,
      monitor_gw: null,
      monitor_instrument: null,
      monitor_gases: null,
      seq: 0,
      created_by: 'li',
      created_at: T0 + n,
      updated_at: T0 + n,
      closed_at: null,
      keep_until: null,
      ...over,
    });

    it('keeps the register: one space per id, searchable, kept while a permit names it', async () => {
      const db = await fresh();
      await expect(
        insertSpace(db, SpaceInputSchema.parse({ id: 'ws-1', name: 'x', area: 'v-a1', kind: 'pit' }), T0),
      ).rejects.toThrow(SpaceExistsError);
      await insertSpace(
        db,
        SpaceInputSchema.parse({
          id: 'tank-2',
          name: '2号储罐',
          area: 'tw-b',
          kind: 'tank',
          gases: [{ name: '氢气', lelPercentVol: 4 }],
        }),
        T0,
      );
      const tank = await getSpace(db, 'tank-2');
      expect(JSON.parse(tank?.gases ?? '')).toEqual([{ name: '氢气', lelPercentVol: 4 }]);
      expect((await listSpaces(db, { areas: ['v-a1'], limit: 10 })).rows.map((r) => r.id)).toEqual(['ws-1']);
      expect((await listSpaces(db, { areas: null, q: '储罐', limit: 10 })).rows.map((r) => r.id)).toEqual([
        'tank-2',
      ]);
      expect((await listSpaces(db, { areas: null, q: '_', limit: 10 })).rows.map((r) => r.id)).toEqual([]);
      expect((await listSpaces(db, { areas: null, kind: 'manhole', limit: 10 })).total).toBe(1);
      const page = await listSpaces(db, { areas: null, limit: 1 });
      expect(page).toMatchObject({ total: 2, nextCursor: 'tank-2' });
      expect(
        (await listSpaces(db, { areas: null, limit: 1, cursor: 'tank-2' })).rows.map((r) => r.id),
      ).toEqual(['ws-1']);
      await updateSpace(
        db,
        SpaceInputSchema.parse({ id: 'tank-2', name: '2号储罐', area: 'tw-b', kind: 'tank', large: true }),
        T0 + 1,
      );
      expect((await getSpace(db, 'tank-2'))?.large).toBe(1);
      await insertPermit(db, permit());
      await expect(deleteSpace(db, 'ws-1')).rejects.toThrow(SpaceInUseError);
      await deleteSpace(db, 'tank-2');
      expect(await getSpace(db, 'tank-2')).toBeUndefined();
    });

    it('records each state change once, signed and chained; a change from a stale read is refused', async () => {
      const db = await fresh();
      const p = permit();
      await insertPermit(db, p);
      const first = await transitionPermit(db, {
        permit: p,
        action: 'approve',
        to: 'approved',
        at: T0 + 10,
        signer: LI,
        note: '同意 "可以"',
      });
      expect(first.permit).toMatchObject({ state: 'approved', seq: 1 });
      // Two changes taken from the same read: one lands, the other is told to read again.
      const results = await Promise.allSettled([
        transitionPermit(db, {
          permit: first.permit,
          action: 'start_test',
          to: 'testing',
          at: T0 + 20,
          signer: LI,
          note: 'a',
        }),
        transitionPermit(db, {
          permit: first.permit,
          action: 'cancel',
          to: 'cancelled',
          at: T0 + 21,
          signer: LI,
          note: 'b',
        }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(PermitChangedError);
      const events = await permitEvents(db, p.id);
      expect(events.map((e) => [e.seq, e.action])).toEqual([
        [1, 'approve'],
        [2, expect.stringMatching(/^(start_test|cancel)$/)],
      ]);
      expect(events[0]).toMatchObject({
        actor: 'li',
        actor_kind: 'user',
        actor_name: '李明',
        actor_role: 'operator',
        note: '同意 "可以"',
      });
      expect(brokenLink(events)).toBeNull();
      // A record edited in the database no longer matches the chain.
      await db
        .updateTable('permit_events')
        .set({ note: '不同意' })
        .where('permit_id', '=', p.id)
        .where('seq', '=', 1)
        .execute();
      expect(brokenLink(await permitEvents(db, p.id))).toBe(1);
    });

    it('lists permits newest first by area, space, state, kind, window and person, a page at a time', async () => {
      const db = await fresh();
      const a = permit({ state: 'closed' });
      const b = permit({
        kind: 'hot_work',
        level: 'level2',
        space_id: null,
        planned_start: T0 + 24 * HOUR,
        planned_end: T0 + 30 * HOUR,
      });
      const c = permit({ area: 'tw-b', space_id: null, people: 'wang\n100%_guard' });
      for (const p of [a, b, c]) await insertPermit(db, p);
      const ids = async (q: Parameters<typeof listPermits>[1]) =>
        (await listPermits(db, q)).rows.map((r) => r.id);
      expect(await ids({ areas: null, limit: 10 })).toEqual([c.id, b.id, a.id]);
      expect(await ids({ areas: ['tw-a', 'v-a1'], limit: 10 })).toEqual([b.id, a.id]);
      expect(await ids({ areas: [], limit: 10 })).toEqual([]);
      expect(await ids({ areas: null, space: 'ws-1', limit: 10 })).toEqual([a.id]);
      expect(await ids({ areas: null, states: ['draft'], limit: 10 })).toEqual([c.id, b.id]);
      expect(await ids({ areas: null, kind: 'hot_work', limit: 10 })).toEqual([b.id]);
      expect(await ids({ areas: null, from: T0 + 20 * HOUR, limit: 10 })).toEqual([b.id]);
      expect(await ids({ areas: null, to: T0 + HOUR, limit: 10 })).toEqual([c.id, a.id]);
      expect(await ids({ areas: null, person: '周', limit: 10 })).toEqual([b.id, a.id]);
      expect(await ids({ areas: null, person: 'Zhang Wei', limit: 10 })).toEqual([b.id, a.id]);
      expect(await ids({ areas: null, person: '100%_', limit: 10 })).toEqual([c.id]);
      expect(await ids({ areas: null, person: '10_%', limit: 10 })).toEqual([]);
      const first = await listPermits(db, { areas: null, limit: 2 });
      expect(first).toMatchObject({ total: 3, nextCursor: b.id });
      expect(await ids({ areas: null, limit: 2, cursor: b.id })).toEqual([a.id]);
    });

    it('keeps tests, their readings and monitoring records, byte for byte, in order', async () => {
      const db = await fresh();
      const p = permit({ state: 'in_progress', monitor_device: 'entry-4gas', monitor_gw: 'gw' });
      await insertPermit(db, p);
      const test = (at: number): PermitTestsTable => ({
        id: timeOrderedId(at),
        permit_id: p.id,
        status: 'in_progress',
        device: 'entry-4gas',
        gw: 'gw',
        instrument: null,
        response_time_s: 30,
        gases: JSON.stringify([{ channel: 'H2S', gas: 'H2S' }]),
        steps: JSON.stringify([{ position: 'top', gas: 'H2S', check: 'toxic' }]),
        placements: '[]',
        note: '',
        started_by: 'li',
        started_name: '李明',
        started_role: 'operator',
        started_at: at,
        completed_at: null,
      });
      const t1 = test(T0 + 100);
      await insertTest(db, t1);
      expect(await updateTest(db, t1.id, 'passed', { status: 'failed' })).toBe(false);
      expect(
        await updateTest(db, t1.id, 'in_progress', { placements: '[{"position":"top","at":1,"by":"li"}]' }),
      ).toBe(true);
      const t2 = test(T0 + 200);
      expect(await abandonOpenTests(db, p.id, T0 + 200)).toBe(1);
      await insertTest(db, t2);
      expect((await testsOf(db, p.id)).map((t) => [t.id, t.status])).toEqual([
        [t1.id, 'abandoned'],
        [t2.id, 'in_progress'],
      ]);
      const reading = (at: number, gas: unknown) => ({
        test_id: t2.id,
        position: 'top',
        gas: JSON.stringify(gas),
        check_kind: 'toxic',
        value: 7.06,
        unit: 'ppm',
        pass: 1,
        checks: JSON.stringify([{ check: 'toxic', source: 'GBZ 2.1-2019 “MAC”' }]),
        placed_at: at - 30_000,
        read_at: at,
        sampled_at: at - 1_000,
        source: 'live',
        recorded_by: 'li',
        recorded_name: '李明',
        recorded_role: 'operator',
      });
      await insertReadings(db, [
        reading(T0 + 300, 'H2S'),
        reading(T0 + 250, { name: '氢气', lelPercentVol: 4 }),
      ]);
      const got = (await readingsOf(db, [t2.id])).get(t2.id) ?? [];
      expect(got.map((r) => r.read_at)).toEqual([T0 + 250, T0 + 300]);
      expect(JSON.parse(got[0]?.gas ?? '')).toEqual({ name: '氢气', lelPercentVol: 4 });
      expect(got[1]?.checks).toBe(JSON.stringify([{ check: 'toxic', source: 'GBZ 2.1-2019 “MAC”' }]));
      expect(got[1]?.value).toBe(7.06);

      for (const [at, why] of [
        [T0 + 1000, 'start'],
        [T0 + 2 * HOUR, 'interval'],
        [T0 + 2 * HOUR + 5, 'failed'],
      ] as const)
        await insertMonitoring(db, {
          permit_id: p.id,
          at,
          device: 'entry-4gas',
          instrument: null,
          readings: JSON.stringify([{ gas: 'H2S', value: 2, unit: 'ppm' }]),
          pass: why === 'failed' ? 0 : 1,
          reasons: '[]',
          why,
          recorded_by: 'system',
          note: '',
        });
      const latest = await monitoringOf(db, p.id, 2);
      expect(latest.total).toBe(3);
      expect(latest.rows.map((m) => m.why)).toEqual(['failed', 'interval']);
      expect((await allMonitoringOf(db, p.id)).map((m) => m.why)).toEqual(['start', 'interval', 'failed']);
      expect((await monitoredPermits(db)).map((m) => m.id)).toEqual([p.id]);
    });

    it('finds permits past their validity, and deletes none before its keeping time', async () => {
      const db = await fresh();
      const live = permit({ state: 'approved', valid_until: T0 + HOUR });
      const draft = permit({ valid_until: T0 });
      const working = permit({ state: 'in_progress', valid_until: T0 + 2 * HOUR });
      for (const p of [live, draft, working]) await insertPermit(db, p);
      expect((await permitsPastValidity(db, T0 + HOUR)).map((p) => p.id)).toEqual([]);
      expect((await permitsPastValidity(db, T0 + HOUR + 1)).map((p) => p.id)).toEqual([live.id]);
      await expect(deletePermit(db, draft.id, T0 + 10 * 365 * 24 * HOUR)).rejects.toThrow(RecordsKeptError);
      await expect(deletePermit(db, working.id, T0 + 10 * 365 * 24 * HOUR)).rejects.toThrow(/is not closed/);
      const { permit: closed } = await transitionPermit(db, {
        permit: working,
        action: 'close',
        to: 'closed',
        at: T0,
        signer: LI,
        note: '验收合格',
        set: { closed_at: T0, keep_until: T0 + 365 * 24 * HOUR },
      });
      await expect(deletePermit(db, closed.id, T0 + 365 * 24 * HOUR - 1)).rejects.toThrow(
        /must be kept until 2027-12-10T01:00:00.000Z/,
      );
      await insertMonitoring(db, {
        permit_id: closed.id,
        at: T0,
        device: null,
        instrument: 'BW-1',
        readings: '[]',
        pass: 1,
        reasons: '[]',
        why: 'manual',
        recorded_by: 'li',
        note: '',
      });
      await deletePermit(db, closed.id, T0 + 365 * 24 * HOUR);
      expect(await getPermit(db, closed.id)).toBeUndefined();
      expect(await permitEvents(db, closed.id)).toEqual([]);
      expect(await allMonitoringOf(db, closed.id)).toEqual([]);
    });
  });
}
