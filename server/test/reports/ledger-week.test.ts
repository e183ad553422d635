import { describe, expect, it } from 'vitest';
import {
  addDays,
  dueRun,
  isoWeekday,
  lastCompleteWeek,
  localTime,
  weekContaining,
  weekWindow,
} from '../../src/reports/ledger-week.js';
import { ZoneClock } from '../../src/zone.js';

/** The ledger's calendar: local days, weeks from the configured weekday, the scheduled run. */
const beijing = new ZoneClock('Asia/Shanghai');
const FRIDAY = 5;

describe('ledger weeks', () => {
  it('count days by the date alone, across months and years', () => {
    expect(addDays('2026-12-28', 7)).toBe('2027-01-04');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(['2026-12-07', '2026-12-11', '2026-12-13'].map(isoWeekday)).toEqual([1, 5, 7]);
  });

  it('start on the configured weekday; the last complete week ends the day before it', () => {
    expect(weekContaining('2026-12-08', FRIDAY)).toEqual({ start: '2026-12-04', end: '2026-12-10' });
    expect(weekContaining('2026-12-04', FRIDAY)).toEqual({ start: '2026-12-04', end: '2026-12-10' });
    // On the Friday itself, the week just ended; on Wednesday, still that one.
    expect(lastCompleteWeek('2026-12-11', FRIDAY)).toEqual({ start: '2026-12-04', end: '2026-12-10' });
    expect(lastCompleteWeek('2026-12-16', FRIDAY)).toEqual({ start: '2026-12-04', end: '2026-12-10' });
    expect(weekContaining('2026-12-08', 1)).toEqual({ start: '2026-12-07', end: '2026-12-13' });
  });

  it('are local days as wall-clock time: Beijing midnight is 16:00 UTC the day before', () => {
    expect(weekWindow(beijing, { start: '2026-12-04', end: '2026-12-10' })).toEqual({
      from: Date.parse('2026-12-03T16:00:00Z'),
      to: Date.parse('2026-12-10T16:00:00Z'),
    });
  });

  it('keep their local midnight across a daylight-saving change (a 167-hour week)', () => {
    const berlin = new ZoneClock('Europe/Berlin');
    // Summer time ends on Sunday 25 October 2026: that week has an hour more.
    const w = weekWindow(berlin, { start: '2026-10-23', end: '2026-10-29' });
    expect([new Date(w.from).toISOString(), new Date(w.to).toISOString()]).toEqual([
      '2026-10-22T22:00:00.000Z',
      '2026-10-29T23:00:00.000Z',
    ]);
    // 02:30 on 29 March 2026 does not exist in Berlin: an hour later.
    expect(new Date(localTime(berlin, '2026-03-29', '02:30')).toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });
});

describe('the scheduled run', () => {
  const schedule = { weekday: FRIDAY, time: '16:00' };
  it('is due from Friday 16:00 local, for the week that ended at midnight', () => {
    const run = Date.parse('2026-12-11T16:00:00+08:00');
    expect(dueRun(beijing, run, schedule)).toEqual({
      at: run,
      week: { start: '2026-12-04', end: '2026-12-10' },
    });
    // A minute before, the due run is last Friday's.
    expect(dueRun(beijing, run - 60_000, schedule)).toEqual({
      at: run - 7 * 86_400_000,
      week: { start: '2026-11-27', end: '2026-12-03' },
    });
    // Days later (the server was down), still this Friday's: made at the next start.
    expect(dueRun(beijing, Date.parse('2026-12-15T09:00:00+08:00'), schedule).at).toBe(run);
  });
});
