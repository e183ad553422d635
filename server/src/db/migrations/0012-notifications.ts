import type { Kysely } from 'kysely';

/**
 * Notifications (issue 15, SPEC §12): every message to every contact about every alarm, with
 * what became of it — queued, sent, delivered, answered or failed, and when — so the response
 * card shows who was told what, and the response-time report can measure raise → first sent →
 * delivered → acknowledged. One row per alarm and message: a grouped message (storm control)
 * has a row per alarm it tells of, all with the same `batch`. No foreign key to alarms: the
 * alarm's row is written by the event log's queue and may land after its first notification.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('alarm_id', 'text', (c) => c.notNull())
    .addColumn('episode', 'integer', (c) => c.notNull())
    .addColumn('step', 'integer', (c) => c.notNull())
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('relation', 'text')
    .addColumn('address', 'text')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('medium', 'text', (c) => c.notNull())
    .addColumn('lang', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('failover_of', 'text')
    .addColumn('fallback', 'text', (c) => c.notNull())
    .addColumn('batch', 'text')
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('queued_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .addColumn('delivered_at', 'bigint')
    .addColumn('answered_at', 'bigint')
    .addColumn('failed_at', 'bigint')
    .addColumn('provider_id', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('reply', 'text')
    .execute();
  // The response card's list, oldest first.
  await db.schema
    .createIndex('notifications_alarm_idx')
    .on('notifications')
    .columns(['alarm_id', 'queued_at', 'id'])
    .execute();
  // A delivery receipt names the provider's id.
  await db.schema
    .createIndex('notifications_provider_idx')
    .on('notifications')
    .columns(['channel', 'provider_id'])
    .execute();
  // An SMS reply names only the number it came from.
  await db.schema
    .createIndex('notifications_address_idx')
    .on('notifications')
    .columns(['address', 'queued_at'])
    .execute();
  await db.schema.createIndex('notifications_batch_idx').on('notifications').column('batch').execute();
}
