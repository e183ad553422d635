import { afterEach, describe, expect, it } from 'vitest';
import { accepted, deviceState, feed, makeRig, manualTime, type Rig, T0 } from './helpers.js';

// Fault bursts fold (issue 18): many detectors of one gateway or area reporting the same fault at
// once are one alarm; a lone fault is still its own. Real engine over SQLite and the embedded
// store, simulated wall time (the fault window is wall-clock, as the offline fold's).

const CONFIG = {
  channels: { duty: { type: 'log' } },
  defaults: { steps: [{ name: 'duty room', contacts: [{ name: 'Duty room', channel: 'duty' }] }] },
  sites: { plant: {}, estate: { area: 'town-a' } },
};
const plant = deviceState('household-co', 'plant');
const estate = deviceState('household-co', 'estate');
const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
const COMM = { status: 'fault' as const, faults: ['comm_error'] };

describe('fault bursts fold', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('200 detectors of one gateway with the same fault at once: one alarm with the count and the list; all recovered: cleared, no device alarm', async () => {
    const time = manualTime(T0);
    rig = await makeRig(CONFIG, { clock: time.clock, timers: time.timers });
    const devs = ids(200, 'co');
    await feed(
      rig.store,
      rig.bus,
      devs.map((d) => accepted('gw-bus', d, plant, T0, 0, { CO: 0 })),
    );
    await rig.engine.idle();

    // The gateway's RS-485 bus fails: every detector behind it reports comm_error.
    await feed(
      rig.store,
      rig.bus,
      devs.map((d) => accepted('gw-bus', d, plant, T0 + 1_000, 1, { CO: 0 }, COMM)),
    );
    await rig.engine.idle();
    time.advance(30_000); // past the fault window: nothing is left waiting to raise its own
    await rig.engine.idle();

    const open = rig.engine.list({ state: 'open', limit: 1000 });
    expect(open).toHaveLength(1);
    const burst = open[0];
    expect(burst).toMatchObject({
      dev: 'gw-bus',
      gw: 'gw-bus',
      key: 'fault-burst:comm_error',
      rule: 'fault',
      state: 'active',
      severity: 'warning',
      fold: { scope: 'gateway', count: 200, peak: 200, gateways: ['gw-bus'], fault: 'comm_error' },
    });
    expect(burst?.fold?.devices).toHaveLength(200);
    expect(burst?.message).toMatch(
      /200 detector\(s\) of gateway gw-bus report the same fault \(comm_error\)/,
    );
    expect(rig.engine.list({ kind: 'fault', limit: 1000 })).toHaveLength(1);
    // Each detector's own fault stays known: which alarm stands for it.
    expect(rig.engine.faultFoldOf('co-17')).toEqual({
      scope: 'gateway',
      code: 'comm_error',
      alarmId: burst?.id,
    });
    expect((await rig.engine.history(burst?.id ?? '')).filter((e) => e.type === 'escalated')).toHaveLength(1);

    // Half recover: the alarm shrinks (an event says so).
    const id = burst?.id ?? '';
    await feed(
      rig.store,
      rig.bus,
      devs.slice(0, 100).map((d) => accepted('gw-bus', d, plant, T0 + 2_000, 2, { CO: 0 })),
    );
    await rig.engine.idle();
    time.advance(1_000);
    await rig.engine.idle();
    expect(rig.engine.get(id)).toMatchObject({
      state: 'active',
      value: 100,
      fold: { count: 100, peak: 200 },
    });
    expect(rig.engine.faultFoldOf('co-0')).toBeNull();

    // All recover: cleared (latched until acknowledged), and no device alarm anywhere.
    await feed(
      rig.store,
      rig.bus,
      devs.slice(100).map((d) => accepted('gw-bus', d, plant, T0 + 3_000, 2, { CO: 0 })),
    );
    await rig.engine.idle();
    time.advance(1_000);
    await rig.engine.idle();
    expect(rig.engine.get(id)?.state).toBe('cleared_unacked');
    expect(rig.engine.list({ state: 'open', limit: 1000 }).map((a) => a.id)).toEqual([id]);
    expect(rig.engine.list({ limit: 1000 })).toHaveLength(1);
  });

  it('a lone fault still raises its own alarm, at the time the detector reported it, after the window', async () => {
    const time = manualTime(T0);
    rig = await makeRig(CONFIG, { clock: time.clock, timers: time.timers });
    await feed(rig.store, rig.bus, [
      accepted('gw-0', 'co-lone', estate, T0, 0, { CO: 0 }, { status: 'fault', faults: ['sensor_eol'] }),
    ]);
    await rig.engine.idle();
    // It waits the window (10 s) for others of its gateway or area with the same fault.
    time.advance(5_000);
    expect(rig.engine.list({ state: 'open' })).toEqual([]);
    time.advance(6_000);
    const open = rig.engine.list({ state: 'open' });
    expect(open.map((a) => `${a.dev}:${a.key}`)).toEqual(['co-lone:fault']);
    expect(open[0]?.raisedAt).toBe(T0);
    expect(open[0]?.fold).toBeUndefined();
    expect(rig.engine.faultFoldOf('co-lone')).toBeNull();
  });

  it('fewer than the minimum, or different faults: each its own alarm; the same fault across gateways of one area: one area alarm', async () => {
    const time = manualTime(T0);
    rig = await makeRig(CONFIG, { clock: time.clock, timers: time.timers });
    // Five of one gateway with comm_error, and five of it with another code: below 10 each.
    const few = ids(10, 'few');
    await feed(
      rig.store,
      rig.bus,
      few.map((d, i) =>
        accepted(
          'gw-few',
          d,
          plant,
          T0,
          0,
          { CO: 0 },
          i < 5 ? COMM : { status: 'fault', faults: ['sensor_eol'] },
        ),
      ),
    );
    // Twelve of one area behind four gateways, the same fault: one area alarm.
    const homes = ids(12, 'home');
    await feed(
      rig.store,
      rig.bus,
      homes.map((d, i) => accepted(`gw-a${i % 4}`, d, estate, T0, 0, { CO: 0 }, COMM)),
    );
    await rig.engine.idle();
    time.advance(11_000);
    await rig.engine.idle();
    const open = rig.engine.list({ state: 'open', limit: 1000 });
    expect(
      open
        .filter((a) => a.key === 'fault')
        .map((a) => a.dev)
        .sort(),
    ).toEqual([...few].sort());
    const area = open.filter((a) => a.key !== 'fault');
    expect(area).toHaveLength(1);
    expect(area[0]).toMatchObject({
      dev: 'town-a',
      key: 'fault-burst:comm_error',
      fold: { scope: 'area', area: 'town-a', count: 12, gateways: ['gw-a0', 'gw-a1', 'gw-a2', 'gw-a3'] },
    });
  });

  it('a restart with a burst open takes its detectors back: still faulty, none gets its own; recovered, it clears', async () => {
    const time = manualTime(T0);
    rig = await makeRig(CONFIG, { clock: time.clock, timers: time.timers });
    const devs = ids(30, 'co');
    await feed(
      rig.store,
      rig.bus,
      devs.map((d) => accepted('gw-bus', d, plant, T0, 0, { CO: 0 }, COMM)),
    );
    await rig.engine.idle();
    time.advance(1_000); // the sweep records who joined since the alarm was raised with 10
    await rig.engine.idle();
    const [before] = rig.engine.list({ state: 'open' });
    expect(before?.fold?.count).toBe(30);

    await rig.restart();
    // Five still faulty after the restart (too few for a burst of their own): they are the
    // stored burst's, past the window too.
    await feed(
      rig.store,
      rig.bus,
      devs.slice(0, 5).map((d) => accepted('gw-bus', d, plant, T0 + 10_000, 1, { CO: 0 }, COMM)),
    );
    await rig.engine.idle();
    time.advance(15_000);
    await rig.engine.idle();
    expect(rig.engine.list({ state: 'open', limit: 1000 }).map((a) => a.id)).toEqual([before?.id]);
    expect(rig.engine.faultFoldOf('co-4')).toMatchObject({ alarmId: before?.id, code: 'comm_error' });

    await feed(
      rig.store,
      rig.bus,
      devs.map((d) => accepted('gw-bus', d, plant, T0 + 20_000, 2, { CO: 0 })),
    );
    await rig.engine.idle();
    time.advance(1_000);
    expect(rig.engine.get(before?.id ?? '')?.state).toBe('cleared_unacked');
    expect(rig.engine.list({ limit: 1000 })).toHaveLength(1);
  });

  it('fold.faultMinDevices 0: every fault alarm at once, as before', async () => {
    rig = await makeRig({ ...CONFIG, fold: { faultMinDevices: 0 } });
    const devs = ids(20, 'co');
    await feed(
      rig.store,
      rig.bus,
      devs.map((d) => accepted('gw-bus', d, plant, T0, 0, { CO: 0 }, COMM)),
    );
    await rig.engine.idle();
    expect(rig.engine.list({ state: 'open', limit: 1000 }).map((a) => a.key)).toEqual(
      Array(20).fill('fault'),
    );
  });
});
