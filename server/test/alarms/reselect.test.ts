import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import { accepted, deviceState, MIN, makeRig, type Rig, T0 } from './helpers.js';

/**
 * A device's rules are rebuilt from its stored readings before its first reading is evaluated.
 * When its kind or site changes while that rebuild reads the store, the rules are selected again
 * and must be rebuilt again: not run from an empty state as if they had been.
 */
describe('alarm engine: rules reselected while their state is rebuilt', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('a DeviceState that moves the device while its history is read: the new rules see the history too', async () => {
    let whileReading: (() => void) | undefined;
    // The engine's store: the rig's own, with a hook while the rules' history is being read.
    const store = {
      async queryReadings(q: Parameters<Store['queryReadings']>[0]) {
        const rows = await (rig as Rig).store.queryReadings(q);
        const hook = whileReading;
        whileReading = undefined;
        hook?.();
        return rows;
      },
    } as unknown as Store;
    rig = await makeRig(
      { sites: { 'flat-a': { coStandard: 'en50291' }, 'flat-b': { coStandard: 'ul2034' } } },
      { store },
    );
    const r = rig;
    const atA = deviceState('household-co', 'flat-a');
    // Three hours of 100 ppm CO stored (the drainer wrote them; the engine was not running then):
    // the dose is far above either standard's set point (EN 50291 40 ppm, UL 2034 45 ppm).
    const history = [];
    for (let i = 0; i < 180; i++)
      history.push(accepted('gw', 'boiler-room', atA, T0 + i * MIN, i, { CO: 100 }));
    await r.store.writeReadings(
      history.map((x) => ({
        gw: x.gw,
        dev: x.dev,
        ts: x.ts,
        seq: x.reading.seq,
        values: x.reading.values,
        status: x.reading.status,
        receivedAt: x.receivedAt,
        late: false,
      })),
    );
    // The device's first live reading; while the engine reads its history, a DeviceState says it
    // was moved to flat-b (another CO standard: other rules).
    const atB = deviceState('household-co', 'flat-b');
    whileReading = () =>
      r.bus.emit('deviceState', {
        gw: 'gw',
        dev: 'boiler-room',
        state: atB,
        device: { gw: 'gw', dev: 'boiler-room', state: atB, lastSeen: null },
      });
    const live = accepted('gw', 'boiler-room', atA, T0 + 180 * MIN, 180, { CO: 100 });
    await r.store.writeReadings([
      {
        gw: live.gw,
        dev: live.dev,
        ts: live.ts,
        seq: live.reading.seq,
        values: live.reading.values,
        status: live.reading.status,
        receivedAt: live.receivedAt,
        late: false,
      },
    ]);
    r.bus.emit('reading', live);
    await r.engine.idle();
    expect(whileReading).toBeUndefined();
    // Three hours at 100 ppm: the dose alarm stands, raised in the history.
    expect(r.engine.list({ dev: 'boiler-room' })).toMatchObject([{ key: 'CO:dose', state: 'active' }]);
  });
});
