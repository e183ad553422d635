import type { ZoneClock } from '../zone.js';
import type { TimeWindow } from './response-times.js';

/**
 * The calendar of the weekly ledger (SPEC §10): days are local days of TIME_ZONE written
 * YYYY-MM-DD, as offices write them, and a ledger week is 7 of them starting on the configured
 * weekday. Day arithmetic is done on the date alone (UTC fields), never on a time, so a zone's
 * daylight-saving change cannot make a day 23 or 25 hours long here.
 */

/** A ledger week: its first and its last local day (both inclusive: "12-04 至 12-10"). */
export interface LedgerWeek {
  start: string;
  end: string;
}

const DAY_MS = 86_400_000;

function utcOf(day: string): number {
  const [y, m, d] = day.split('-').map(Number);
  return Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1);
}

const dayOf = (utc: number): string => new Date(utc).toISOString().slice(0, 10);

export const addDays = (day: string, n: number): string => dayOf(utcOf(day) + n * DAY_MS);

/** ISO weekday of a day: 1 Monday … 7 Sunday. */
export function isoWeekday(day: string): number {
  const js = new Date(utcOf(day)).getUTCDay();
  return js === 0 ? 7 : js;
}

/** The latest day on or before `day` that is `weekday` (ISO). */
export function weekdayOnOrBefore(day: string, weekday: number): string {
  return addDays(day, -((isoWeekday(day) - weekday + 7) % 7));
}

/**
 * When the local wall clock of `zone` reads `hhmm` on `day`, ms since epoch. A time a
 * daylight-saving change skips comes out an hour later, one it repeats the first time.
 */
export function localTime(zone: ZoneClock, day: string, hhmm = '00:00'): number {
  const [h, m] = hhmm.split(':').map(Number);
  const wall = utcOf(day) + ((h ?? 0) * 60 + (m ?? 0)) * 60_000;
  const guess = wall - zone.offsetMs(wall);
  return wall - zone.offsetMs(guess);
}

/** The ledger week (starting on `weekday`) that `day` lies in. */
export function weekContaining(day: string, weekday: number): LedgerWeek {
  const start = weekdayOnOrBefore(day, weekday);
  return { start, end: addDays(start, 6) };
}

/**
 * The last week that has ended by `today`: the one ending the day before the latest `weekday`
 * on or before today (on a Friday, with Friday weeks: last Friday to yesterday).
 */
export function lastCompleteWeek(today: string, weekday: number): LedgerWeek {
  const next = weekdayOnOrBefore(today, weekday);
  return { start: addDays(next, -7), end: addDays(next, -1) };
}

/** The week as wall-clock time: its first day's local midnight to the midnight after its last. */
export function weekWindow(zone: ZoneClock, week: LedgerWeek): TimeWindow {
  return { from: localTime(zone, week.start), to: localTime(zone, addDays(week.end, 1)) };
}

/**
 * The latest scheduled run at or before `now` (`weekday` at `time`, local) and the week it
 * makes the ledger of: the week that ended at the midnight before the run.
 */
export function dueRun(
  zone: ZoneClock,
  now: number,
  schedule: { weekday: number; time: string },
): { at: number; week: LedgerWeek } {
  let day = weekdayOnOrBefore(zone.day(now), schedule.weekday);
  let at = localTime(zone, day, schedule.time);
  if (at > now) {
    day = addDays(day, -7);
    at = localTime(zone, day, schedule.time);
  }
  return { at, week: { start: addDays(day, -7), end: addDays(day, -1) } };
}

/** An ISO 8601 week as written: `2026-W48`. */
export const ISO_WEEK = /^(\d{4})-W(\d{2})$/;

/** The ISO week a local day lies in (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeekOf(day: string): string {
  const thursday = addDays(day, 4 - isoWeekday(day));
  const year = thursday.slice(0, 4);
  const n = Math.floor((utcOf(thursday) - utcOf(`${year}-01-01`)) / DAY_MS / 7) + 1;
  return `${year}-W${String(n).padStart(2, '0')}`;
}

/** The Monday of an ISO week, or null when there is no such week (W53 of a 52-week year, W00). */
export function isoWeekStart(week: string): string | null {
  const m = ISO_WEEK.exec(week);
  if (m === null) return null;
  const n = Number(m[2]);
  // Week 1 is the week of 4 January.
  const monday = addDays(weekdayOnOrBefore(`${m[1]}-01-04`, 1), (n - 1) * 7);
  return n >= 1 && isoWeekOf(monday) === week ? monday : null;
}
