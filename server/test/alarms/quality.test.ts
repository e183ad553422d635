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
    rig = await makeRig({ sites: { home: { household: 'ul2034' } } });
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
