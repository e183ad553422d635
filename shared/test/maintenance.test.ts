import { describe, expect, it } from 'vitest';
import {
  addDays,
  BumpTestInputSchema,
  CalibrationInputSchema,
  dayInZone,
  daysBetween,
  type MaintenanceFacts,
  maintenanceFitness,
} from '../src/index.js';

// Asia/Shanghai is UTC+8 all year: its midnight is 16:00 UTC the day before.
const SH_MIDNIGHT = Date.parse('2026-11-23T16:00:00.000Z'); // 2026-11-24 00:00 in Shanghai
const H = 3_600_000;

/** A detector with everything in order on 2026-11-24 (Shanghai), bump-tested at 08:00 that day. */
const good = (over: Partial<MaintenanceFacts> = {}): MaintenanceFacts => ({
  lastBumpTest: { at: SH_MIDNIGHT + 8 * H, result: 'pass' },
  lastCalibration: { at: Date.parse('2026-06-01T02:00:00Z'), result: 'pass', nextDue: '2027-06-01' },
  sensorEndOfLife: '2028-03-31',
  alarmExpiresOn: null,
  ...over,
});

describe('days', () => {
  it("gives the site's local day, not UTC's", () => {
    expect(dayInZone(SH_MIDNIGHT - 1, 'Asia/Shanghai')).toBe('2026-11-23');
    expect(dayInZone(SH_MIDNIGHT, 'Asia/Shanghai')).toBe('2026-11-24');
    expect(dayInZone(SH_MIDNIGHT)).toBe('2026-11-24'); // the default zone
    expect(dayInZone(SH_MIDNIGHT, 'UTC')).toBe('2026-11-23');
    expect(dayInZone(Date.parse('2026-03-29T00:30:00Z'), 'Europe/Berlin')).toBe('2026-03-29');
    expect(() => dayInZone(0, 'Mars/Olympus')).toThrow(RangeError);
  });

  it('counts whole days across month, year and leap-day ends', () => {
    expect(daysBetween('2026-11-24', '2026-11-25')).toBe(1);
    expect(daysBetween('2026-11-24', '2026-11-23')).toBe(-1);
    expect(daysBetween('2027-12-31', '2028-03-01')).toBe(61);
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
  });
});

describe('maintenanceFitness', () => {
  const at = (ms: number) => ({ now: ms, timeZone: 'Asia/Shanghai' });

  it('is fit with a passed bump test of today and every date ahead; nothing to remind of', () => {
    expect(maintenanceFitness(good(), at(SH_MIDNIGHT + 9 * H))).toEqual({
      fit: true,
      reasons: [],
      reminders: [],
      today: '2026-11-24',
    });
  });

  it("a bump test of yesterday evening no longer counts after the site's midnight", () => {
    const facts = good({ lastBumpTest: { at: SH_MIDNIGHT - 1, result: 'pass' } });
    expect(maintenanceFitness(facts, at(SH_MIDNIGHT - 1)).fit).toBe(true); // 23:59:59.999 the same day
    const next = maintenanceFitness(facts, at(SH_MIDNIGHT));
    expect(next).toMatchObject({ fit: false, reasons: ['bump_test_not_today'], today: '2026-11-24' });
    // Judged in UTC the same instants are one day (16:00 UTC): the zone decides.
    expect(maintenanceFitness(facts, { now: SH_MIDNIGHT, timeZone: 'UTC' }).fit).toBe(true);
  });

  it('a bump test passed at local midnight counts for the whole day', () => {
    const facts = good({ lastBumpTest: { at: SH_MIDNIGHT, result: 'pass' } });
    expect(maintenanceFitness(facts, at(SH_MIDNIGHT + 24 * H - 1)).fit).toBe(true);
    expect(maintenanceFitness(facts, at(SH_MIDNIGHT + 24 * H)).reasons).toEqual(['bump_test_not_today']);
  });

  it('a failed bump test locks it out, today and after; none at all too', () => {
    const failed = good({ lastBumpTest: { at: SH_MIDNIGHT + 8 * H, result: 'fail' } });
    expect(maintenanceFitness(failed, at(SH_MIDNIGHT + 9 * H)).reasons).toEqual(['bump_test_failed']);
    expect(maintenanceFitness(failed, at(SH_MIDNIGHT + 30 * H)).reasons).toEqual([
      'bump_test_failed',
      'bump_test_not_today',
    ]);
    expect(maintenanceFitness(good({ lastBumpTest: null }), at(SH_MIDNIGHT)).reasons).toEqual([
      'no_bump_test',
    ]);
  });

  it('the due day itself is still in date; the day after it is overdue', () => {
    const due = (nextDue: string) =>
      good({ lastCalibration: { at: Date.parse('2025-11-24T02:00:00Z'), result: 'pass', nextDue } });
    const onDueDay = maintenanceFitness(due('2026-11-24'), at(SH_MIDNIGHT + 9 * H));
    expect(onDueDay.fit).toBe(true);
    expect(onDueDay.reminders).toEqual([
      { item: 'calibration', due: '2026-11-24', daysLeft: 0, overdue: false },
    ]);
    const dayAfter = maintenanceFitness(due('2026-11-23'), at(SH_MIDNIGHT + 9 * H));
    expect(dayAfter).toMatchObject({ fit: false, reasons: ['calibration_overdue'] });
    expect(dayAfter.reminders).toEqual([
      { item: 'calibration', due: '2026-11-23', daysLeft: -1, overdue: true },
    ]);
    // 23:59 on the due day in Shanghai is still the due day (15:59 UTC the same date).
    expect(maintenanceFitness(due('2026-11-24'), at(SH_MIDNIGHT + 24 * H - 60_000)).reasons).toEqual([]);
  });

  it('reminds from remindDays ahead, soonest first, and not a day earlier', () => {
    const facts = good({
      lastCalibration: { at: 0, result: 'pass', nextDue: addDays('2026-11-24', 30) },
      sensorEndOfLife: addDays('2026-11-24', 12),
      alarmExpiresOn: addDays('2026-11-24', 31),
    });
    const f = maintenanceFitness(facts, at(SH_MIDNIGHT + 9 * H));
    expect(f.fit).toBe(true);
    expect(f.reminders.map((r) => [r.item, r.daysLeft])).toEqual([
      ['sensor_end_of_life', 12],
      ['calibration', 30],
    ]);
    const week = maintenanceFitness(facts, { ...at(SH_MIDNIGHT + 9 * H), remindDays: 7 });
    expect(week.reminders).toEqual([]);
  });

  it('gives every reason at once, in the listed order', () => {
    const f = maintenanceFitness(
      {
        lastBumpTest: { at: SH_MIDNIGHT - 48 * H, result: 'fail' },
        lastCalibration: { at: 0, result: 'fail', nextDue: null },
        sensorEndOfLife: '2026-11-01',
        alarmExpiresOn: '2026-11-23',
      },
      at(SH_MIDNIGHT + 9 * H),
    );
    expect(f.reasons).toEqual([
      'bump_test_failed',
      'bump_test_not_today',
      'calibration_failed',
      'sensor_end_of_life',
      'alarm_expired',
    ]);
    expect(f.reminders.map((r) => [r.item, r.overdue])).toEqual([
      ['sensor_end_of_life', true],
      ['alarm_expiry', true],
    ]);
    const never = maintenanceFitness({ ...good(), lastCalibration: null }, at(SH_MIDNIGHT + 9 * H));
    expect(never.reasons).toEqual(['no_calibration']);
  });
});

describe('what may be recorded', () => {
  it('refuses a pass while a gas failed, a gas twice, a pass without its next due day', () => {
    const bump = BumpTestInputSchema.safeParse({
      result: 'pass',
      method: 'manual',
      gases: [
        { gas: 'CO', result: 'pass', peak: 98 },
        { gas: 'H2S', result: 'fail', peak: 3 },
        { gas: 'CO', result: 'pass' },
      ],
    });
    expect(bump.success).toBe(false);
    expect(bump.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['gases.2.gas', 'CO twice'],
      ['result', 'cannot pass while H2S failed'],
    ]);
    expect(BumpTestInputSchema.safeParse({ result: 'fail', method: 'gateway' }).success).toBe(false);
    expect(
      BumpTestInputSchema.parse({
        result: 'fail',
        method: 'docking_station',
        gases: [{ gas: 'O2', result: 'pass' }],
      }),
    ).toMatchObject({ gases: [{ gas: 'O2', result: 'pass', peak: null }], note: '' });

    expect(CalibrationInputSchema.safeParse({ result: 'pass' }).error?.issues[0]?.path).toEqual(['nextDue']);
    expect(CalibrationInputSchema.safeParse({ result: 'fail', nextDue: '2027-01-01' }).success).toBe(false);
    expect(CalibrationInputSchema.safeParse({ result: 'pass', nextDue: '2027-02-30' }).success).toBe(false);
  });
});
