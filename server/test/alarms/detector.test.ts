import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmTransition } from '../../src/bus.js';
import { accepted, deviceState, feed, MIN, makeRig, type Rig, T0 } from './helpers.js';

const lel = deviceState('combustible', 'canteen');

/** The detector's own alarm output (Reading.alarm) through the engine: condition 'detector'. */
describe("alarm engine: the detector's own alarm output", () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('alarm:true in clean air raises one critical detector alarm; false ends it; ack silences the gateway', async () => {
    rig = await makeRig({});
    const seen: AlarmTransition[] = [];
    rig.bus.on('alarm', (t) => seen.push(t));
    const at = (m: number, alarm: boolean | undefined, seq: number) =>
      accepted('gw-d', 'lel-d', lel, T0 + m * MIN, seq, { LEL: 0 }, alarm === undefined ? {} : { alarm });
    await feed(rig.store, rig.bus, [at(0, false, 0), at(1, true, 1), at(2, true, 2), at(3, undefined, 3)]);
    await rig.engine.idle();
    const open = rig.engine.list({ state: 'open', dev: 'lel-d' });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({
      key: 'detector',
      rule: 'detector',
      severity: 'critical',
      state: 'active',
      raisedAt: T0 + MIN,
      message: "detector's own alarm output on",
    });
    const id = open[0]?.id ?? '';
    const res = await rig.engine.acknowledge(id, { actor: 'op', note: 'checked the kitchen' });
    expect(res.silence.sent).toBe(true);
    expect(rig.commands.at(-1)).toMatchObject({ gw: 'gw-d', cmd: { type: 'silence', alarmId: id } });

    await feed(rig.store, rig.bus, [at(4, false, 4)]);
    await rig.engine.idle();
    expect(rig.engine.get(id)).toMatchObject({ state: 'cleared', clearedAt: T0 + 4 * MIN });
    expect(seen.filter((t) => t.type === 'raised').map((t) => t.key)).toEqual(['detector']);
  });

  it('a detector alarm open before a restart is the same alarm after it, and clears on alarm:false', async () => {
    rig = await makeRig({});
    const at = (m: number, alarm: boolean, seq: number) =>
      accepted('gw-d', 'lel-r', lel, T0 + m * MIN, seq, { LEL: 0 }, { alarm });
    await feed(rig.store, rig.bus, [at(0, true, 0), at(1, true, 1)]);
    await rig.engine.idle();
    const [before] = rig.engine.list({ state: 'open', dev: 'lel-r' });
    expect(before?.key).toBe('detector');
    await rig.restart();
    await feed(rig.store, rig.bus, [at(2, true, 2)]);
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'lel-r' }).map((a) => a.id)).toEqual([before?.id]);
    await feed(rig.store, rig.bus, [at(3, false, 3)]);
    await rig.engine.idle();
    expect(rig.engine.get(before?.id ?? '')?.state).toBe('cleared_unacked');
  });
});
