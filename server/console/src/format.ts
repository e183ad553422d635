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
