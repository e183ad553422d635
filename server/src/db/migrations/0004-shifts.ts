import type { Kysely } from 'kysely';

/**
 * Shift handovers of a duty room (issue 12, SPEC §13): one row per handover, written once by the
 * outgoing operator with the shift's report as it stood then, and once more when the incoming
 * operator confirms it. A shift runs from the previous handover of its area to this one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('shifts')
    // Sorts by handover time (db/page.ts timeOrderedId): the list's cursor.
    .addColumn('id', 'text', (c) => c.primaryKey())
    // The area of the operator who handed over; null: every area.
    .addColumn('area', 'text', (c) => c.references('areas.id'))
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint', (c) => c.notNull())
    .addColumn('handed_over_by', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    // The report at handover as JSON: what the outgoing operator saw, never recomputed.
    .addColumn('report', 'text', (c) => c.notNull())
    .addColumn('confirmed_by', 'text')
    .addColumn('confirmed_at', 'bigint')
    .addColumn('confirm_note', 'text')
    .execute();
  // The previous handover of an area (where the next shift starts), and shifts by time.
  await db.schema.createIndex('shifts_area_ended_idx').on('shifts').columns(['area', 'ended_at']).execute();
}
