import { afterEach, describe, expect, it } from 'vitest';
import { AlarmSchema } from '../../src/alarms/model.js';
import { deviceState, feed, MIN, makeRig, type Rig, series, T0 } from './helpers.js';

const UL = { sites: { home: { coStandard: 'ul2034' } } };
const home = deviceState('household-co', 'home');

describe('engine restarts over the same records (SQLite) and store', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('a restart mid-exposure keeps the dose: 150 ppm still alarms at ~32 min, not 32 min after the restart', async () => {
    rig = await makeRig(UL);
    await feed(rig.store, rig.bus, series('gw-1', 'co-1', home, T0, T0 + 20 * MIN, 10, { CO: 150 }));
    await rig.engine.idle();
    expect(rig.engine.list()).toEqual([]);

    await rig.restart();
    await feed(
      rig.store,
      rig.bus,
      series('gw-1', 'co-1', home, T0 + 20 * MIN, T0 + 60 * MIN, 10, { CO: 150 }, 120),
    );
    await rig.engine.idle();
    const [alarm] = rig.engine.list();
    // From zero dose it would take until 20 + 32 = 52 min.
    expect(((alarm?.raisedAt ?? 0) - T0) / MIN).toBeCloseTo(32.2, 0);
  });

  it('one alarm per condition across restarts: the open alarm is rebuilt from its events and continues', async () => {
    rig = await makeRig(UL);
    await feed(rig.store, rig.bus, series('gw-1', 'co-2', home, T0, T0 + 40 * MIN, 10, { CO: 150 }));
    await rig.engine.idle();
    const [first] = rig.engine.list();
    expect(first?.state).toBe('active');

    await rig.restart();
    expect(rig.engine.get(first?.id ?? '')).toMatchObject({
      state: 'active',
      key: 'CO:dose',
      raisedAt: first?.raisedAt,
    });
    await feed(
      rig.store,
      rig.bus,
      series('gw-1', 'co-2', home, T0 + 40 * MIN, T0 + 60 * MIN, 10, { CO: 150 }, 240),
    );
    await rig.engine.idle();
    expect(rig.engine.list()).toHaveLength(1);

    // Acknowledged after the restart, then restarted again: the acknowledgement survives.
    await rig.engine.acknowledge(first?.id ?? '', { actor: 'alice', note: 'on my way' });
    await rig.restart();
    expect(rig.engine.get(first?.id ?? '')).toMatchObject({ state: 'acknowledged', ack: { actor: 'alice' } });

    // The condition ends after yet another restart: the same alarm closes.
    await rig.restart();
    await feed(
      rig.store,
      rig.bus,
      series('gw-1', 'co-2', home, T0 + 60 * MIN, T0 + 360 * MIN, 10, { CO: 0 }, 360),
    );
    await rig.engine.idle();
    expect(rig.engine.list()).toHaveLength(1);
    expect(rig.engine.get(first?.id ?? '')?.state).toBe('cleared');
    const raised = (await rig.records.listAlarmEvents()).filter((e) => e.data.type === 'raised');
    expect(raised).toHaveLength(1);
  });

  it('after a restart, re-emitting an episode that already closed raises nothing new', async () => {
    rig = await makeRig(UL);
    const exposure = series('gw-1', 'co-3', home, T0, T0 + 40 * MIN, 10, { CO: 150 });
    const clean = series('gw-1', 'co-3', home, T0 + 40 * MIN, T0 + 300 * MIN, 10, { CO: 0 }, 240);
    await feed(rig.store, rig.bus, [...exposure, ...clean]);
    await rig.engine.idle();
    const [first] = rig.engine.list();
    await rig.engine.acknowledge(first?.id ?? '', { actor: 'alice', note: '' });
    expect(rig.engine.get(first?.id ?? '')?.state).toBe('cleared');

    await rig.restart();
    // A gateway replays its whole outbox after the restart (the server lost its in-memory dedup).
    for (const r of [...exposure, ...clean]) rig.bus.emit('reading', { ...r, late: true });
    await rig.engine.idle();
    expect(rig.engine.list()).toHaveLength(1);
    expect(rig.engine.list({ state: 'open' })).toEqual([]);
  });

  it('unreadable stored alarm events are skipped at rebuild, never fatal', async () => {
    rig = await makeRig(UL);
    await feed(rig.store, rig.bus, series('gw-1', 'co-4', home, T0, T0 + 40 * MIN, 10, { CO: 150 }));
    await rig.engine.idle();
    // What a hand edit of the database can leave (appendAlarmEvents refuses all of these): an
    // event whose JSON is torn, one that is null, one that is no alarm event at all.
    const junk = ['{"type":"raised","seq":1,"alarm":', 'null', '{"hello":"world"}'];
    await rig.db
      .insertInto('alarms')
      .values({
        id: 'junk',
        gw: 'gw-1',
        dev: 'co-4',
        site: null,
        key: 'junk',
        rule: 'junk',
        severity: 'critical',
        state: 'active',
        raised_at: T0,
        cleared_at: null,
        seq: 3,
        updated_at: T0,
        alarm: '{}',
      })
      .execute();
    await rig.db
      .insertInto('alarm_events')
      .values(
        junk.map((data, i) => ({
          id: `junk#${i + 1}`,
          alarm_id: 'junk',
          seq: i + 1,
          ts: T0 + 1,
          type: 'raised',
          actor: null,
          data,
        })),
      )
      .execute();
    await rig.restart();
    expect(rig.engine.ready()).toBe(true);
    expect(rig.engine.list().map((a) => a.dev)).toEqual(['co-4']);
    const [alarm] = rig.engine.list();
    expect((await rig.engine.history(alarm!.id)).map((h) => h.type)).toContain('raised');
  });

  it('an alarm whose stored fields are damaged stays listed, open and loud, and the API can answer it', async () => {
    rig = await makeRig(UL);
    await feed(rig.store, rig.bus, series('gw-1', 'co-5', home, T0, T0 + 40 * MIN, 10, { CO: 150 }));
    await rig.engine.idle();
    const [good] = rig.engine.list();
    // A second alarm, then a hand edit of its stored event: its severity lost, its value
    // garbled, its gas unknown (appendAlarmEvents would refuse the first).
    const second = { ...good!, id: 'co-5.damaged', key: 'CO:damaged', seq: 1 };
    const raised = { type: 'raised', seq: 1, state: 'active' };
    await rig.records.appendAlarmEvents([
      { id: 'co-5.damaged#1', alarmId: second.id, ts: T0 + 5 * MIN, data: { ...raised, alarm: second } },
    ]);
    const { severity: _lost, ...damaged } = second;
    await rig.db
      .updateTable('alarm_events')
      .set({ data: JSON.stringify({ ...raised, alarm: { ...damaged, value: 'high', gas: 'XO' } }) })
      .where('id', '=', 'co-5.damaged#1')
      .execute();
    await rig.restart();
    const restored = rig.engine.get('co-5.damaged');
    expect(restored).toMatchObject({ severity: 'critical', state: 'active', value: 0, dev: 'co-5' });
    expect(restored?.gas).toBeUndefined();
    // What /api/alarms serialises through: every listed alarm passes it.
    for (const a of rig.engine.list()) expect(AlarmSchema.safeParse(a).success).toBe(true);
    expect(rig.engine.list({ state: 'open' }).map((a) => a.id)).toContain('co-5.damaged');
  });
});
