import { afterEach, describe, expect, it } from 'vitest';
import { SWEEP_SLICE } from '../../src/alarms/offline-sweep.js';
import type { DeviceInfo } from '../../src/bus.js';
import { accepted, deviceState, feed, makeRig, manualTime, type Rig, T0 } from './helpers.js';

// Storms fold (issue 18): a gateway outage is one alarm, a power cut of one area is one alarm.
// Real engine over SQLite and the embedded store, simulated wall time (offline is wall-clock).

const CONFIG = {
  channels: { duty: { type: 'log' } },
  defaults: { steps: [{ name: 'duty room', contacts: [{ name: 'Duty room', channel: 'duty' }] }] },
  sites: {
    // No area: a device here is never folded by area (only by its gateway).
    plant: {},
    estate: { area: 'town-a' },
  },
};
const plant = deviceState('household-co', 'plant'); // 10 s poll → 30 s offline limit
const estate = deviceState('household-co', 'estate');
const ONLINE = {
  v: 1,
  online: true,
  ts: new Date(T0).toISOString(),
  version: '0.1.0',
  uptimeS: 1,
  outboxDepth: 0,
} as const;
const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** A registry stand-in for restarts: what core's device registry would hand the engine. */
function registry() {
  const known = new Map<string, DeviceInfo>();
  return {
    known,
    all: () => known.values(),
  };
}

describe('storms fold', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('a gateway with 500 devices offline: one gateway alarm, no device alarms raised; back online: cleared, no device alarm left behind', async () => {
    const time = manualTime(T0);
    rig = await makeRig(CONFIG, { clock: time.clock, timers: time.timers });
    const devs = ids(500, 'co');
    rig.bus.emit('gatewayStatus', { gw: 'gw-big', status: ONLINE });
    await feed(
      rig.store,
      rig.bus,
      devs.map((d) => accepted('gw-big', d, plant, T0, 0, { CO: 0 })),
    );
    await rig.engine.idle();

    time.advance(5_000);
    rig.bus.emit('gatewayStatus', { gw: 'gw-big', status: { v: 1, online: false } });
    // Five minutes of silence: far past every device's 30-s limit (and within the step's 600-s wait).
    time.advance(5 * 60_000);
    await rig.engine.idle();

    const open = rig.engine.list({ state: 'open', limit: 1000 });
    expect(open).toHaveLength(1);
    const gwAlarm = open[0];
    expect(gwAlarm).toMatchObject({
      dev: 'gw-big',
      gw: 'gw-big',
      key: 'gateway-offline',
      state: 'active',
      severity: 'warning',
      fold: { scope: 'gateway', count: 500, gateways: ['gw-big'] },
    });
    // Listed in the order they came to the gateway, as the board and the card show them.
    expect(gwAlarm?.fold?.devices).toEqual(devs);
    expect(gwAlarm?.message).toMatch(/gateway gw-big offline .*500 detector/);
    expect(rig.engine.list({ kind: 'offline', limit: 1000 })).toHaveLength(1);
    // Each device's own state stays known: offline, because of its gateway.
    expect(rig.engine.offlineWhy('co-17')).toEqual({ reason: 'gateway_offline', alarmId: gwAlarm?.id });
    // Escalated once, not once per device.
    const escalated = (await rig.engine.history(gwAlarm?.id ?? '')).filter((e) => e.type === 'escalated');
    expect(escalated).toHaveLength(1);

    // Back online: the gateway alarm clears (latched until acknowledged), no device alarm.
    const back = time.clock();
    rig.bus.emit('gatewayStatus', { gw: 'gw-big', status: ONLINE });
    await rig.engine.idle();
    expect(rig.engine.get(gwAlarm?.id ?? '')?.state).toBe('cleared_unacked');
    expect(rig.engine.offlineWhy('co-17')).toBeNull();
    // All report again but one; that one gets its own alarm after its own limit from then.
    time.advance(5_000);
    await feed(
      rig.store,
      rig.bus,
      devs.slice(0, 499).map((d) => accepted('gw-big', d, plant, time.clock(), 1, { CO: 0 })),
    );
    await rig.engine.idle();
    time.advance(back + 29_000 - time.clock());
    expect(rig.engine.list({ state: 'open', kind: 'offline', limit: 1000 }).map((a) => a.dev)).toEqual([
      'gw-big',
    ]);
    time.advance(3_000);
    const after = rig.engine
      .list({ state: 'open', kind: 'offline', limit: 1000 })
      .map((a) => `${a.dev}:${a.key}`);
    expect(after.sort()).toEqual(['co-499:offline', 'gw-big:gateway-offline']);

    const ack = await rig.engine.acknowledge(gwAlarm?.id ?? '', { actor: 'duty', note: 'router rebooted' });
    expect(ack.alarm.state).toBe('cleared');
    // No sounder behind a gateway alarm: nothing is sent to silence.
    expect(ack.silence).toEqual({ id: null, sent: false });
    expect(rig.commands).toEqual([]);
  });

  it('300 devices behind 6 gateways of one area silenced at once: one area alarm; coming back shrinks it, all back clears it', async () => {
    const time = manualTime(T0);
    rig = await makeRig(CONFIG, { clock: time.clock, timers: time.timers });
    const devs = ids(300, 'home');
    const gwOf = (i: number) => `gw-${i % 6}`;
    await feed(
      rig.store,
      rig.bus,
      devs.map((d, i) => accepted(gwOf(i), d, estate, T0, 0, { CO: 0 })),
    );
    await rig.engine.idle();

    // The power goes: nothing more from any of them (the gateways send no will: they are
    // powered from the same grid and simply stop).
    time.advance(3 * 60_000);
    await rig.engine.idle();
    const open = rig.engine.list({ state: 'open', limit: 1000 });
    expect(open).toHaveLength(1);
    const area = open[0];
    expect(area).toMatchObject({
      dev: 'town-a',
      key: 'area-offline',
      state: 'active',
      fold: {
        scope: 'area',
        area: 'town-a',
        count: 300,
        gateways: ['gw-0', 'gw-1', 'gw-2', 'gw-3', 'gw-4', 'gw-5'],
      },
    });
    expect(area?.message).toMatch(/300 detector\(s\) of area town-a silent at once/);
    expect(rig.engine.offlineWhy('home-3')).toEqual({ reason: 'area_outage', alarmId: area?.id });
    const id = area?.id ?? '';
    expect((await rig.engine.history(id)).filter((e) => e.type === 'escalated')).toHaveLength(1);

    // A third comes back: the alarm shrinks to 200 (an event says so).
    await feed(
      rig.store,
      rig.bus,
      devs.slice(0, 100).map((d, i) => accepted(gwOf(i), d, estate, time.clock(), 1, { CO: 0 })),
    );
    await rig.engine.idle();
    time.advance(1_000);
    await rig.engine.idle();
    expect(rig.engine.get(id)).toMatchObject({ state: 'active', fold: { count: 200, peak: 300 } });
    expect(rig.engine.get(id)?.fold?.devices).not.toContain('home-0');
    expect(rig.engine.offlineWhy('home-0')).toBeNull();
    expect((await rig.engine.history(id)).some((e) => e.type === 'folded')).toBe(true);

    // All back: cleared, and no device alarm anywhere.
    await feed(
      rig.store,
      rig.bus,
      devs.slice(100).map((d, i) => accepted(gwOf(i + 100), d, estate, time.clock(), 1, { CO: 0 })),
    );
    await rig.engine.idle();
    time.advance(1_000);
    await rig.engine.idle();
    expect(rig.engine.get(id)?.state).toBe('cleared_unacked');
    expect(rig.engine.list({ state: 'open', limit: 1000 }).map((a) => a.id)).toEqual([id]);
  });

  it('a power cut whose gateways then time out stays the one area alarm; a gateway back takes its devices out', async () => {
    const time = manualTime(T0);
    rig = await makeRig(
      { ...CONFIG, fold: { gatewayTimeoutS: 120 } },
      { clock: time.clock, timers: time.timers },
    );
    const devs = ids(300, 'home');
    const gwOf = (i: number) => `gw-${i % 6}`;
    for (let g = 0; g < 6; g++) rig.bus.emit('gatewayStatus', { gw: `gw-${g}`, status: ONLINE });
    await feed(
      rig.store,
      rig.bus,
      devs.map((d, i) => accepted(gwOf(i), d, estate, T0, 0, { CO: 0 })),
    );
    await rig.engine.idle();

    // The devices fall silent first (30 s limit + 30 s window), the gateways' statuses later.
    time.advance(5 * 60_000);
    await rig.engine.idle();
    const open = rig.engine.list({ state: 'open', limit: 1000 });
    expect(open.map((a) => `${a.dev}:${a.key}`)).toEqual(['town-a:area-offline']);
    const id = open[0]?.id ?? '';
    expect(open[0]?.fold).toMatchObject({ scope: 'area', count: 300 });
    expect(rig.engine.offlineWhy('home-4')).toEqual({ reason: 'area_outage', alarmId: id });
    expect((await rig.engine.history(id)).filter((e) => e.type === 'escalated')).toHaveLength(1);

    // gw-0 is back: its 50 devices leave the area alarm, and get their own limit from now.
    rig.bus.emit('gatewayStatus', {
      gw: 'gw-0',
      status: { ...ONLINE, ts: new Date(time.clock()).toISOString() },
    });
    time.advance(1_000);
    await rig.engine.idle();
    expect(rig.engine.get(id)).toMatchObject({ state: 'active', fold: { count: 250 } });
    expect(rig.engine.offlineWhy('home-0')).toBeNull();
    expect(rig.engine.list({ state: 'open', limit: 1000 }).map((a) => a.id)).toEqual([id]);

    // Everyone back: cleared, and no gateway or device alarm was ever raised.
    for (let g = 1; g < 6; g++)
      rig.bus.emit('gatewayStatus', {
        gw: `gw-${g}`,
        status: { ...ONLINE, ts: new Date(time.clock()).toISOString() },
      });
    await feed(
      rig.store,
      rig.bus,
      devs.map((d, i) => accepted(gwOf(i), d, estate, time.clock(), 1, { CO: 0 })),
    );
    time.advance(1_000);
    await rig.engine.idle();
    expect(rig.engine.get(id)?.state).toBe('cleared_unacked');
    expect(rig.engine.list({ limit: 1000 }).map((a) => a.id)).toEqual([id]);
  });

  it('12 000 devices of one area silent at once: the sweep takes them in slices and folds all into one area alarm', async () => {
    const time = manualTime(T0);
    rig = await makeRig(CONFIG, { clock: time.clock, timers: time.timers });
    const n = 2 * SWEEP_SLICE + 2_000; // three slices
    // Announced (retained states), never a reading: each is watched from now.
    for (let i = 0; i < n; i++) {
      const dev = `flat-${i}`;
      const gw = `gw-${i % 8}`;
      rig.bus.emit('deviceState', {
        gw,
        dev,
        state: estate,
        device: { gw, dev, state: estate, lastSeen: null },
      });
    }
    // Past the 30-s limit and the 30-s window: the slices of each pass run in turn (timers of 0 ms).
    time.advance(2 * 60_000);
    await rig.engine.idle();
    const open = rig.engine.list({ state: 'open', limit: 1000 });
    expect(open.map((a) => a.key)).toEqual(['area-offline']);
    expect(open[0]?.fold).toMatchObject({ scope: 'area', area: 'town-a', count: n });
    // The first device of the first slice and the last of the last are in it alike.
    expect(rig.engine.offlineWhy('flat-0')).toEqual({ reason: 'area_outage', alarmId: open[0]?.id });
    expect(rig.engine.offlineWhy(`flat-${n - 1}`)).toEqual({ reason: 'area_outage', alarmId: open[0]?.id });
  });

  it('one silent device of an area is still its own alarm, after the fold window', async () => {
    const time = manualTime(T0);
    rig = await makeRig(CONFIG, { clock: time.clock, timers: time.timers });
    await feed(rig.store, rig.bus, [accepted('gw-0', 'home-1', estate, T0, 0, { CO: 0 })]);
    await rig.engine.idle();
    time.advance(31_000 + 29_000); // limit 30 s, then the 30-s window
    expect(rig.engine.list({ state: 'open' })).toEqual([]);
    expect(rig.engine.offlineWhy('home-1')).toEqual({ reason: 'silent', alarmId: null });
    time.advance(2_000);
    expect(rig.engine.list({ state: 'open' }).map((a) => `${a.dev}:${a.key}`)).toEqual(['home-1:offline']);
  });

  it('a restart with the gateway alarm open rebuilds it from the records; no device alarm appears', async () => {
    const time = manualTime(T0);
    const devices = registry();
    rig = await makeRig(CONFIG, { clock: time.clock, timers: time.timers, devices });
    const devs = ids(50, 'co');
    const readings = devs.map((d) => accepted('gw-7', d, plant, T0, 0, { CO: 0 }));
    for (const r of readings) devices.known.set(r.dev, { ...r.device });
    await feed(rig.store, rig.bus, readings);
    await rig.engine.idle();
    rig.bus.emit('gatewayStatus', { gw: 'gw-7', status: { v: 1, online: false } });
    time.advance(60_000);
    await rig.engine.idle();
    const [before] = rig.engine.list({ state: 'open' });
    expect(before?.fold?.count).toBe(50);

    await rig.restart();
    time.advance(5 * 60_000);
    await rig.engine.idle();
    const open = rig.engine.list({ state: 'open', limit: 1000 });
    expect(open.map((a) => a.id)).toEqual([before?.id]);
    expect(open[0]).toMatchObject({ state: 'active', fold: { count: 50 } });
    expect(rig.engine.offlineWhy('co-3')).toEqual({ reason: 'gateway_offline', alarmId: before?.id });

    // The retained status online:true the broker hands the restarted server: cleared.
    rig.bus.emit('gatewayStatus', { gw: 'gw-7', status: ONLINE });
    await rig.engine.idle();
    expect(rig.engine.get(before?.id ?? '')?.state).toBe('cleared_unacked');
  });

  it('a gateway that stops sending its status is offline after fold.gatewayTimeoutS', async () => {
    const time = manualTime(T0);
    rig = await makeRig(
      { ...CONFIG, fold: { gatewayTimeoutS: 20 } },
      { clock: time.clock, timers: time.timers },
    );
    rig.bus.emit('gatewayStatus', { gw: 'gw-3', status: ONLINE });
    await feed(rig.store, rig.bus, [
      accepted('gw-3', 'co-a', plant, T0, 0, { CO: 0 }),
      accepted('gw-3', 'co-b', plant, T0, 0, { CO: 0 }),
    ]);
    await rig.engine.idle();
    time.advance(19_000);
    expect(rig.engine.list({ state: 'open' })).toEqual([]);
    time.advance(60_000);
    const open = rig.engine.list({ state: 'open' });
    expect(open.map((a) => `${a.dev}:${a.key}`)).toEqual(['gw-3:gateway-offline']);
    expect(open[0]?.message).toMatch(/no status for 2\d s/);
    expect(open[0]?.fold?.devices.sort()).toEqual(['co-a', 'co-b']);
  });

  it("a device moved to another gateway folds into its new gateway's alarm, not its old one", async () => {
    const time = manualTime(T0);
    rig = await makeRig(CONFIG, { clock: time.clock, timers: time.timers });
    // co-0..co-3 on gw-a, co-4 on gw-b; then co-2 (in the middle of gw-a's list) and co-3 (its
    // newest) move to gw-b, and co-0 moves away and back.
    const first = ids(5, 'co').map((d, i) => accepted(i < 4 ? 'gw-a' : 'gw-b', d, plant, T0, 0, { CO: 0 }));
    await feed(rig.store, rig.bus, first);
    await rig.engine.idle();
    time.advance(1_000);
    await feed(rig.store, rig.bus, [
      accepted('gw-b', 'co-2', plant, time.clock(), 1, { CO: 0 }),
      accepted('gw-b', 'co-3', plant, time.clock(), 1, { CO: 0 }),
      accepted('gw-b', 'co-0', plant, time.clock(), 1, { CO: 0 }),
    ]);
    await rig.engine.idle();
    time.advance(1_000);
    await feed(rig.store, rig.bus, [accepted('gw-a', 'co-0', plant, time.clock(), 2, { CO: 0 })]);
    await rig.engine.idle();

    rig.bus.emit('gatewayStatus', { gw: 'gw-a', status: { v: 1, online: false } });
    rig.bus.emit('gatewayStatus', { gw: 'gw-b', status: { v: 1, online: false } });
    time.advance(60_000);
    await rig.engine.idle();
    const folds = Object.fromEntries(
      rig.engine.list({ state: 'open', limit: 100 }).map((a) => [a.dev, a.fold?.devices.slice().sort()]),
    );
    expect(folds).toEqual({ 'gw-a': ['co-0', 'co-1'], 'gw-b': ['co-2', 'co-3', 'co-4'] });
  });
});
