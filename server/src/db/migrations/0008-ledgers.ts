import type { Kysely } from 'kysely';

/**
 * Weekly ledgers of the CO-prevention campaign (issue 13, SPEC §10): one row per ledger made, by
 * the schedule or on request, with its numbers as JSON (reports/ledger-schema.ts). The XLSX and
 * PDF are rendered from the numbers when downloaded, not stored: the numbers are the record (a
 * few kB where the files would be hundreds, in two languages each), and a document is always the
 * same numbers in the current layout and font.
 *
 * `schedule_key` is the lock of the scheduled run: `<area>/<week start>` for a ledger the schedule
 * made, null for one made on request. It is unique, so when several servers share the database
 * only the first one's ledger of a week is written (NULLs never collide: ledgers made on request
 * are as many as asked for).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ledgers')
    // Sorts by the time it was made (db/page.ts timeOrderedId): the list's order and cursor.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('area', 'text', (c) => c.notNull().references('areas.id'))
    // The week's first and last local day, YYYY-MM-DD.
    .addColumn('week_start', 'text', (c) => c.notNull())
    .addColumn('week_end', 'text', (c) => c.notNull())
    .addColumn('generated_at', 'bigint', (c) => c.notNull())
    .addColumn('generated_by', 'text', (c) => c.notNull())
    .addColumn('schedule_key', 'text', (c) => c.unique())
    .addColumn('numbers', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ledgers_area_idx').on('ledgers').columns(['area', 'id']).execute();
}
