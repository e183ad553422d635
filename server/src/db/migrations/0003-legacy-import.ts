import type { Kysely } from 'kysely';

/**
 * One row per kind of record imported from before its move to SQL (the alarm events of the
 * time-series store first, issue 11): written when its import finished, so a start that finds
 * it does not import again, and one that does not (never run, or interrupted) imports it all.
 * Counts are what that run stored, repaired and skipped, for whoever looks later.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('legacy_imports')
    .addColumn('source', 'text', (c) => c.primaryKey())
    .addColumn('imported_at', 'bigint', (c) => c.notNull())
    .addColumn('events', 'bigint', (c) => c.notNull())
    .addColumn('repaired', 'bigint', (c) => c.notNull())
    .addColumn('skipped', 'bigint', (c) => c.notNull())
    .execute();
}
