import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { GaswatchConfigSchema } from '../src/alarms/config-schema.js';
import { createAlarmEngine } from '../src/alarms/engine.js';
import type { Alarm, AlarmHistoryEntry } from '../src/alarms/model.js';
import { createBus } from '../src/bus.js';
import { listAlarmEvents } from '../src/db/alarm-records.js';
import { ALARM_EVENTS_SOURCE, findLegacyImport } from '../src/db/legacy-import.js';
import { createEmbeddedStore } from '../src/store/embedded.js';
import type { Store } from '../src/store/types.js';
import { deviceState, feed, MIN, quiet, series, T0 } from './alarms/helpers.js';
import { capturingLogger, getJson, metric, startTestServer, type TestServer, tempDir } from './helpers.js';

const RAW_CONFIG = { sites: { home: { coStandard: 'ul2034' } } };
const home = deviceState('household-co', 'home');

interface AlarmAnswer {
  alarm: Alarm;
  events: AlarmHistoryEntry[];
}

/** What an older version answered for an alarm: the alarm and its history (the card added more since). */
const historyOf = (b: AlarmAnswer): AlarmAnswer => ({ alarm: b.alarm, events: b.events });

/** The engine of the version before SQL: its events in the (embedded) store itself. */
function oldEngine(store: Store) {
  const bus = createBus();
  const engine = createAlarmEngine({
    store,
    records: store,
    bus,
    config: GaswatchConfigSchema.parse(RAW_CONFIG),
    clock: () => T0 + 45 * MIN,
    logger: quiet,
    metrics: new Registry(),
    sendCommand: async () => {},
  });
  return { engine, bus };
}

/**
 * DATA_DIR as the version before SQL left it, its alarm events in the embedded store: an alarm
 * acknowledged with a note, one acknowledged and cleared, one open. Returns what that version
 * answered for each after a restart (rebuilt from those events; a peak seen after the last event
 * is not among them).
 */
async function oldVersionDataDir(dataDir: string): Promise<Map<string, AlarmAnswer>> {
  const store = createEmbeddedStore({ dir: join(dataDir, 'store'), logger: quiet });
  await store.start();
  const { engine, bus } = oldEngine(store);
  const restarted = oldEngine(store).engine;
  try {
    await engine.start();
    for (const dev of ['co-acked', 'co-cleared', 'co-open'])
      await feed(store, bus, series('gw-1', dev, home, T0, T0 + 40 * MIN, 10, { CO: 150 }));
    await engine.idle();
    const idOf = (dev: string) => engine.list({ dev })[0]?.id ?? '';
    await engine.acknowledge(idOf('co-acked'), { actor: 'alice', note: '窗已打开，燃气阀已关' });
    await engine.acknowledge(idOf('co-cleared'), { actor: 'bob', note: 'boiler off' });
    const clean = series('gw-1', 'co-cleared', home, T0 + 40 * MIN, T0 + 300 * MIN, 10, { CO: 0 }, 240);
    await feed(store, bus, clean);
    await engine.idle();
    await engine.stop();

    await restarted.start();
    const out = new Map<string, AlarmAnswer>();
    for (const alarm of restarted.list())
      out.set(alarm.id, { alarm, events: await restarted.history(alarm.id) });
    expect([...out.values()].map((a) => [a.alarm.dev, a.alarm.state]).sort()).toEqual([
      ['co-acked', 'acknowledged'],
      ['co-cleared', 'cleared'],
      ['co-open', 'active'],
    ]);
    return out;
  } finally {
    await engine.stop();
    await restarted.stop();
    await store.stop();
  }
}

describe('upgrade: the alarm events of an older version are imported into SQL on first start', () => {
  const tmp = tempDir('gw-alarm-upgrade-');
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    tmp.remove();
  });

  const start = async (dataDir: string) => {
    const file = join(tmp.dir, 'gaswatch.json');
    writeFileSync(file, JSON.stringify(RAW_CONFIG));
    const capture = capturingLogger();
    server = await startTestServer({ GASWATCH_CONFIG: file }, dataDir, capture.logger);
    await server.app.alarms.idle();
    return { server, lines: capture.lines };
  };

  it('serves every alarm with its whole history, and a second start does not import again', async () => {
    const dataDir = join(tmp.dir, 'data');
    const before = await oldVersionDataDir(dataDir);
    const legacyEvents = [...before.values()].reduce((n, a) => n + a.events.length, 0);

    const first = await start(dataDir);
    expect((await getJson(`${first.server.url}/readyz`)).status).toBe(200);
    for (const [id, old] of before) {
      const { status, body } = await getJson<AlarmAnswer>(`${first.server.url}/api/alarms/${id}`);
      expect(status).toBe(200);
      // The card's other parts (procedure, escalation, household) are new: the alarm and its history are not.
      expect(historyOf(body)).toEqual(old);
    }
    const listed = (await getJson<{ alarms: Alarm[] }>(`${first.server.url}/api/alarms`)).body.alarms;
    expect(listed.filter((a) => before.has(a.id))).toEqual([...before.values()].map((a) => a.alarm));
    const acked = [...before.values()].find((a) => a.alarm.dev === 'co-acked');
    expect(acked?.alarm.ack).toMatchObject({ actor: 'alice', note: '窗已打开，燃气阀已关' });
    const marker = await findLegacyImport(first.server.app.db, ALARM_EVENTS_SOURCE);
    expect(marker).toMatchObject({ events: legacyEvents, repaired: 0, skipped: 0 });
    expect(first.lines).toContainEqual(
      expect.objectContaining({
        msg: expect.stringMatching(/^alarm events of the time-series store imported into the database/),
        store: 'embedded',
        events: legacyEvents,
        repaired: 0,
        skipped: 0,
      }),
    );
    expect(await metric(first.server.url, 'gaswatch_alarm_events_refused_total')).toBe(0);
    await first.server.close();
    server = undefined;

    // An event that turns up in the old store after the import: a second import would bring it.
    const store = createEmbeddedStore({ dir: join(dataDir, 'store'), logger: quiet });
    await store.start();
    const [sample] = await store.listAlarmEvents();
    await store.appendAlarmEvents([{ ...sample!, id: 'late.CO-dose.1#1', alarmId: 'late.CO-dose.1' }]);
    await store.stop();

    const second = await start(dataDir);
    expect(await findLegacyImport(second.server.app.db, ALARM_EVENTS_SOURCE)).toEqual(marker);
    expect(await listAlarmEvents(second.server.app.db)).toHaveLength(legacyEvents);
    expect(second.server.app.alarms.get('late.CO-dose.1')).toBeUndefined();
    expect(second.lines.some((l) => /imported into the database/.test(String(l.msg)))).toBe(false);
    for (const [id, old] of before)
      expect(historyOf((await getJson<AlarmAnswer>(`${second.server.url}/api/alarms/${id}`)).body)).toEqual(
        old,
      );
  });

  it('repairs or skips damaged events, counts and logs them, and starts', async () => {
    const dataDir = join(tmp.dir, 'data');
    const before = await oldVersionDataDir(dataDir);
    const open = [...before.values()].find((a) => a.alarm.dev === 'co-open')?.alarm as Alarm;
    // What a damaged disk leaves: a torn record, one whose data is null, and the newest event of
    // an alarm whose severity is lost and value garbled (SQL's row refuses it; the rebuild repairs it).
    const { severity: _lost, ...damaged } = { ...open, id: 'co-open.CO-damaged.1', key: 'CO:damaged' };
    const store = createEmbeddedStore({ dir: join(dataDir, 'store'), logger: quiet });
    await store.start();
    await store.appendAlarmEvents([
      {
        id: `${damaged.id}#1`,
        alarmId: damaged.id,
        ts: T0 + 50 * MIN,
        data: { type: 'raised', seq: 1, state: 'active', alarm: { ...damaged, value: 'high' } },
      },
    ]);
    await store.stop();
    const raw = new ClassicLevel<string, string>(join(dataDir, 'store'), { valueEncoding: 'utf8' });
    const at = String(T0 + 51 * MIN).padStart(15, '0');
    await raw.batch([
      { type: 'put', key: `a!${at}!torn#1`, value: '{"id":"torn#1","alarmId":"torn","ts":' },
      {
        type: 'put',
        key: `a!${at}!null#1`,
        value: JSON.stringify({ id: 'null#1', alarmId: 'null', ts: T0, data: null }),
      },
    ]);
    await raw.close();

    const { server: s, lines } = await start(dataDir);
    expect(s.app.alarms.ready()).toBe(true);
    const events = [...before.values()].reduce((n, a) => n + a.events.length, 0) + 1;
    expect(await findLegacyImport(s.app.db, ALARM_EVENTS_SOURCE)).toMatchObject({
      events,
      repaired: 1,
      skipped: 2,
    });
    const repaired = await getJson<AlarmAnswer>(`${s.url}/api/alarms/co-open.CO-damaged.1`);
    expect(repaired.body.alarm).toMatchObject({
      severity: 'critical',
      value: 0,
      state: 'active',
      dev: 'co-open',
    });
    for (const [id, old] of before)
      expect(historyOf((await getJson<AlarmAnswer>(`${s.url}/api/alarms/${id}`)).body)).toEqual(old);

    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 50,
        repaired: 1,
        alarms: ['co-open.CO-damaged.1'],
        msg: expect.stringMatching(/damaged fields, restored with defaults/),
      }),
    );
    const skippedLine = lines.find((l) => /were not imported/.test(String(l.msg)));
    expect(skippedLine).toMatchObject({ level: 40, skipped: 2 });
    expect(((skippedLine?.records ?? []) as Array<{ id: string }>).map((r) => r.id).sort()).toEqual([
      'null#1',
      'torn#1',
    ]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        events,
        repaired: 1,
        skipped: 2,
        msg: expect.stringMatching(/imported into the database/),
      }),
    );
  });
});
