import type { GasId } from '@gaswatch/shared';
import type { AggregateRow, ReadingRow } from './types.js';

/**
 * Buckets raw rows (ascending ts) into `everyMs` windows starting at `origin` (the query's `from`):
 * mean, min, max, count per gas.
 */
export function aggregate(rows: readonly ReadingRow[], everyMs: number, origin = 0): AggregateRow[] {
  const buckets = new Map<string, AggregateRow & { sum: number }>();
  for (const row of rows) {
    const ts = origin + Math.floor((row.ts - origin) / everyMs) * everyMs;
    for (const [gas, value] of Object.entries(row.values) as [GasId, number][]) {
      const key = `${ts}|${gas}`;
      const b = buckets.get(key);
      if (!b) {
        buckets.set(key, { ts, gas, mean: value, min: value, max: value, count: 1, sum: value });
      } else {
        b.sum += value;
        b.count++;
        if (value < b.min) b.min = value;
        if (value > b.max) b.max = value;
      }
    }
  }
  return [...buckets.values()]
    .map(({ sum, ...b }) => ({ ...b, mean: sum / b.count }))
    .sort((a, b) => a.ts - b.ts || a.gas.localeCompare(b.gas));
}
