import { describe, expect, it } from 'vitest';
import { insertHousehold, putDetector } from '../src/db/households.js';
import {
  factsOf,
  gatewayBumpTestId,
  getDeviceMaintenance,
  householdAlarmOf,
  householdAlarmsOf,
  insertBumpTest,
  insertCalibration,
  listBumpTests,
  listCalibrations,
  maintenanceDueBy,
  putMaintenanceDates,
  toBumpTest,
} from '../src/db/maintenance.js';
import type { BumpTestsTable, CalibrationsTable } from '../src/db/schema.js';
import { type DbTarget, migratedDatabases } from './db-contract.js';

/** 2026-12-10 10:00 in Asia/Shanghai. */
const T0 = Date.UTC(2026, 11, 10, 2, 0, 0);
const H = 3_600_000;

const bump = (over: Partial<BumpTestsTable> & Pick<BumpTestsTable, 'id' | 'at'>): BumpTestsTable => ({
  device: 'cs-1',
  result: 'pass',
  gases: JSON.stringify([{ gas: 'H2S', result: 'pass', peak: 12.5 }]),
  method: 'manual',
  done_by: '韦小明',
  note: '',
  recorded_by: 'tok_1',
  recorded_at: T0,
  ...over,
});
const calibration = (
  over: Partial<CalibrationsTable> & Pick<CalibrationsTable, 'id' | 'at'>,
): CalibrationsTable => ({
  device: 'cs-1',
  result: 'pass',
  next_due: '2027-06-10',
  done_by: '计量所',
  certificate: 'JL-1',
  note: '',
  recorded_by: 'tok_1',
  recorded_at: T0,
  ...over,
});

/**
 * Detector maintenance records (migration 0010-maintenance) on one database: the same suite runs
 * on SQLite and on a real PostgreSQL (db-sqlite.test.ts, db-postgres.test.ts), so the "latest
 * test" kept per device, the upserts' conditions, times in bigint columns and the lists' order and
 * cursors behave alike on both.
 */
export function maintenanceContract(name: string, target: () => DbTarget): void {
  describe(`maintenance records contract: ${name}`, () => {
    const fresh = migratedDatabases(target);

    it("keeps each device's latest bump test by when it was done, whatever the order they are recorded in", async () => {
      const db = await fresh();
      expect(await getDeviceMaintenance(db, 'cs-1')).toBeUndefined();
      expect(await insertBumpTest(db, bump({ id: 'b-2', at: T0 + 2 * H, result: 'fail' }))).toBe(true);
      // Done earlier, recorded later: stored, but not the latest.
      expect(await insertBumpTest(db, bump({ id: 'b-1', at: T0 + H, recorded_at: T0 + 3 * H }))).toBe(true);
      expect(await getDeviceMaintenance(db, 'cs-1')).toMatchObject({
        bump_id: 'b-2',
        bump_at: T0 + 2 * H,
        bump_result: 'fail',
      });
      // A gateway's event delivered twice: one row, and the second says so.
      const gw = gatewayBumpTestId('cs-1', T0 + 4 * H);
      expect(gw).toBe(`gw-${(T0 + 4 * H).toString(36)}-cs-1`);
      expect(await insertBumpTest(db, bump({ id: gw, at: T0 + 4 * H, method: 'gateway' }))).toBe(true);
      expect(
        await insertBumpTest(db, bump({ id: gw, at: T0 + 4 * H, method: 'gateway', result: 'fail' })),
      ).toBe(false);
      const row = await getDeviceMaintenance(db, 'cs-1');
      expect(row).toMatchObject({ bump_id: gw, bump_at: T0 + 4 * H, bump_result: 'pass' });
      expect(typeof row?.bump_at).toBe('number');
      // Another device is another row.
      await insertBumpTest(db, bump({ id: 'b-9', at: T0, device: 'cs-2' }));
      expect((await getDeviceMaintenance(db, 'cs-2'))?.bump_id).toBe('b-9');
      expect((await getDeviceMaintenance(db, 'cs-1'))?.bump_id).toBe(gw);
    });

    it('keeps the latest calibration the same way, and the dates beside them', async () => {
      const db = await fresh();
      await insertCalibration(db, calibration({ id: 'c-2', at: T0, result: 'fail', next_due: null }));
      await insertCalibration(db, calibration({ id: 'c-1', at: T0 - 90 * 24 * H, next_due: '2027-01-01' }));
      expect(await getDeviceMaintenance(db, 'cs-1')).toMatchObject({
        cal_id: 'c-2',
        cal_at: T0,
        cal_result: 'fail',
        cal_next_due: null,
      });
      expect(
        await putMaintenanceDates(db, 'cs-1', { sensorEndOfLife: '2028-03-31', lastSelfTest: null }, T0 + 1),
      ).toMatchObject({ sensor_eol: null, cal_id: 'c-2' });
      await insertCalibration(db, calibration({ id: 'c-3', at: T0 + H, next_due: '2027-12-10' }));
      const row = await getDeviceMaintenance(db, 'cs-1');
      expect(row).toMatchObject({
        sensor_eol: '2028-03-31',
        last_self_test: null,
        cal_id: 'c-3',
        cal_next_due: '2027-12-10',
        bump_id: null,
      });
      expect(factsOf(row, '2031-01-01')).toEqual({
        lastBumpTest: null,
        lastCalibration: { at: T0 + H, result: 'pass', nextDue: '2027-12-10' },
        sensorEndOfLife: '2028-03-31',
        alarmExpiresOn: '2031-01-01',
      });
      // Dates of a device never tested: its row starts with them.
      expect(
        await putMaintenanceDates(db, 'cs-new', { sensorEndOfLife: null, lastSelfTest: '2026-12-01' }, T0),
      ).toBeUndefined();
      expect(await getDeviceMaintenance(db, 'cs-new')).toMatchObject({
        last_self_test: '2026-12-01',
        bump_id: null,
      });
    });

    it("lists a device's records the last done first, page by page through ties of one time", async () => {
      const db = await fresh();
      for (let i = 0; i < 7; i++)
        await insertBumpTest(
          db,
          bump({ id: `b-${i}`, at: T0 + Math.floor(i / 2) * H, note: `第 ${i} 次 "测试"` }),
        );
      await insertBumpTest(db, bump({ id: 'other', at: T0, device: 'cs-2' }));
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const p = await listBumpTests(db, { device: 'cs-1', limit: 3, cursor });
        expect(p.total).toBe(7);
        seen.push(...p.rows.map((r) => r.id));
        if (p.nextCursor === null) break;
        cursor = p.nextCursor;
      }
      expect(seen).toEqual(['b-6', 'b-5', 'b-4', 'b-3', 'b-2', 'b-1', 'b-0']);
      const [first] = (await listBumpTests(db, { device: 'cs-1', limit: 1 })).rows;
      expect(toBumpTest(first as BumpTestsTable)).toEqual({
        id: 'b-6',
        device: 'cs-1',
        at: new Date(T0 + 3 * H).toISOString(),
        result: 'pass',
        gases: [{ gas: 'H2S', result: 'pass', peak: 12.5 }],
        method: 'manual',
        by: '韦小明',
        note: '第 6 次 "测试"',
        recordedBy: 'tok_1',
        recordedAt: new Date(T0).toISOString(),
      });
      await insertCalibration(db, calibration({ id: 'c-1', at: T0 }));
      await insertCalibration(db, calibration({ id: 'c-2', at: T0 + H }));
      const cals = await listCalibrations(db, { device: 'cs-1', limit: 1 });
      expect([cals.rows.map((r) => r.id), cals.total, cals.nextCursor]).toEqual([
        ['c-2'],
        2,
        `${T0 + H}_c-2`,
      ]);
    });

    it('finds what is due by a day (inclusive) or failed; reads household alarms from the registry', async () => {
      const db = await fresh();
      await insertCalibration(
        db,
        calibration({ id: 'c-a', at: T0, device: 'due-on-day', next_due: '2026-12-20' }),
      );
      await insertCalibration(
        db,
        calibration({ id: 'c-b', at: T0, device: 'due-later', next_due: '2026-12-21' }),
      );
      await insertCalibration(
        db,
        calibration({ id: 'c-c', at: T0, device: 'cal-failed', result: 'fail', next_due: null }),
      );
      await insertBumpTest(db, bump({ id: 'b-f', at: T0, device: 'bump-failed', result: 'fail' }));
      await insertBumpTest(db, bump({ id: 'b-p', at: T0, device: 'bump-passed' }));
      await putMaintenanceDates(db, 'eol', { sensorEndOfLife: '2026-12-01', lastSelfTest: null }, T0);
      expect((await maintenanceDueBy(db, '2026-12-20')).map((r) => r.device)).toEqual([
        'bump-failed',
        'cal-failed',
        'due-on-day',
        'eol',
      ]);

      await db
        .insertInto('areas')
        .values({ id: 'v', parent: null, name: '村', kind: 'village', created_at: T0 })
        .execute();
      await insertHousehold(
        db,
        {
          id: 'h-1',
          area: 'v',
          address: '1 号',
          lat: null,
          lon: null,
          dwelling: null,
          occupants: { count: 1, flags: [] },
          heating: [],
          contacts: [],
          notes: '',
        },
        T0,
      );
      await putDetector(db, 'h-1', { device: 'co-1', location: '卧室', expiresOn: '2031-11-30' }, T0);
      await putDetector(db, 'h-1', { device: 'co-2', location: '厨房' }, T0);
      expect(await householdAlarmOf(db, 'co-1')).toEqual({ household: 'h-1', expiresOn: '2031-11-30' });
      expect(await householdAlarmOf(db, 'co-2')).toEqual({ household: 'h-1', expiresOn: null });
      expect(await householdAlarmOf(db, 'cs-1')).toBeUndefined();
      expect(await householdAlarmsOf(db, ['co-1', 'co-2', 'cs-1'])).toEqual(
        new Map([['co-1', '2031-11-30']]),
      );
      expect(await householdAlarmsOf(db, [])).toEqual(new Map());
    });
  });
}
