// A device's de-duplication window (the sampling times it has seen lately) packed into a string,
// the gaps between the times as UTF-16 code units: issue 18. As a JS array of doubles it was
// ~180 bytes a device reporting once a minute (15 times, 8 bytes each, and the array's own
// ~50); as text ~48: a gap of less than 65 535 ms is one code unit (2 bytes), a longer one
// three. The window spans at most DEDUP_SPAN_MS (15 min), so no gap is longer than 2³² ms. A
// JS string may hold any code unit (lone surrogates too): it is never shown, sent or stored.
// Exact: a time is reported seen only if it was put in (a reading is never dropped on a guess).

/** A code unit that says the gap follows in the next two (high 16 bits, low 16 bits). */
const LONG = 0xffff;

/**
 * The times of a window, ascending: `newest` (NaN: empty) and the gaps text, oldest first (each
 * gap is from the time before it to the next).
 */
export function decodeWindow(newest: number, gaps: string): number[] {
  if (Number.isNaN(newest)) return [];
  const deltas: number[] = [];
  for (let i = 0; i < gaps.length; i++) {
    const c = gaps.charCodeAt(i);
    if (c !== LONG) deltas.push(c);
    else {
      deltas.push(gaps.charCodeAt(i + 1) * 0x10000 + gaps.charCodeAt(i + 2));
      i += 2;
    }
  }
  const out = new Array<number>(deltas.length + 1);
  let t = newest;
  out[deltas.length] = t;
  for (let k = deltas.length - 1; k >= 0; k--) {
    t -= deltas[k] as number;
    out[k] = t;
  }
  return out;
}

/** The gaps text of ascending integer times less than 2³² ms apart (decodeWindow's inverse). */
export function encodeWindow(times: readonly number[]): string {
  const codes: number[] = [];
  for (let k = 1; k < times.length; k++) {
    const d = (times[k] as number) - (times[k - 1] as number);
    if (d < LONG) codes.push(d);
    else codes.push(LONG, Math.floor(d / 0x10000), d % 0x10000);
  }
  // In pieces: an argument list has a limit (a window holds at most DEDUP_WINDOW times anyway).
  let text = '';
  for (let i = 0; i < codes.length; i += 4096) text += String.fromCharCode(...codes.slice(i, i + 4096));
  return text;
}

/** Whether `ts` is in the window (newest and gaps as decodeWindow takes them). */
export function windowHas(newest: number, gaps: string, ts: number): boolean {
  // The common question, a reading newer than any seen, is answered without reading the gaps;
  // the others (a resend, a late reading) are rare enough to decode the window for.
  if (Number.isNaN(newest) || ts > newest) return false;
  return ts === newest || decodeWindow(newest, gaps).includes(ts);
}
