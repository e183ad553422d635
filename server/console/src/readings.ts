/** The ranges a device page's chart offers, longest 30 days (SPEC §13: readings 1 h–30 days). */
export const RANGES = [
  { id: '1h', ms: 3_600_000 },
  { id: '6h', ms: 6 * 3_600_000 },
  { id: '24h', ms: 24 * 3_600_000 },
  { id: '7d', ms: 7 * 86_400_000 },
  { id: '30d', ms: 30 * 86_400_000 },
] as const;
export type RangeId = (typeof RANGES)[number]['id'];

/** Most points one chart holds: more than a phone or a desk is wide, few enough to draw at once. */
export const MAX_POINTS = 1500;

/** Bucket lengths a person reads at a glance ("every 15 s"), shortest first, as /api/readings writes them. */
const STEPS: readonly [every: string, ms: number][] = [
  ['1s', 1_000],
  ['2s', 2_000],
  ['3s', 3_000],
  ['5s', 5_000],
  ['10s', 10_000],
  ['15s', 15_000],
  ['30s', 30_000],
  ['1m', 60_000],
  ['2m', 120_000],
  ['5m', 300_000],
  ['10m', 600_000],
  ['15m', 900_000],
  ['30m', 1_800_000],
  ['1h', 3_600_000],
  ['2h', 7_200_000],
  ['6h', 21_600_000],
  ['1d', 86_400_000],
];

/** The shortest round bucket that puts `rangeMs` into at most `maxPoints` points. */
export function everyFor(rangeMs: number, maxPoints = MAX_POINTS): { every: string; everyMs: number } {
  const step = STEPS.find(([, ms]) => rangeMs / ms <= maxPoints) ?? (STEPS.at(-1) as [string, number]);
  return { every: step[0], everyMs: step[1] };
}

/** One point of a gas's chart: a bucket's start (ms) and its mean, lowest and highest value. */
export interface ChartPoint {
  ts: number;
  mean: number;
  min: number;
  max: number;
  count: number;
}

/** A horizontal line on a chart: a set point, its words, its colour, dashed when not a single reading's level. */
export interface ChartLine {
  value: number;
  label: string;
  color: string;
  dashed: boolean;
}

/** A reading added to a gas's buckets (live): into the bucket it falls in, or a new one after. */
export function addToBuckets(
  points: ChartPoint[],
  origin: number,
  everyMs: number,
  ts: number,
  v: number,
): void {
  const start = origin + Math.floor((ts - origin) / everyMs) * everyMs;
  const last = points.at(-1);
  if (last !== undefined && last.ts === start) {
    last.mean = (last.mean * last.count + v) / (last.count + 1);
    last.count++;
    if (v < last.min) last.min = v;
    if (v > last.max) last.max = v;
  } else if (last === undefined || last.ts < start) {
    points.push({ ts: start, mean: v, min: v, max: v, count: 1 });
  }
  // Older than the last bucket: a late reading; the chart shows it when next loaded.
}
