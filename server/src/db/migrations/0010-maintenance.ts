import type { Kysely } from 'kysely';

/**
 * Detector maintenance (issue 14, SPEC §11): every bump test and every calibration as a row of
 * its own (append-only: a record of a test is never edited, a wrong one is followed by a right
 * one), and one row per maintained device with the dates kept for it and its latest bump test and
 * calibration copied in, written in the same transaction as the test that made them the latest.
 * That row is what fitness, the device page and the due list read: one row per device, where the
 * records would need a "latest per device" query over every test ever made.
 *
 * A household alarm's expiry is not here: the household registry keeps it
 * (household_detectors.expires_on), and maintenance reads it from there.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('bump_tests')
    // Recorded by hand: sorts by the time it was recorded (db/page.ts timeOrderedId). From a
    // gateway: `gw-<time>-<device>`, so the same event delivered twice is stored once.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('device', 'text', (c) => c.notNull())
    // When the test was done (ms): a test recorded late sorts where it happened.
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    // JSON array of {gas, result, peak}.
    .addColumn('gases', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('done_by', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('bump_tests_device_at_idx')
    .on('bump_tests')
    .columns(['device', 'at', 'id'])
    .execute();

  await db.schema
    .createTable('calibrations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('device', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    // YYYY-MM-DD; null after a failed calibration.
    .addColumn('next_due', 'text')
    .addColumn('done_by', 'text', (c) => c.notNull())
    .addColumn('certificate', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('calibrations_device_at_idx')
    .on('calibrations')
    .columns(['device', 'at', 'id'])
    .execute();

  await db.schema
    .createTable('device_maintenance')
    .addColumn('device', 'text', (c) => c.primaryKey())
    // YYYY-MM-DD, kept by hand (PUT .../maintenance/dates).
    .addColumn('sensor_eol', 'text')
    .addColumn('last_self_test', 'text')
    // The latest bump test by `at` (its id, time and result), null before the first.
    .addColumn('bump_id', 'text')
    .addColumn('bump_at', 'bigint')
    .addColumn('bump_result', 'text')
    // The latest calibration by `at`.
    .addColumn('cal_id', 'text')
    .addColumn('cal_at', 'bigint')
    .addColumn('cal_result', 'text')
    .addColumn('cal_next_due', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
