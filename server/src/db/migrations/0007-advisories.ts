import type { Kysely } from 'kysely';

/**
 * CO weather advisories (issue 13, SPEC §10): the grade a meteorological service published for an
 * area and a day, and its words, as the duty room entered them (or a configured URL supplied them).
 * gaswatch never computes a grade. Whom an advisory was sent to is added when notifications exist.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('advisories')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('area', 'text', (c) => c.notNull().references('areas.id'))
    // The local day it is for, YYYY-MM-DD.
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('grade', 'integer', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('entered_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('advisories_day_area_idx').on('advisories').columns(['day', 'area']).execute();
}
