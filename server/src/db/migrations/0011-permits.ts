import type { Kysely } from 'kysely';

/**
 * Confined-space entry and hot-work permits (SPEC §7, issue 14; docs/permits.md "Workflow").
 *
 * - `spaces`: the confined-space register (台账), one row per space.
 * - `permits`: one row per permit, what annex A's form records: the lists (crew, measures with who
 *   confirmed each, related permits) as JSON, what lists filter on as columns (area, space, state,
 *   the planned window, a text of every person named, for the search by person). `rules` is the
 *   effective rule set as it was when the permit was drawn up: a permit is judged by the rules it
 *   was issued under, whatever the configuration says later.
 * - `permit_events`: one row per state change, append-only, unique by (permit_id, seq): the signed
 *   record of who took it, with which role, when, and why; each row's hash covers the one before
 *   it, so a record edited in the database no longer matches its successors.
 * - `permit_tests` and `permit_test_readings`: each gas test, and each reading it took.
 * - `permit_monitoring`: readings kept during the work, at the rule set's interval.
 *
 * Times are ms since epoch in bigint columns, JSON is text (as in 0001-alarms).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('spaces')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('area', 'text', (c) => c.notNull().references('areas.id'))
    .addColumn('site', 'text')
    .addColumn('location', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('hazards', 'text', (c) => c.notNull())
    .addColumn('gases', 'text', (c) => c.notNull())
    .addColumn('large', 'integer', (c) => c.notNull())
    .addColumn('oxygen_enriched', 'integer', (c) => c.notNull())
    .addColumn('rule_set', 'text')
    .addColumn('notes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('spaces_area_idx').on('spaces').columns(['area', 'id']).execute();

  await db.schema
    .createTable('permits')
    // Sorts by the time it was drawn up (db/page.ts timeOrderedId): the list's order and cursor.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('level', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('area', 'text', (c) => c.notNull().references('areas.id'))
    .addColumn('site', 'text')
    .addColumn('space_id', 'text', (c) => c.references('spaces.id'))
    .addColumn('location', 'text', (c) => c.notNull())
    .addColumn('hot_work_site', 'text')
    .addColumn('large', 'integer', (c) => c.notNull())
    .addColumn('oxygen_enriched', 'integer', (c) => c.notNull())
    .addColumn('rule_set', 'text', (c) => c.notNull())
    .addColumn('rules', 'text', (c) => c.notNull())
    .addColumn('work', 'text', (c) => c.notNull())
    .addColumn('applicant', 'text', (c) => c.notNull())
    .addColumn('crew', 'text', (c) => c.notNull())
    .addColumn('attendant', 'text', (c) => c.notNull())
    .addColumn('measures', 'text', (c) => c.notNull())
    .addColumn('related', 'text', (c) => c.notNull())
    .addColumn('notes', 'text', (c) => c.notNull())
    // Every person named on it and everyone who signed, one per line, lower case: the search by person.
    .addColumn('people', 'text', (c) => c.notNull())
    .addColumn('planned_start', 'bigint', (c) => c.notNull())
    .addColumn('planned_end', 'bigint', (c) => c.notNull())
    .addColumn('valid_until', 'bigint', (c) => c.notNull())
    // What watches the work: a device (and its gateway) or a portable instrument; null for none.
    .addColumn('monitor_device', 'text')
    .addColumn('monitor_gw', 'text')
    .addColumn('monitor_instrument', 'text')
    .addColumn('monitor_gases', 'text')
    // The seq of its last event: a state change writes seq + 1 where seq is still this.
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('closed_at', 'bigint')
    // recordsKeptUntil: no deletion before it.
    .addColumn('keep_until', 'bigint')
    .execute();
  await db.schema.createIndex('permits_area_idx').on('permits').columns(['area', 'id']).execute();
  await db.schema.createIndex('permits_space_idx').on('permits').columns(['space_id', 'id']).execute();
  // The sweeps (validity, monitoring) and the state filter read the open ones.
  await db.schema.createIndex('permits_state_idx').on('permits').columns(['state', 'valid_until']).execute();

  await db.schema
    .createTable('permit_events')
    .addColumn('permit_id', 'text', (c) => c.notNull().references('permits.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('from_state', 'text', (c) => c.notNull())
    .addColumn('to_state', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('actor_role', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('permit_events_pk', ['permit_id', 'seq'])
    .execute();

  await db.schema
    .createTable('permit_tests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('permit_id', 'text', (c) => c.notNull().references('permits.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('device', 'text')
    .addColumn('gw', 'text')
    .addColumn('instrument', 'text')
    .addColumn('response_time_s', 'real', (c) => c.notNull())
    // [{channel, gas}]: the gas each channel is judged as.
    .addColumn('gases', 'text', (c) => c.notNull())
    // testSequence's steps, as they were when the test started.
    .addColumn('steps', 'text', (c) => c.notNull())
    // [{position, at, by}]: where the detector was placed and when (the last placement counts).
    .addColumn('placements', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('started_by', 'text', (c) => c.notNull())
    .addColumn('started_name', 'text', (c) => c.notNull())
    .addColumn('started_role', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('permit_tests_permit_idx')
    .on('permit_tests')
    .columns(['permit_id', 'id'])
    .execute();

  await db.schema
    .createTable('permit_test_readings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('test_id', 'text', (c) => c.notNull().references('permit_tests.id'))
    .addColumn('position', 'text', (c) => c.notNull())
    // The gas as judged: a catalogue id or a custom combustible, as JSON.
    .addColumn('gas', 'text', (c) => c.notNull())
    .addColumn('check_kind', 'text', (c) => c.notNull())
    .addColumn('value', 'real', (c) => c.notNull())
    .addColumn('unit', 'text', (c) => c.notNull())
    .addColumn('pass', 'integer', (c) => c.notNull())
    // judgeReading's checks, as judged.
    .addColumn('checks', 'text', (c) => c.notNull())
    .addColumn('placed_at', 'bigint', (c) => c.notNull())
    .addColumn('read_at', 'bigint', (c) => c.notNull())
    .addColumn('sampled_at', 'bigint')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('recorded_name', 'text', (c) => c.notNull())
    .addColumn('recorded_role', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('permit_test_readings_test_idx')
    .on('permit_test_readings')
    .columns(['test_id', 'id'])
    .execute();

  await db.schema
    .createTable('permit_monitoring')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('permit_id', 'text', (c) => c.notNull().references('permits.id'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('device', 'text')
    .addColumn('instrument', 'text')
    // [{gas, value, unit}]
    .addColumn('readings', 'text', (c) => c.notNull())
    .addColumn('pass', 'integer', (c) => c.notNull())
    .addColumn('reasons', 'text', (c) => c.notNull())
    .addColumn('why', 'text', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('permit_monitoring_permit_idx')
    .on('permit_monitoring')
    .columns(['permit_id', 'id'])
    .execute();
}
