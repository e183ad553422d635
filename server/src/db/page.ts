import type { SelectQueryBuilder } from 'kysely';

/** One page of a list: its rows, how many match in all, and the cursor of the next page. */
export interface Page<R> {
  rows: R[];
  total: number;
  /** The key of the page's last row; null on the last page. */
  nextCursor: string | null;
}

/**
 * A page of `base` (a query already filtered) ordered by `key`, a unique text column: the rows
 * after `cursor`, at most `limit`, and the total of the whole list (SPEC §5: every list is paged
 * with a cursor and says its total). The key is a column name the caller knows its table has;
 * Kysely cannot check a name passed as a value, hence the casts, kept here in one place.
 */
export async function pageByKey<R extends Record<K, string>, K extends string, DB, TB extends keyof DB>(
  base: SelectQueryBuilder<DB, TB, object>,
  key: K,
  q: { limit: number; cursor?: string | undefined },
): Promise<Page<R>> {
  const { total } = (await base
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .executeTakeFirstOrThrow()) as { total: number | string };
  let page = base
    .selectAll()
    .orderBy(key as never)
    .limit(q.limit + 1);
  if (q.cursor !== undefined) page = page.where(key as never, '>', q.cursor as never);
  const rows = (await page.execute()) as unknown as R[];
  const shown = rows.slice(0, q.limit);
  return {
    rows: shown,
    total: Number(total),
    nextCursor: rows.length > q.limit ? (shown.at(-1)?.[key] ?? null) : null,
  };
}
