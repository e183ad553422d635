import type { Kysely } from 'kysely';

/**
 * The CO-prevention campaign's household registry (issue 13, SPEC §10): households and the
 * detectors installed in them. Lists filter and sort on columns (area, address, the vulnerable
 * flag); what only the household card shows (flags, heating, contacts) is JSON in text.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('households')
    // The office's own household number: stable across imports, so a re-import updates.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('area', 'text', (c) => c.notNull().references('areas.id'))
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('lat', 'double precision')
    .addColumn('lon', 'double precision')
    .addColumn('dwelling', 'text')
    .addColumn('occupant_count', 'integer', (c) => c.notNull())
    .addColumn('occupant_flags', 'text', (c) => c.notNull())
    // 1 when an occupant flag makes the household vulnerable: the list's filter and the board's order.
    .addColumn('vulnerable', 'integer', (c) => c.notNull())
    .addColumn('heating', 'text', (c) => c.notNull())
    .addColumn('contacts', 'text', (c) => c.notNull())
    .addColumn('notes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('households_area_idx').on('households').columns(['area', 'id']).execute();

  await db.schema
    .createTable('household_detectors')
    // A detector is in one home at a time.
    .addColumn('device', 'text', (c) => c.primaryKey())
    .addColumn('household_id', 'text', (c) => c.notNull().references('households.id'))
    .addColumn('location', 'text', (c) => c.notNull())
    .addColumn('installed_on', 'text')
    .addColumn('expires_on', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('household_detectors_household_idx')
    .on('household_detectors')
    .column('household_id')
    .execute();
}
