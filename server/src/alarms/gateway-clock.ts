import type { ReadingAccepted } from '../bus.js';

/**
 * How a reading tells that its gateway's clock moved under the device's rules. Both call for the
 * rule state to be rebuilt from stored readings before the reading is evaluated.
 */

/** Rule state this far ahead of the server clock, when a live reading arrives, is a clock error. */
const CLOCK_JUMP_MS = 60_000;

/**
 * The gateway clock went back: this reading is stamped before the last one the rules saw, yet
 * its seq (per device, +1 per reading, persisted by the gateway) comes after every seq seen. A
 * resend (lost PUBACK, outbox replay) always carries an older seq, so this is a new reading
 * under a clock that was set back, wherever its time falls (inside or beyond the replay window).
 */
export function clockReset(rules: { lastTs: number; maxSeq: number }, r: ReadingAccepted): boolean {
  return r.ts <= rules.lastTs && rules.maxSeq >= 0 && r.reading.seq > rules.maxSeq;
}

/**
 * The rules ran ahead on readings stamped in the future (a gateway clock that was wrong and got
 * corrected; `lastTs` is the last sample they saw) and this reading is back on real time.
 */
export function clockJumped(lastTs: number, r: ReadingAccepted): boolean {
  return (
    r.ts <= lastTs &&
    !r.late &&
    !r.clockSuspect &&
    lastTs > r.receivedAt + CLOCK_JUMP_MS &&
    // This reading is on real time (a resend from a clock that is still ahead is not a correction).
    r.ts <= r.receivedAt + CLOCK_JUMP_MS
  );
}
