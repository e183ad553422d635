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
 * The state keeps the held segments in small immutable chunks: a step copies at most the last
 * chunk and the chunk list (not the whole history), so an 8-h window at 1-s sampling stays cheap
 * and a step never changes anything an earlier state holds (states can be kept, compared, replayed).
 */

/** Triples per chunk. */
const CHUNK = 128;
const CHUNK_LEN = CHUNK * 3;

export interface WindowState {
  /** Window length, ms. */
  windowMs: number;
  /** Held segments as flattened [start, end, c] triples, in time order, in chunks of ≤ 128. */
  chunks: readonly (readonly number[])[];
  /** Index of the first live number in chunks[0] (segments before it have left the window). */
  head: number;
  /** ∫ c dt over the live segments, unit of c × ms. */
  integral: number;
  /** Time and value of the last sample, held until the next one. */
  lastTs: number | null;
  lastC: number | null;
}

export function createWindow(windowMs: number): WindowState {
  if (!(windowMs > 0) || !Number.isFinite(windowMs))
    throw new RangeError(`window must be > 0 ms, got ${windowMs}`);
  return { windowMs, chunks: [], head: 0, integral: 0, lastTs: null, lastC: null };
}

function sumLive(chunks: readonly (readonly number[])[], head: number): number {
  let s = 0;
  for (let k = 0; k < chunks.length; k++) {
    const ch = chunks[k]!;
    for (let i = k === 0 ? head : 0; i < ch.length; i += 3) s += (ch[i + 1]! - ch[i]!) * ch[i + 2]!;
  }
  return s;
}

/** Mean over the window ending at `ts` (which must be ≥ the state's last sample time). */
export function windowMean(state: WindowState, ts: number): number {
  const start = ts - state.windowMs;
  let integral = state.integral;
  // Only the oldest live segment can straddle the window start.
  const first = state.chunks[0];
  if (first !== undefined && state.head < first.length) {
    const s = first[state.head]!;
    const e = first[state.head + 1]!;
    if (s < start) integral -= (Math.min(e, start) - s) * first[state.head + 2]!;
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
  let { chunks, head, integral } = state;
  const { lastTs, lastC, windowMs } = state;
  if (lastTs !== null && lastC !== null && ts > lastTs && ts - lastTs <= maxGapMs && lastC !== 0) {
    const last = chunks[chunks.length - 1];
    if (last !== undefined && last.length < CHUNK_LEN) {
      chunks = [...chunks.slice(0, -1), [...last, lastTs, ts, lastC]];
    } else {
      chunks = [...chunks, [lastTs, ts, lastC]];
    }
    integral += (ts - lastTs) * lastC;
  }
  const start = ts - windowMs;
  let dropped = false;
  for (;;) {
    const first = chunks[0];
    if (first === undefined) break;
    if (head >= first.length) {
      chunks = chunks.slice(1);
      head = 0;
      dropped = true;
      continue;
    }
    if (first[head + 1]! > start) break;
    integral -= (first[head + 1]! - first[head]!) * first[head + 2]!;
    head += 3;
  }
  // Re-sum when a chunk leaves, so rounding from adding and removing never accumulates.
  if (dropped) integral = sumLive(chunks, head);
  if (chunks.length === 0) integral = 0;
  const next: WindowState = { windowMs, chunks, head, integral, lastTs: ts, lastC: c };
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
