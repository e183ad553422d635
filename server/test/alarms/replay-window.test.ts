import { afterEach, describe, expect, it } from 'vitest';
import { REPLAY_MAX_SAMPLES } from '../../src/alarms/engine.js';
import { accepted, deviceState, feed, MIN, makeRig, type Rig, T0 } from './helpers.js';

/**
 * The replay buffer of a device keeps its last 300 samples (15 min); older ones are folded into the
 * rule state the replay starts from. These runs are long enough that samples leave the buffer, so
 * a late reading is replayed from a folded state (see docs/alarm-engine.md, out of order).
 */
describe('alarm engine: late readings after samples left the replay buffer', () => {
  const rigs: Rig[] = [];
  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.close();
  });

  it('a late reading replayed from the folded state leaves the same alarms as the same readings in order', async () => {
    const home = deviceState('household-co', 'home');
    // 2 s apart: CO 120 ppm for 250 samples, clean air, then 120 ppm again after the late reading.
    // The alarms of the second exposure depend on the rule state built from the first one (folded).
    const co = (i: number) => ((i >= 100 && i < 350) || i >= 700 ? 120 : i === 550 ? 400 : 0);
    const row = (i: number, late = false) =>
      accepted(
        'gw-f',
        'co-f',
        home,
        T0 + i * 2000,
        i,
        { CO: co(i) },
        late ? { late, receivedAt: T0 + 40 * MIN } : {},
      );
    const inOrder = Array.from({ length: 1200 }, (_, i) => row(i));

    const a = await makeRig({});
    rigs.push(a);
    await feed(a.store, a.bus, inOrder);
    await a.engine.idle();

    const b = await makeRig({});
    rigs.push(b);
    await feed(
      b.store,
      b.bus,
      inOrder.filter((r) => r.ts < T0 + 700 * 2000 && r.reading.seq !== 550),
    );
    await b.engine.idle();
    await feed(b.store, b.bus, [row(550, true)]);
    await b.engine.idle();
    await feed(
      b.store,
      b.bus,
      inOrder.filter((r) => r.ts >= T0 + 700 * 2000),
    );
    await b.engine.idle();

    const view = (r: Rig) =>
      r.engine
        .list({ dev: 'co-f' })
        .map((x) => [x.key, x.state, x.raisedAt, x.clearedAt])
        .sort();
    expect(view(a).length).toBeGreaterThan(0);
    expect(view(b)).toEqual(view(a));
    expect(await b.registry.getSingleMetricAsString('gaswatch_alarm_readings_skipped_total')).not.toMatch(
      /reason="out_of_order"/,
    );
  });

  it(`replays a reading newer than the last sample that left the buffer, not an older one (${REPLAY_MAX_SAMPLES} kept)`, async () => {
    const lel = deviceState('combustible', 'plant');
    const rig = await makeRig({});
    rigs.push(rig);
    const n = REPLAY_MAX_SAMPLES + 100;
    const rows = Array.from({ length: n }, (_, i) =>
      accepted('gw-w', 'lel-w', lel, T0 + i * 1000, i, { LEL: 0 }),
    );
    await feed(rig.store, rig.bus, rows);
    await rig.engine.idle();
    const skipped = async () =>
      /reason="out_of_order"[^\n]* (\d+)/.exec(
        await rig.registry.getSingleMetricAsString('gaswatch_alarm_readings_skipped_total'),
      )?.[1] ?? '0';
    // Samples 0..99 left the buffer; a spike between 99 and 100 s is replayed and raises its alarm.
    const late = (ms: number) =>
      accepted('gw-w', 'lel-w', lel, T0 + ms, 0, { LEL: 60 }, { late: true, receivedAt: T0 + n * 1000 });
    await feed(rig.store, rig.bus, [late(98_500)]);
    await rig.engine.idle();
    expect(await skipped()).toBe('1');
    expect(rig.engine.list({ dev: 'lel-w' })).toEqual([]);
    await feed(rig.store, rig.bus, [late(99_500)]);
    await rig.engine.idle();
    expect(await skipped()).toBe('1');
    expect(
      rig.engine
        .list({ dev: 'lel-w' })
        .map((x) => [x.key, x.raisedAt, x.clearedAt, x.late])
        .sort(),
    ).toEqual([
      ['LEL:high', T0 + 99_500, T0 + 100_000, true],
      ['LEL:low', T0 + 99_500, T0 + 100_000, true],
    ]);
  });
});
