import type { Kysely } from 'kysely';

/**
 * Alarms and their events, the first records to move out of the time-series store (issue 11).
 *
 * JSON goes in `text`, not PostgreSQL's `jsonb`: jsonb refuses `\u0000` inside strings and
 * reorders keys, and a detector's message or an operator's note must come back byte for byte.
 * Nothing queries inside the JSON; what lists filter on has its own column.
 *
 * Migrations take `Kysely<unknown>`: they must keep working after `Database` has moved on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('alarms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('gw', 'text', (c) => c.notNull())
    .addColumn('dev', 'text', (c) => c.notNull())
    .addColumn('site', 'text')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('raised_at', 'bigint', (c) => c.notNull())
    .addColumn('cleared_at', 'bigint')
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('alarm', 'text', (c) => c.notNull())
    .execute();
  // The console's "open alarms first" and a device's alarm list.
  await db.schema.createIndex('alarms_state_idx').on('alarms').column('state').execute();
  await db.schema.createIndex('alarms_dev_raised_idx').on('alarms').columns(['dev', 'raised_at']).execute();

  await db.schema
    .createTable('alarm_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('alarm_id', 'text', (c) => c.notNull().references('alarms.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    // A redelivered batch (the engine retries a write it could not confirm) lands once.
    .addUniqueConstraint('alarm_events_alarm_seq_key', ['alarm_id', 'seq'])
    .execute();
  // The rebuild at start reads every event in time order; `since` reads the tail.
  await db.schema
    .createIndex('alarm_events_ts_idx')
    .on('alarm_events')
    .columns(['ts', 'alarm_id', 'seq'])
    .execute();
}
