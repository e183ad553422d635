import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmError } from '../../src/alarms/errors.js';
import { deviceState, feed, MIN, makeRig, type Rig, series, T0 } from './helpers.js';

const UL = { sites: { home: { coStandard: 'ul2034' } } };
const home = deviceState('household-co', 'home');

/** A critical CO alarm raised on co-1 at 150 ppm, nobody has acknowledged it yet. */
async function raised(rig: Rig): Promise<string> {
  await feed(rig.store, rig.bus, series('gw-1', 'co-1', home, T0, T0 + 40 * MIN, 10, { CO: 150 }));
  await rig.engine.idle();
  const [alarm] = rig.engine.list({ dev: 'co-1' });
  expect(alarm?.state).toBe('active');
  return alarm?.id ?? '';
}

describe('responding to and resolving an alarm (SPEC §13)', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('a call is logged without acknowledging; "on my way" acknowledges and silences', async () => {
    rig = await makeRig(UL);
    const id = await raised(rig);
    const call = await rig.engine.respond(id, {
      kind: 'call',
      actor: 'lin',
      note: 'daughter says he is at home',
      contact: { name: '王秀英', phone: '13800000001' },
      outcome: 'no_answer',
    });
    expect(call.alarm).toMatchObject({ state: 'active', calls: 1 });
    expect(call.silence).toBeNull();
    expect(rig.commands).toHaveLength(0);

    const going = await rig.engine.respond(id, { kind: 'on_my_way', actor: 'zhao', note: '' });
    expect(going.alarm).toMatchObject({
      state: 'acknowledged',
      ack: { actor: 'zhao' },
      onMyWay: { actor: 'zhao', at: T0 },
    });
    expect(going.silence?.sent).toBe(true);
    expect(rig.commands).toHaveLength(1);

    const there = await rig.engine.respond(id, { kind: 'on_site', actor: 'zhao', note: 'window opened' });
    expect(there.silence).toBeNull(); // already acknowledged: nothing more to silence
    expect(there.alarm.onSite).toEqual({ actor: 'zhao', at: T0 });

    const history = await rig.engine.history(id);
    expect(history.map((e) => e.type)).toEqual([
      'raised',
      'call',
      'acknowledged',
      'silence',
      'on_my_way',
      'on_site',
    ]);
    expect(history[1]).toMatchObject({
      actor: 'lin',
      contact: { name: '王秀英', phone: '13800000001' },
      outcome: 'no_answer',
      note: 'daughter says he is at home',
    });
  });

  it('resolving acknowledges first; the alarm stays open while the gas is still there', async () => {
    rig = await makeRig(UL);
    const id = await raised(rig);
    const res = await rig.engine.resolve(id, {
      actor: 'lin',
      reason: 'real_event',
      note: 'charcoal brazier',
    });
    expect(res.alarm).toMatchObject({
      state: 'acknowledged',
      ack: { actor: 'lin', note: 'charcoal brazier' },
      resolution: { actor: 'lin', reason: 'real_event', note: 'charcoal brazier', at: T0 },
    });
    expect(res.stored).toBe(true);
    expect(res.silence?.sent).toBe(true);
    expect(rig.engine.list({ state: 'open' }).map((a) => a.id)).toEqual([id]);

    await expect(rig.engine.resolve(id, { actor: 'zhao', reason: 'test', note: '' })).rejects.toMatchObject({
      code: 'alarm_already_resolved',
      statusCode: 409,
    } satisfies Partial<AlarmError>);

    // Clean air: the condition ends and the resolved alarm closes.
    await feed(
      rig.store,
      rig.bus,
      series('gw-1', 'co-1', home, T0 + 40 * MIN, T0 + 300 * MIN, 10, { CO: 0 }, 240),
    );
    await rig.engine.idle();
    expect(rig.engine.get(id)).toMatchObject({ state: 'cleared', resolution: { reason: 'real_event' } });
  });

  it('the resolution, calls and "on site" survive a restart', async () => {
    rig = await makeRig(UL);
    const id = await raised(rig);
    await rig.engine.respond(id, {
      kind: 'call',
      actor: 'lin',
      note: '',
      contact: { name: '邻居' },
      outcome: 'reached',
    });
    await rig.engine.respond(id, { kind: 'on_site', actor: 'zhao', note: '' });
    await rig.engine.resolve(id, { actor: 'zhao', reason: 'false_alarm', note: 'cooking smoke' });
    await rig.restart();
    await rig.engine.idle();
    expect(rig.engine.get(id)).toMatchObject({
      calls: 1,
      onSite: { actor: 'zhao' },
      resolution: { actor: 'zhao', reason: 'false_alarm', note: 'cooking smoke' },
    });
    const history = await rig.engine.history(id);
    expect(history.find((e) => e.type === 'resolved')).toMatchObject({
      reason: 'false_alarm',
      actor: 'zhao',
    });
  });

  it('an unknown alarm is 404 for every action', async () => {
    rig = await makeRig(UL);
    for (const act of [
      () => rig?.engine.resolve('nope', { actor: 'a', reason: 'test', note: '' }),
      () => rig?.engine.respond('nope', { kind: 'on_site', actor: 'a', note: '' }),
    ])
      await expect(act()).rejects.toMatchObject({ code: 'alarm_not_found', statusCode: 404 });
  });
});
