import { afterEach, describe, expect, it } from 'vitest';
import { deviceState, feed, makeRig, type Rig, series, T0 } from './helpers.js';

const home = deviceState('household-co', 'home');

describe("alarm engine: an over-range channel (quality 'bad')", () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('a household CO detector over range (1000 ppm, bad) alarms under UL 2034 and survives a restart', async () => {
    rig = await makeRig({ sites: { home: { coStandard: 'ul2034' } } });
    const over = (from: number, to: number, seq0: number) =>
      series('gw-q', 'co-q', home, T0 + from * 1000, T0 + to * 1000, 10, { CO: 1000 }, seq0).map((r) => ({
        ...r,
        reading: { ...r.reading, quality: { CO: 'bad' as const } },
      }));
    await feed(rig.store, rig.bus, over(0, 600, 0));
    await rig.engine.idle();
    const open = rig.engine.list({ state: 'open', dev: 'co-q' });
    // τ·ln(1000/955) = 4.14 min → the 250 s reading.
    expect(open.map((a) => [a.key, a.raisedAt])).toEqual([['CO:dose', T0 + 250_000]]);
    await rig.restart();
    await feed(rig.store, rig.bus, over(600, 700, 60));
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'co-q' }).map((a) => [a.id, a.state])).toEqual([[open[0]?.id, 'active']]);
  });
});

describe('alarm engine rebuild: stored readings keep their quality', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it("a channel gone 'bad' (reads 0) cannot clear a CO dose alarm, before or after a restart", async () => {
    rig = await makeRig({ sites: { home: { coStandard: 'ul2034' } } });
    // 40 min at 150 ppm: the UL 2034 dose alarm rises at ~32 min.
    await feed(rig.store, rig.bus, series('gw-q', 'co-b', home, T0, T0 + 40 * 60_000, 10, { CO: 150 }));
    // Then the sensor fails low: 30 min of 0 ppm marked 'bad'. Taken at face value the dose would
    // fall to ~39 ppm, under the 40.5 clear level; a doubtful value must not clear the alarm.
    const failedLow = (fromMin: number, toMin: number, seq0: number) =>
      series('gw-q', 'co-b', home, T0 + fromMin * 60_000, T0 + toMin * 60_000, 10, { CO: 0 }, seq0).map(
        (r) => ({
          ...r,
          reading: { ...r.reading, quality: { CO: 'bad' as const } },
        }),
      );
    await feed(rig.store, rig.bus, failedLow(40, 70, 240));
    await rig.engine.idle();
    const [alarm] = rig.engine.list({ dev: 'co-b' });
    expect(alarm).toMatchObject({ key: 'CO:dose', state: 'active' });

    await rig.restart();
    await feed(rig.store, rig.bus, failedLow(70, 75, 420));
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'co-b' }).map((a) => [a.id, a.state])).toEqual([[alarm?.id, 'active']]);
  });
});
