import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmError } from '../../src/alarms/errors.js';
import type { AlarmTransition } from '../../src/bus.js';
import { accepted, deviceState, feed, MIN, makeRig, manualTime, type Rig, series, T0 } from './helpers.js';

const UL = { sites: { home: { coStandard: 'ul2034' } } };
const home = deviceState('household-co', 'home');

describe('alarm lifecycle (SPEC §6)', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('active → acknowledged (actor, note, silence command) → cleared when the condition ends', async () => {
    rig = await makeRig(UL);
    const seen: AlarmTransition[] = [];
    rig.bus.on('alarm', (t) => seen.push(t));
    await feed(rig.store, rig.bus, series('gw-1', 'co-1', home, T0, T0 + 40 * MIN, 10, { CO: 150 }));
    await rig.engine.idle();
    const [alarm] = rig.engine.list({ dev: 'co-1' });
    expect(alarm?.state).toBe('active');
    const id = alarm?.id ?? '';

    const res = await rig.engine.acknowledge(id, { actor: 'alice', note: 'windows opened, boiler off' });
    expect(res.alarm.state).toBe('acknowledged');
    expect(res.alarm.ack).toMatchObject({ actor: 'alice', note: 'windows opened, boiler off' });
    expect(res.stored).toBe(true);
    expect(res.silence.sent).toBe(true);
    expect(rig.commands).toHaveLength(1);
    expect(rig.commands[0]).toMatchObject({
      gw: 'gw-1',
      cmd: { v: 1, type: 'silence', device: 'co-1', alarmId: id },
    });

    // Clean air: the dose decays below the set point minus the band and the condition ends.
    await feed(
      rig.store,
      rig.bus,
      series('gw-1', 'co-1', home, T0 + 40 * MIN, T0 + 300 * MIN, 10, { CO: 0 }, 240),
    );
    await rig.engine.idle();
    const after = rig.engine.get(id);
    expect(after?.state).toBe('cleared');
    // The dose kept rising after the raise at 45 ppm: 150·(1 − e^(−40/90)) = 53.9 ppm at 40 min.
    expect(after?.peak).toBeCloseTo(53.9, 0);
    expect(after?.clearedAt).toBeGreaterThan(T0 + 40 * MIN);
    expect(rig.engine.list({ state: 'open' })).toEqual([]);

    const history = await rig.engine.history(id);
    expect(history.map((e) => e.type)).toEqual(['raised', 'acknowledged', 'silence', 'cleared']);
    expect(history[1]).toMatchObject({
      actor: 'alice',
      note: 'windows opened, boiler off',
      state: 'acknowledged',
    });
    expect(seen.map((t) => `${t.type}:${t.state}`)).toEqual([
      'raised:active',
      'acknowledged:acknowledged',
      'silence:acknowledged',
      'cleared:cleared',
    ]);

    await expect(rig.engine.acknowledge(id, { actor: 'bob', note: '' })).rejects.toMatchObject({
      code: 'alarm_already_acknowledged',
      statusCode: 409,
    });
    await expect(rig.engine.acknowledge('no-such-alarm', { actor: 'bob', note: '' })).rejects.toBeInstanceOf(
      AlarmError,
    );
  });

  it('an alarm that clears before anyone acknowledges it stays latched (cleared_unacked) until acked', async () => {
    rig = await makeRig(UL);
    await feed(rig.store, rig.bus, series('gw-1', 'co-2', home, T0, T0 + 40 * MIN, 10, { CO: 150 }));
    await feed(
      rig.store,
      rig.bus,
      series('gw-1', 'co-2', home, T0 + 40 * MIN, T0 + 300 * MIN, 10, { CO: 0 }, 240),
    );
    await rig.engine.idle();
    const [alarm] = rig.engine.list({ dev: 'co-2' });
    expect(alarm?.state).toBe('cleared_unacked');
    expect(rig.engine.list({ state: 'open' }).map((a) => a.id)).toEqual([alarm?.id]);
    expect(rig.engine.list({ state: 'cleared_unacked' })).toHaveLength(1);

    const res = await rig.engine.acknowledge(alarm?.id ?? '', {
      actor: 'duty-officer',
      note: 'checked on site',
    });
    expect(res.alarm.state).toBe('cleared');
    expect(rig.engine.list({ state: 'open' })).toEqual([]);
    expect((await rig.engine.history(alarm?.id ?? '')).map((e) => e.type)).toEqual([
      'raised',
      'cleared',
      'acknowledged',
      'silence',
    ]);
  });

  it('a latched condition that comes back re-activates the same alarm, not a second one', async () => {
    rig = await makeRig(UL);
    await feed(rig.store, rig.bus, series('gw-1', 'co-3', home, T0, T0 + 40 * MIN, 10, { CO: 150 }));
    await feed(
      rig.store,
      rig.bus,
      series('gw-1', 'co-3', home, T0 + 40 * MIN, T0 + 200 * MIN, 10, { CO: 0 }, 240),
    );
    await rig.engine.idle();
    const [latched] = rig.engine.list({ dev: 'co-3' });
    expect(latched?.state).toBe('cleared_unacked');
    await feed(
      rig.store,
      rig.bus,
      series('gw-1', 'co-3', home, T0 + 200 * MIN, T0 + 260 * MIN, 10, { CO: 400 }, 960),
    );
    await rig.engine.idle();
    const all = rig.engine.list({ dev: 'co-3' });
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ id: latched?.id, state: 'active' });
    expect((await rig.engine.history(latched?.id ?? '')).map((e) => e.type)).toEqual([
      'raised',
      'cleared',
      'reraised',
    ]);
  });

  it('readings replayed from an outbox still raise their alarm, marked late; a replay of the same readings adds none', async () => {
    rig = await makeRig(UL);
    const arrival = T0 + 6 * 60 * MIN; // they reach the server 6 h after sampling
    const late = series('gw-1', 'co-4', home, T0, T0 + 40 * MIN, 10, { CO: 150 }).map((r) => ({
      ...r,
      receivedAt: arrival,
      late: true,
    }));
    await feed(rig.store, rig.bus, late);
    await rig.engine.idle();
    const [alarm] = rig.engine.list({ dev: 'co-4' });
    expect(alarm).toMatchObject({ key: 'CO:dose', state: 'active', late: true });
    expect(((alarm?.raisedAt ?? 0) - T0) / MIN).toBeCloseTo(32.2, 0);
    const [raised] = await rig.engine.history(alarm?.id ?? '');
    expect(raised).toMatchObject({ type: 'raised', late: true });

    // The same hour again (a gateway re-sending its outbox): still exactly one alarm.
    for (const r of late) rig.bus.emit('reading', r);
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'co-4' })).toHaveLength(1);
    const events = await rig.records.listAlarmEvents();
    expect(events.filter((e) => e.data.type === 'raised')).toHaveLength(1);
    const metrics = await rig.registry.getSingleMetricAsString('gaswatch_alarm_readings_skipped_total');
    // Not evaluated again: the last 15 min are recognised as the same samples (duplicate_ts), the
    // older ones fall before the replay window (out_of_order).
    const count = (reason: string) =>
      Number(new RegExp(`reason="${reason}"} (\\d+)`).exec(metrics)?.[1] ?? 0);
    expect(count('out_of_order') + count('duplicate_ts')).toBe(240);
    expect(count('duplicate_ts')).toBeGreaterThan(0);
  });

  it('a detector reporting status fault or sensor end of life raises a fault alarm', async () => {
    const time = manualTime(T0);
    rig = await makeRig(UL, { clock: time.clock, timers: time.timers });
    await feed(rig.store, rig.bus, [
      accepted('gw-1', 'co-5', home, T0, 0, { CO: 0 }),
      accepted('gw-1', 'co-5', home, T0 + 10_000, 1, { CO: 0 }, { faults: ['sensor_eol'] }),
    ]);
    await rig.engine.idle();
    // A fault waits fold.faultWindowS (10 s) for others with the same one (fault-burst.ts).
    time.advance(11_000);
    const alarms = rig.engine.list({ dev: 'co-5' });
    expect(alarms.map((a) => a.key)).toEqual(['fault']);
    expect(alarms[0]?.raisedAt).toBe(T0 + 10_000);
  });
});

describe('offline alarms on the wall clock', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('no reading for max(3 × poll interval, 30 s) raises offline; the next reading ends it (latched until acked)', async () => {
    const time = manualTime(T0);
    rig = await makeRig(UL, { clock: time.clock, timers: time.timers });
    const state = deviceState('household-co', 'home', 20); // 20 s poll → 60 s timeout
    await feed(rig.store, rig.bus, [accepted('gw-1', 'co-6', state, T0, 0, { CO: 0 })]);
    await rig.engine.idle();
    time.advance(59_000);
    expect(rig.engine.list({ dev: 'co-6' })).toEqual([]);
    time.advance(2_000);
    const [off] = rig.engine.list({ dev: 'co-6' });
    expect(off).toMatchObject({ key: 'offline', state: 'active', severity: 'warning' });
    // Still silent: the same alarm, not a new one each sweep.
    time.advance(120_000);
    expect(rig.engine.list({ dev: 'co-6' })).toHaveLength(1);

    await feed(rig.store, rig.bus, [accepted('gw-1', 'co-6', state, time.clock(), 1, { CO: 0 })]);
    await rig.engine.idle();
    expect(rig.engine.get(off?.id ?? '')?.state).toBe('cleared_unacked');
  });

  it("the gateway's will (status online:false) raises one gateway alarm for its devices at once", async () => {
    const time = manualTime(T0);
    rig = await makeRig(UL, { clock: time.clock, timers: time.timers });
    await feed(rig.store, rig.bus, [
      accepted('gw-9', 'co-7', home, T0, 0, { CO: 0 }),
      accepted('gw-9', 'co-8', home, T0, 0, { CO: 0 }),
      accepted('gw-8', 'co-9', home, T0, 0, { CO: 0 }),
    ]);
    await rig.engine.idle();
    rig.bus.emit('gatewayStatus', { gw: 'gw-9', status: { v: 1, online: false } });
    await rig.engine.idle();
    const open = rig.engine.list({ state: 'open' });
    // Folded (issue 18, alarms/fold.test.ts): the gateway's alarm stands for its devices.
    expect(open.map((a) => `${a.dev}:${a.key}`)).toEqual(['gw-9:gateway-offline']);
    expect(open[0]?.message).toMatch(
      /gateway gw-9 offline \(it said so: will or status online:false\): 2 detector/,
    );
    expect(open[0]?.fold?.devices.sort()).toEqual(['co-7', 'co-8']);
    expect(rig.engine.offlineWhy('co-7')).toMatchObject({ reason: 'gateway_offline' });
    expect(rig.engine.offlineWhy('co-9')).toBeNull();
  });
});

describe('gateway clock errors', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('readings stamped a day ahead do not mute the device once its clock is corrected', async () => {
    const time = manualTime(T0);
    rig = await makeRig({}, { clock: time.clock, timers: time.timers });
    const state = deviceState('household-co', 'flat', 3600);
    const ahead = series('gw-1', 'co-10', state, T0 + 24 * 60 * MIN, T0 + 24 * 60 * MIN + 5 * MIN, 10, {
      CO: 0,
    }).map((r) => ({ ...r, receivedAt: T0, clockSuspect: true }));
    await feed(rig.store, rig.bus, ahead);
    // NTP fixed the clock: live readings at real time, 400 ppm.
    await feed(rig.store, rig.bus, series('gw-1', 'co-10', state, T0, T0 + 3 * MIN, 10, { CO: 400 }, 30));
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'co-10' }).map((a) => a.key)).toEqual(['CO:fast']);
    expect(await rig.registry.getSingleMetricAsString('gaswatch_alarm_readings_skipped_total')).toMatch(
      /reason="clock_jump_reset"} 1/,
    );
  });
});

describe('rule selection follows the device state', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it("readings before the DeviceState use inferred rules; the state's site switches to its standard, dose kept", async () => {
    rig = await makeRig(UL);
    await feed(rig.store, rig.bus, series('gw-1', 'co-11', null, T0, T0 + 10 * MIN, 10, { CO: 150 }));
    await rig.engine.idle();
    rig.bus.emit('deviceState', {
      gw: 'gw-1',
      dev: 'co-11',
      state: home,
      device: { gw: 'gw-1', dev: 'co-11', state: home, lastSeen: T0 },
    });
    await feed(
      rig.store,
      rig.bus,
      series('gw-1', 'co-11', home, T0 + 10 * MIN, T0 + 40 * MIN, 10, { CO: 150 }, 60),
    );
    await rig.engine.idle();
    const alarms = rig.engine.list({ dev: 'co-11' });
    expect(alarms.map((a) => [a.key, a.profile])).toEqual([['CO:dose', 'ul2034']]);
    // UL 2034 from the first reading (rebuilt from the store), not from the switch at 10 min.
    expect(((alarms[0]?.raisedAt ?? 0) - T0) / MIN).toBeCloseTo(32.2, 0);
  });

  it('a combustible detector with a CO channel, before its DeviceState, still alarms on LEL', async () => {
    rig = await makeRig(UL);
    // gaswatch-lel reports LEL and CO; its retained DeviceState has not arrived (or was lost).
    await feed(rig.store, rig.bus, [
      accepted('gw-1', 'lel-12', null, T0, 0, { LEL: 0, CO: 0 }),
      accepted('gw-1', 'lel-12', null, T0 + 10_000, 1, { LEL: 60, CO: 0 }),
    ]);
    await rig.engine.idle();
    expect(
      rig.engine
        .list({ dev: 'lel-12' })
        .map((a) => a.key)
        .sort(),
    ).toEqual(['LEL:high', 'LEL:low']);
  });

  it('a gas channel the profile has no rule for is reported once (never silently ignored)', async () => {
    const lines: { msg: string; gas?: string; dev?: string }[] = [];
    const logger = pino(
      { level: 'warn' },
      { write: (l: string) => lines.push(JSON.parse(l) as { msg: string; gas?: string }) },
    );
    rig = await makeRig(UL, { logger });
    // A combustible detector run as household CO (wrong kind): its LEL has no rule there.
    await feed(rig.store, rig.bus, [
      accepted('gw-1', 'co-13', home, T0, 0, { CO: 0, LEL: 30, CO2: 400 }),
      accepted('gw-1', 'co-13', home, T0 + 10_000, 1, { CO: 0, LEL: 30 }),
    ]);
    await rig.engine.idle();
    const unwatched = lines.filter((l) => l.msg.includes('has no rule for it'));
    expect(unwatched.map((l) => [l.dev, l.gas])).toEqual([['co-13', 'LEL']]);
    expect(unwatched[0]?.msg).toMatch(/co-13 reports LEL but its alarm profile ul2034 has no rule for it/);
  });
});
