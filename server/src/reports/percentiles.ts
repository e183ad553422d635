/**
 * Percentiles by the nearest-rank method: the p-th percentile of n values is the value at rank
 * ⌈p/100 × n⌉ (1-based) of the sorted values. It is always a value that was observed (no
 * interpolation), so "p90 time to acknowledge: 95 s" means someone did take 95 s, and a reviewer
 * can check it by hand from the list; the weekly ledger (SPEC §10) uses the same.
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new RangeError(`a percentile lies in (0, 100], got ${p}`);
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1] ?? null;
}

/** Count, p50 and p90 of durations in ms, as seconds (null when there are none). */
export interface DurationFigures {
  count: number;
  p50: number | null;
  p90: number | null;
}

export function durationFigures(durationsMs: readonly number[]): DurationFigures {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const s = (ms: number | null) => (ms === null ? null : ms / 1000);
  return { count: sorted.length, p50: s(percentile(sorted, 50)), p90: s(percentile(sorted, 90)) };
}
