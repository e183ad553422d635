import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Home visits of the CO-prevention campaign (issue 13, SPEC §10): one row per inspection with its
 * checklist as JSON (the card shows it whole; the ledger counts hazards by item from it), and
 * what lists filter on as columns: the area (copied from the household when the visit is
 * recorded, so a township's list needs no join and a household moved later keeps its visits where
 * they were made), the day, and the rectification's deadline and outcome (the overdue list).
 *
 * Photos are bytes in SQL (`blob` on SQLite, `bytea` on PostgreSQL), not files under DATA_DIR:
 * several servers may share one PostgreSQL but each has its own DATA_DIR, so a file would be on
 * one host only; in SQL a photo is in the same backup as its inspection, written in the same
 * transaction as its audit row, and cannot be left behind without one. The cost is bounded:
 * at most 2 MB each (the console shrinks a phone's photo first), 5 per item, 20 per inspection.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('inspections')
    // Sorts by the time it was recorded (db/page.ts timeOrderedId): ties of one day in lists.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('household_id', 'text', (c) => c.notNull().references('households.id'))
    .addColumn('area', 'text', (c) => c.notNull().references('areas.id'))
    // YYYY-MM-DD, as offices write it: text sorts as days do.
    .addColumn('date', 'text', (c) => c.notNull())
    .addColumn('inspectors', 'text', (c) => c.notNull())
    .addColumn('items', 'text', (c) => c.notNull())
    .addColumn('found_count', 'integer', (c) => c.notNull())
    // All three null when nothing was found.
    .addColumn('rectify_deadline', 'text')
    .addColumn('rectify_outcome', 'text')
    .addColumn('rectified_on', 'text')
    .addColumn('rectify_note', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // A township's visits by day (its villages are an `in` over this), and one household's.
  await db.schema
    .createIndex('inspections_area_date_idx')
    .on('inspections')
    .columns(['area', 'date', 'id'])
    .execute();
  await db.schema
    .createIndex('inspections_household_date_idx')
    .on('inspections')
    .columns(['household_id', 'date', 'id'])
    .execute();
  // The overdue list: pending rectifications by deadline. Partial, so it holds only what is open.
  await db.schema
    .createIndex('inspections_pending_deadline_idx')
    .on('inspections')
    .columns(['rectify_deadline', 'id'])
    .where(sql.ref('rectify_outcome'), '=', sql.lit('pending'))
    .execute();

  const binary = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  await db.schema
    .createTable('inspection_photos')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('inspection_id', 'text', (c) => c.notNull().references('inspections.id'))
    .addColumn('item', 'text', (c) => c.notNull())
    // Told by the bytes' signature at upload, never taken from the request.
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('bytes', binary, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('inspection_photos_inspection_idx')
    .on('inspection_photos')
    .columns(['inspection_id', 'id'])
    .execute();
}
