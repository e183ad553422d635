import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventLog } from '../../src/alarms/event-log.js';
import { createAlarmMetrics } from '../../src/alarms/metrics.js';
import { listAlarmEvents, sqlAlarmRecords } from '../../src/db/alarm-records.js';
import { type Db, openDatabase } from '../../src/db/database.js';
import { alarmOf, record, T0 } from '../alarm-fixtures.js';
import { capturingLogger, quietLogger, tempDir } from '../helpers.js';

describe('alarm event log over SQL: a record the database refuses', () => {
  const tmp = tempDir('gw-alarms-refused-');
  let db: Db | undefined;
  afterEach(async () => {
    await db?.destroy();
    tmp.remove();
  });

  it('is logged in full, counted and dropped; the rest of its batch and the events after it are stored', async () => {
    ({ db } = await openDatabase({ kind: 'sqlite', file: join(tmp.dir, 'gaswatch.db') }, quietLogger()));
    const { logger, lines } = capturingLogger();
    const registry = new Registry();
    const metrics = createAlarmMetrics(registry, () => []);
    let writeErrors = 0;
    const log = createEventLog({
      records: sqlAlarmRecords(db),
      logger,
      onWriteError: () => writeErrors++,
      onRefused: () => metrics.eventsRefused.inc(),
      running: () => true,
    });
    // No seq: SQL has no (alarm, seq) to keep it under. One batch with a good record on each side.
    const raised = (id: string, ts: number) => record(alarmOf(id, { raisedAt: ts }), 1, 'raised', ts);
    const bad = raised('co-2.CO-dose.x', T0 + 1);
    bad.data = { type: 'raised', note: '保留这条记录', alarm: bad.data.alarm };
    log.append(raised('co-1.CO-dose.a', T0));
    log.append(bad);
    log.append(raised('co-3.CO-dose.b', T0 + 2));
    await log.flush();
    log.append(raised('co-4.CO-dose.c', T0 + 3));
    await log.flush();

    expect(log.drained()).toBe(true);
    expect((await listAlarmEvents(db)).map((e) => e.id)).toEqual([
      'co-1.CO-dose.a#1',
      'co-3.CO-dose.b#1',
      'co-4.CO-dose.c#1',
    ]);
    expect(writeErrors).toBe(0);
    expect(await registry.getSingleMetricAsString('gaswatch_alarm_events_refused_total')).toMatch(
      /^gaswatch_alarm_events_refused_total 1$/m,
    );
    const refused = lines.filter((l) => String(l.msg).startsWith('alarm event refused by the database'));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      level: 50,
      eventId: bad.id,
      alarmId: bad.alarmId,
      data: { type: 'raised', note: '保留这条记录' },
      err: {
        code: 'alarm_record_invalid',
        message: expect.stringMatching(/co-2\.CO-dose\.x#1 cannot be stored: seq/),
      },
    });
  });
});
