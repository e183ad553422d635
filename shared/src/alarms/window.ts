/**
 * Sliding time-window mean on event time (STEL: 15 min, TWA: 8 h), for irregular samples.
 *
 * Between samples the concentration is held at the earlier sample's value (zero-order hold), so
 * the mean over the window ending at t is
 *   mean(t) = (1/W) · ∫[t−W, t] c(u) du = (1/W) · Σ cᵢ · |[tᵢ, tᵢ₊₁) ∩ [t−W, t)|
 * Time inside the window without data (before the first sample, or across a gap longer than
 * `maxGapMs`) contributes nothing: the divisor is always W, as in the occupational definitions
 * (an 8-h TWA divides the day's exposure by 8 h, a STEL by 15 min).
 *
 * The state is a segment list shared between successive states (append-only, each state sees only
 * its own [head, len) range), so a step is amortised O(1) and never changes what an earlier state
 * holds. Stepping an old state again copies the list.
 */

export interface WindowState {
  /** Window length, ms. */
  windowMs: number;
  /** Flattened [start, end, c] triples; only [head, len) belongs to this state. */
  segs: number[];
  head: number;
  len: number;
  /** ∫ c dt over the segments in [head, len), ppm·ms (or the unit of c · ms). */
  integral: number;
  /** Time and value of the last sample, held until the next one. */
  lastTs: number | null;
  lastC: number | null;
}

export function createWindow(windowMs: number): WindowState {
  if (!(windowMs > 0) || !Number.isFinite(windowMs))
    throw new RangeError(`window must be > 0 ms, got ${windowMs}`);
  return { windowMs, segs: [], head: 0, len: 0, integral: 0, lastTs: null, lastC: null };
}

const COMPACT_MIN = 3 * 1024;

function sumSegs(segs: number[], head: number, len: number): number {
  let s = 0;
  for (let i = head; i < len; i += 3) s += (segs[i + 1]! - segs[i]!) * segs[i + 2]!;
  return s;
}

/** Mean over the window ending at `ts` (which must be ≥ the state's last sample time). */
export function windowMean(state: WindowState, ts: number): number {
  const start = ts - state.windowMs;
  let integral = state.integral;
  const { segs } = state;
  for (let i = state.head; i < state.len; i += 3) {
    const s = segs[i]!;
    const e = segs[i + 1]!;
    if (s >= start) break;
    integral -= (Math.min(e, start) - s) * segs[i + 2]!;
  }
  // The held value of the last sample counts up to ts.
  if (state.lastTs !== null && state.lastC !== null && ts > state.lastTs) {
    integral += (ts - Math.max(state.lastTs, start)) * state.lastC;
  }
  return Math.max(0, integral) / state.windowMs;
}

/**
 * Add a sample at `ts` with concentration `c`: the previous sample's value is held over
 * [lastTs, ts) unless that interval is longer than `maxGapMs`. Returns the new state and the mean
 * over [ts − W, ts].
 */
export function windowStep(
  state: WindowState,
  ts: number,
  c: number,
  maxGapMs = Number.POSITIVE_INFINITY,
): { state: WindowState; mean: number } {
  let { segs, head, len, integral } = state;
  const { lastTs, lastC, windowMs } = state;
  if (lastTs !== null && lastC !== null && ts > lastTs && ts - lastTs <= maxGapMs && lastC !== 0) {
    if (segs.length !== len) {
      // Someone already extended this list from the same state: branch off with a copy.
      segs = segs.slice(head, len);
      len -= head;
      head = 0;
    }
    segs.push(lastTs, ts, lastC);
    len += 3;
    integral += (ts - lastTs) * lastC;
  }
  const start = ts - windowMs;
  while (head < len && segs[head + 1]! <= start) {
    integral -= (segs[head + 1]! - segs[head]!) * segs[head + 2]!;
    head += 3;
  }
  if (head >= COMPACT_MIN && head * 2 >= len) {
    segs = segs.slice(head, len);
    len -= head;
    head = 0;
    integral = sumSegs(segs, head, len);
  }
  if (head === len) integral = 0;
  const next: WindowState = { windowMs, segs, head, len, integral, lastTs: ts, lastC: c };
  return { state: next, mean: windowMean(next, ts) };
}

/**
 * Reference implementation for checks and docs: the zero-order-hold mean of `points` (sorted by
 * ts) over [toTs − windowMs, toTs], with the same gap rule as windowStep. O(n).
 */
export function timeWeightedMean(
  points: readonly { ts: number; c: number }[],
  toTs: number,
  windowMs: number,
  maxGapMs = Number.POSITIVE_INFINITY,
): number {
  const from = toTs - windowMs;
  let integral = 0;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (p.ts >= toTs) break;
    const end = Math.min(points[i + 1]?.ts ?? toTs, toTs);
    if (end - p.ts > maxGapMs) continue;
    const s = Math.max(p.ts, from);
    if (end > s) integral += (end - s) * p.c;
  }
  return integral / windowMs;
}
