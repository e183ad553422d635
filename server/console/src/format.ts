/** Detectors report float32 values (3.148647 %LEL); a person needs the sensor's resolution. */
export const fmtNum = (v: number): string => String(Number(v.toFixed(Math.abs(v) < 10 ? 2 : 1)));

/** A time of day, or a date and time when not today, in the page's language. */
export function fmtTime(ms: number, locale: string): string {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString(locale, { hour12: false })
    : d.toLocaleString(locale, { hour12: false });
}

/** The largest whole unit of a duration: [unit, count]. */
export function durationParts(ms: number): ['s' | 'm' | 'h' | 'd', number] {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return ['s', s];
  if (s < 3600) return ['m', Math.floor(s / 60)];
  if (s < 86400) return ['h', Math.floor(s / 3600)];
  return ['d', Math.floor(s / 86400)];
}

/** How a span of seconds reads (45 秒, 3 分 20 秒, 2 小时 5 分): a locale key and its numbers. */
export type SpanKey = 's' | 'ms' | 'm' | 'hm' | 'h' | 'dh' | 'd';
export function spanParts(seconds: number): { key: SpanKey; d: number; h: number; m: number; s: string } {
  // Under 10 s a tenth matters (an acknowledgement within 2.4 s); above, whole seconds.
  const total = seconds < 10 ? Math.round(Math.max(0, seconds) * 10) / 10 : Math.round(seconds);
  if (total < 60) return { key: 's', d: 0, h: 0, m: 0, s: String(total) };
  const whole = Math.floor(total);
  const d = Math.floor(whole / 86400);
  const h = Math.floor((whole % 86400) / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60);
  if (whole < 3600) return { key: s === '0' ? 'm' : 'ms', d, h, m, s };
  if (whole < 86400) return { key: m === 0 ? 'h' : 'hm', d, h, m, s };
  return { key: h === 0 ? 'd' : 'dh', d, h, m, s };
}

/** A time to the minute for lists of shifts: today's as 16:05, older with the date. */
export function fmtMinute(ms: number, locale: string): string {
  const d = new Date(ms);
  const opts: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hour12: false };
  if (new Date().toDateString() === d.toDateString()) return d.toLocaleTimeString(locale, opts);
  const year = new Date().getFullYear() === d.getFullYear() ? {} : { year: 'numeric' as const };
  return d.toLocaleString(locale, { ...year, month: 'numeric', day: 'numeric', ...opts });
}

/** Midnight (local) at the start of the day of `ms`, `days` days later. */
export function dayStart(ms: number, days = 0): Date {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() + days);
  return d;
}

/** A time's local day as a date input and the API write it: YYYY-MM-DD. */
export function localDay(ms: number = Date.now()): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** A time as a datetime-local input writes it, local and to the minute: YYYY-MM-DDTHH:MM. */
export function localDateTime(ms: number = Date.now()): string {
  const d = new Date(ms);
  return `${localDay(ms)}T${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
