import { randomBytes } from 'node:crypto';
import type { SelectQueryBuilder } from 'kysely';

/**
 * An id that sorts by time, then by a random tail: the time in ms as 11 base-36 digits (good to
 * the year 5188) and 8 random bytes. Two ids of one ms sort arbitrarily but stably. Lists of
 * records made one after another (the audit log, shifts) page newest first by it.
 */
export function timeOrderedId(ts: number): string {
  return `${ts.toString(36).padStart(11, '0')}-${randomBytes(8).toString('hex')}`;
}

/** One page of a list: its rows, how many match in all, and the cursor of the next page. */
export interface Page<R> {
  rows: R[];
  total: number;
  /** The key of the page's last row; null on the last page. */
  nextCursor: string | null;
}

/**
 * A page of `base` (a query already filtered) ordered by `key`, a unique text column, ascending
 * unless `q.order` says `desc`: the rows after `cursor` in that order, at most `limit`, and the
 * total of the whole list (SPEC §5: every list is paged with a cursor and says its total). The
 * key is a column name the caller knows its table has; Kysely cannot check a name passed as a
 * value, hence the casts, kept here in one place.
 */
export async function pageByKey<R extends Record<K, string>, K extends string, DB, TB extends keyof DB>(
  base: SelectQueryBuilder<DB, TB, object>,
  key: K,
  q: { limit: number; cursor?: string | undefined; order?: 'asc' | 'desc' },
): Promise<Page<R>> {
  const order = q.order ?? 'asc';
  const { total } = (await base
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .executeTakeFirstOrThrow()) as { total: number | string };
  let page = base
    .selectAll()
    .orderBy(key as never, order)
    .limit(q.limit + 1);
  if (q.cursor !== undefined) page = page.where(key as never, order === 'asc' ? '>' : '<', q.cursor as never);
  const rows = (await page.execute()) as unknown as R[];
  const shown = rows.slice(0, q.limit);
  return {
    rows: shown,
    total: Number(total),
    nextCursor: rows.length > q.limit ? (shown.at(-1)?.[key] ?? null) : null,
  };
}

/** Values for a SQL `in`: never an empty list (which SQL refuses), one that matches nothing instead. */
export const inList = (ids: readonly string[]): string[] => (ids.length > 0 ? [...ids] : ['']);
