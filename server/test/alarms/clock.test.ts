import { afterEach, describe, expect, it } from 'vitest';
import { currentTimeline } from '../../src/alarms/engine.js';
import type { AlarmTransition } from '../../src/bus.js';
import { accepted, deviceState, feed, MIN, makeRig, type Rig, series, T0 } from './helpers.js';

const home = deviceState('household-co', 'home');
const DAY = 24 * 60 * MIN;

/**
 * A Raspberry Pi has no real-time clock: a gateway may stamp readings a day ahead for a while and
 * then get corrected. The rules must neither mute the device nor forget the exposure so far.
 */
describe('alarm engine: gateway clock errors', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('a reading stamped a day ahead, then the clock corrected: the open CO alarm stays open (no false clear, no second alarm)', async () => {
    rig = await makeRig({});
    const seen: AlarmTransition[] = [];
    rig.bus.on('alarm', (t) => seen.push(t));
    // 150 ppm for 30 min: EN 50291 slow tier raises at 45·ln(150/110) = 13.96 min.
    await feed(rig.store, rig.bus, series('gw-c', 'co-c', home, T0, T0 + 30 * MIN, 10, { CO: 150 }));
    await rig.engine.idle();
    const [alarm] = rig.engine.list({ state: 'open', dev: 'co-c' });
    expect(alarm).toMatchObject({ key: 'CO:dose', state: 'active' });

    // One reading from a clock a day ahead (ingest flags it clockSuspect), then real time again.
    await feed(rig.store, rig.bus, [
      accepted(
        'gw-c',
        'co-c',
        home,
        T0 + 30 * MIN + DAY,
        180,
        { CO: 150 },
        {
          receivedAt: T0 + 30 * MIN,
          clockSuspect: true,
        },
      ),
    ]);
    await feed(
      rig.store,
      rig.bus,
      series('gw-c', 'co-c', home, T0 + 30 * MIN + 10_000, T0 + 40 * MIN, 10, { CO: 150 }, 181),
    );
    await rig.engine.idle();
    expect(rig.engine.get(alarm?.id ?? '')?.state).toBe('active');
    expect(seen.filter((t) => t.type === 'cleared')).toEqual([]);
    expect(rig.engine.list({ dev: 'co-c' })).toHaveLength(1);
    expect(await rig.registry.getSingleMetricAsString('gaswatch_alarm_readings_skipped_total')).toMatch(
      /reason="clock_jump_reset"} 1/,
    );
  });

  it('a resend from a gateway whose clock runs 2 min ahead is a late reading, not a clock correction', async () => {
    rig = await makeRig({});
    const lel = deviceState('combustible', 'plant');
    const AHEAD = 2 * MIN;
    const rows = [];
    for (let i = 0; i <= 60; i++)
      rows.push(
        accepted(
          'gw-c',
          'lel-c',
          lel,
          T0 + AHEAD + i * 10_000,
          i,
          { LEL: i === 30 ? 60 : 0 },
          {
            receivedAt: T0 + i * 10_000,
          },
        ),
      );
    const resent = rows[30];
    await feed(rig.store, rig.bus, rows.slice(0, 30).concat(rows.slice(31, 34)));
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'lel-c' })).toEqual([]);
    // The stranded reading is resent 40 s later, after three successors (not late by ingest's 60 s).
    if (resent) await feed(rig.store, rig.bus, [{ ...resent, receivedAt: T0 + 340_000 }]);
    await feed(rig.store, rig.bus, rows.slice(34));
    await rig.engine.idle();
    expect(
      rig.engine
        .list({ dev: 'lel-c' })
        .map((a) => [a.key, a.raisedAt, a.late])
        .sort(),
    ).toEqual([
      ['LEL:high', T0 + AHEAD + 300_000, true],
      ['LEL:low', T0 + AHEAD + 300_000, true],
    ]);
    expect(await rig.registry.getSingleMetricAsString('gaswatch_alarm_readings_skipped_total')).not.toMatch(
      /reason="clock_jump_reset"/,
    );
  });

  /**
   * A Pi without a real-time clock loses power for 3 h and reboots with the time it saved 40 min
   * before its last reading (fake-hwclock, no NTP): its new readings are stamped before what the
   * server already saw, arrive "late" by 3 h 40 min, yet carry the next seqs.
   */
  for (const offsetMs of [0, 3_000])
    it(`a gateway clock set back 40 min (seq moving on${offsetMs === 0 ? '' : ', timestamps between the old ones'}): 400 ppm still raises CO:fast 2 min in, in the gateway's time`, async () => {
      rig = await makeRig({});
      const seen: AlarmTransition[] = [];
      rig.bus.on('alarm', (t) => seen.push(t));
      let seq = 0;
      const before = [];
      for (let t = T0; t < T0 + 60 * MIN; t += 10_000)
        before.push(accepted('gw-c', 'co-r', home, t, seq++, { CO: 0 }, { receivedAt: t }));
      await feed(rig.store, rig.bus, before);
      await rig.engine.idle();
      const after = [];
      const from = T0 + 20 * MIN + offsetMs;
      for (let i = 0; i < 180; i++) {
        const ts = from + i * 10_000;
        const wall = T0 + 240 * MIN + i * 10_000;
        after.push(accepted('gw-c', 'co-r', home, ts, seq++, { CO: 400 }, { receivedAt: wall, late: true }));
      }
      await feed(rig.store, rig.bus, after);
      await rig.engine.idle();
      const fast = rig.engine.list({ dev: 'co-r' }).find((a) => a.key === 'CO:fast');
      expect(fast).toMatchObject({ state: 'active', raisedAt: from + 2 * MIN, late: false });
      expect(seen.find((t) => t.type === 'raised' && t.key === 'CO:fast')).toBeDefined();
      const metrics = await rig.registry.metrics();
      expect(metrics).toMatch(/gaswatch_alarm_rule_rebuilds_total\{reason="clock_reset"\} 1/);
      expect(metrics).not.toMatch(/reason="out_of_order"/);
    });

  it('a genuine late resend (older timestamp and older seq, beyond the replay window) is still stored, not evaluated, and rebuilds nothing', async () => {
    rig = await makeRig({});
    const rows = series('gw-c', 'co-l', home, T0, T0 + 60 * MIN, 10, { CO: 0 });
    await feed(rig.store, rig.bus, rows);
    await rig.engine.idle();
    // Seq 10 again (ts 100 s), resent from the outbox 1 h later, now with a value that would alarm.
    const resend = accepted(
      'gw-c',
      'co-l',
      home,
      T0 + 100_000,
      10,
      { CO: 999 },
      {
        receivedAt: T0 + 60 * MIN,
        late: true,
      },
    );
    await feed(rig.store, rig.bus, [resend]);
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'co-l' })).toEqual([]);
    const metrics = await rig.registry.metrics();
    expect(metrics).toMatch(/gaswatch_alarm_readings_skipped_total\{reason="out_of_order"\} 1/);
    expect(metrics).not.toMatch(/gaswatch_alarm_rule_rebuilds_total\{/);
  });

  it('a server restart during the episode after a clock reset rebuilds the new timeline, not a mix of both: the alarm stays open', async () => {
    const devices = { all: () => [{ gw: 'gw-c', dev: 'co-m', state: home, lastSeen: T0 }] };
    rig = await makeRig({}, { devices });
    const seen: AlarmTransition[] = [];
    let seq = 0;
    const before = [];
    for (let t = T0; t < T0 + 60 * MIN; t += 10_000)
      before.push(accepted('gw-c', 'co-m', home, t, seq++, { CO: 0 }, { receivedAt: t }));
    await feed(rig.store, rig.bus, before);
    const after = [];
    const from = T0 + 20 * MIN + 3_000;
    for (let i = 0; i < 180; i++)
      after.push(
        accepted(
          'gw-c',
          'co-m',
          home,
          from + i * 10_000,
          seq++,
          { CO: 400 },
          {
            receivedAt: T0 + 240 * MIN + i * 10_000,
            late: true,
          },
        ),
      );
    await feed(rig.store, rig.bus, after.slice(0, 60));
    await rig.engine.idle();
    const [fast] = rig.engine.list({ dev: 'co-m' }).filter((a) => a.key === 'CO:fast');
    expect(fast).toMatchObject({ state: 'active', raisedAt: from + 2 * MIN });

    await rig.restart();
    rig.bus.on('alarm', (t) => seen.push(t));
    await feed(rig.store, rig.bus, after.slice(60));
    await rig.engine.idle();
    // Stored rows interleave the old timeline (0 ppm) with the new one (400 ppm); replaying both
    // would restart the 2-min on-delay every other sample and clear the alarm.
    expect(seen.filter((t) => t.type === 'cleared')).toEqual([]);
    expect(rig.engine.get(fast?.id ?? '')?.state).toBe('active');
    expect(rig.engine.list({ dev: 'co-m' }).filter((a) => a.key === 'CO:fast')).toHaveLength(1);
  });

  it('the rebuild keeps a gateway whose seq store was wiped (seq restarts at 0, time moves on) whole', () => {
    const row = (ts: number, seq: number) => ({ ts, seq, values: { CO: 0 } });
    const old = [0, 1, 2, 3].map((i) => row(T0 + i * 10_000, 5_000 + i));
    const fresh = [0, 1, 2].map((i) => row(T0 + MIN + i * 10_000, i));
    expect(currentTimeline([...fresh, ...old]).map((r) => r.seq)).toEqual([
      5_000, 5_001, 5_002, 5_003, 0, 1, 2,
    ]);
    // Set back instead: seq moves on, time goes back into the earlier rows, whose tail is left out.
    const back = [0, 1].map((i) => row(T0 + 15_000 + i * 10_000, 5_004 + i));
    expect(currentTimeline([...old, ...back]).map((r) => r.seq)).toEqual([5_000, 5_001, 5_004, 5_005]);
  });
});
