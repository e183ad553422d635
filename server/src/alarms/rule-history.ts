import type { Logger } from 'pino';
import type { StoredLookup } from '../bus.js';
import type { ReadingRow, Store } from '../store/types.js';

/** How far back the rule state is rebuilt from stored readings: the 8-h TWA window plus margin. */
export const DEFAULT_HISTORY_MS = 8 * 3_600_000 + 15 * 60_000;

function isRawRow(r: object): r is ReadingRow {
  return 'values' in r;
}

/**
 * Stored readings in time order as the rules should see them. After a gateway clock was set back
 * the store holds two timelines over the same span: the one from before the reset (its tail
 * stamped after the reset's first reading) and the one after. Walking the rows in seq order, a
 * reading stamped before its predecessor but after the earliest earlier-seq row marks such a reset
 * (the timelines overlap), and the earlier-seq rows stamped at or after it are left out, as the
 * live engine left them out when it rebuilt at that reading. Rows without a seq, and an earlier-seq
 * run lying wholly after a later-seq one (a gateway whose seq store was wiped starts again at 0),
 * are kept and ordered by time as before.
 */
export function currentTimeline(rows: readonly ReadingRow[]): ReadingRow[] {
  const bySeq = [...rows].sort((x, y) => (x.seq ?? -1) - (y.seq ?? -1) || x.ts - y.ts);
  let kept: ReadingRow[] = [];
  let minTs = Number.POSITIVE_INFINITY;
  let prev: ReadingRow | undefined;
  for (const row of bySeq) {
    if (
      prev?.seq !== undefined &&
      row.seq !== undefined &&
      row.seq > prev.seq &&
      row.ts < prev.ts &&
      minTs <= row.ts
    ) {
      const at = row.ts;
      kept = kept.filter((r) => r.ts < at);
    }
    kept.push(row);
    if (row.ts < minTs) minTs = row.ts;
    prev = row;
  }
  return kept.sort((x, y) => x.ts - y.ts);
}

/** The stored readings a device's rule state is rebuilt from. */
export interface RuleHistory {
  /**
   * The device's stored readings of the `historyMs` before `beforeTs`, as the rules should see
   * them (currentTimeline); none when the store cannot answer (logged: the rule state starts empty).
   * Taken from `lookup` (what ingest read for the device's first reading) when it spans that
   * window, so the store is not asked twice.
   */
  before(dev: string, beforeTs: number, lookup?: StoredLookup): Promise<ReadingRow[]>;
}

export function createRuleHistory(deps: {
  store: Pick<Store, 'queryReadings'>;
  historyMs: number;
  logger: Logger;
}): RuleHistory {
  const { store, historyMs, logger: log } = deps;
  return {
    async before(dev, beforeTs, lookup) {
      const from = beforeTs - historyMs;
      if (lookup !== undefined && lookup.from <= from && beforeTs <= lookup.to)
        return currentTimeline(lookup.rows.filter((r) => isRawRow(r) && r.ts >= from && r.ts < beforeTs));
      try {
        const got = await store.queryReadings({ dev, from, to: beforeTs });
        return currentTimeline(got.filter(isRawRow));
      } catch (err) {
        log.error({ err, dev }, 'could not load recent readings: rule state starts empty');
        return [];
      }
    },
  };
}
