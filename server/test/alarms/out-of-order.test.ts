import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmTransition } from '../../src/bus.js';
import { accepted, deviceState, feed, MIN, makeRig, type Rig, T0 } from './helpers.js';

const lel = deviceState('combustible', 'plant');
const S = 1000;

/**
 * SPEC §6: readings that arrive late "still raise the alarms they imply, marked late — never
 * silently dropped". A gateway's forwarder resends a reading whose PUBACK did not come (after
 * 60 s) while later ones have already gone out, so one reading can arrive after its successors.
 */
describe('alarm engine: a reading that arrives after later ones', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  const reading = (s: number, v: number, late = false) =>
    accepted(
      'gw-o',
      'lel-o',
      lel,
      T0 + s * S,
      s / 10,
      { LEL: v },
      late ? { late, receivedAt: T0 + 11 * MIN } : {},
    );

  it('a 60 %LEL spike resent after its successors raises both stages, at its own time, marked late and latched', async () => {
    rig = await makeRig({});
    const seen: AlarmTransition[] = [];
    rig.bus.on('alarm', (t) => seen.push(t));
    const inOrder = [];
    for (let s = 0; s <= 600; s += 10) if (s !== 300) inOrder.push(reading(s, 0));
    await feed(rig.store, rig.bus, inOrder);
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'lel-o' })).toEqual([]);

    await feed(rig.store, rig.bus, [reading(300, 60, true)]);
    await rig.engine.idle();
    const alarms = rig.engine.list({ dev: 'lel-o' });
    expect(alarms.map((a) => [a.key, a.severity, a.state, a.raisedAt, a.clearedAt, a.late]).sort()).toEqual([
      ['LEL:high', 'critical', 'cleared_unacked', T0 + 300 * S, T0 + 310 * S, true],
      ['LEL:low', 'warning', 'cleared_unacked', T0 + 300 * S, T0 + 310 * S, true],
    ]);
    expect(seen.map((t) => `${t.type}:${t.key}:${t.late}`).sort()).toEqual([
      'cleared:LEL:high:true',
      'cleared:LEL:low:true',
      'raised:LEL:high:true',
      'raised:LEL:low:true',
    ]);
    expect(await rig.registry.getSingleMetricAsString('gaswatch_alarm_readings_skipped_total')).not.toMatch(
      /reason="out_of_order"/,
    );
  });

  it('a late reading that changes nothing adds no transition to alarms already raised, latched or open', async () => {
    rig = await makeRig({});
    const seen: AlarmTransition[] = [];
    const rows = [];
    // LEL 30 from 100 s to 190 s (first stage raised at 100, latched at 200), and again from 400 s
    // on (the latched alarm raised again).
    for (let s = 0; s <= 600; s += 10) rows.push(reading(s, (s >= 100 && s < 200) || s >= 400 ? 30 : 0));
    const held = rows.filter((r) => r.ts === T0 + 150 * S || r.ts === T0 + 250 * S || r.ts === T0 + 450 * S);
    await feed(
      rig.store,
      rig.bus,
      rows.filter((r) => !held.includes(r)),
    );
    await rig.engine.idle();
    const before = rig.engine.list({ dev: 'lel-o' }).map((a) => [a.id, a.state, a.seq]);
    expect(before.map((b) => b[1])).toEqual(['active']);
    expect((await rig.engine.history(String(before[0]?.[0]))).map((e) => e.type)).toEqual([
      'raised',
      'cleared',
      'reraised',
    ]);
    rig.bus.on('alarm', (t) => seen.push(t));
    for (const r of held) await feed(rig.store, rig.bus, [{ ...r, late: true }]);
    await rig.engine.idle();
    expect(seen).toEqual([]);
    expect(rig.engine.list({ dev: 'lel-o' }).map((a) => [a.id, a.state, a.seq])).toEqual(before);
  });

  it('a resent reading inside an alarm that is open still counts: the open alarm is the same, nothing cleared', async () => {
    rig = await makeRig({});
    const seen: AlarmTransition[] = [];
    rig.bus.on('alarm', (t) => seen.push(t));
    const rows = [];
    for (let s = 0; s <= 300; s += 10) rows.push(reading(s, s >= 100 ? 60 : 0));
    const held = rows.find((r) => r.ts === T0 + 200 * S);
    await feed(
      rig.store,
      rig.bus,
      rows.filter((r) => r !== held),
    );
    await rig.engine.idle();
    if (held) await feed(rig.store, rig.bus, [{ ...held, late: true }]);
    await rig.engine.idle();
    expect(seen.filter((t) => t.type === 'cleared')).toEqual([]);
    expect(
      rig.engine
        .list({ dev: 'lel-o' })
        .map((a) => [a.key, a.state, a.raisedAt])
        .sort(),
    ).toEqual([
      ['LEL:high', 'active', T0 + 100 * S],
      ['LEL:low', 'active', T0 + 100 * S],
    ]);
  });

  it('a late reading that starts an episode earlier than seen is not a second alarm for that episode', async () => {
    rig = await makeRig({});
    const rows = [];
    for (let s = 0; s <= 600; s += 10) rows.push(reading(s, s >= 290 && s < 400 ? 30 : 0));
    const held = rows.find((r) => r.ts === T0 + 290 * S);
    await feed(
      rig.store,
      rig.bus,
      rows.filter((r) => r !== held),
    );
    await rig.engine.idle();
    const [a] = rig.engine.list({ dev: 'lel-o' });
    expect(a).toMatchObject({ key: 'LEL:low', raisedAt: T0 + 300 * S, state: 'cleared_unacked' });
    await rig.engine.acknowledge(a?.id ?? '', { actor: 'op', note: 'vented' });
    if (held) await feed(rig.store, rig.bus, [{ ...held, late: true }]);
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'lel-o' }).map((x) => [x.id, x.state])).toEqual([[a?.id, 'cleared']]);
  });

  it('a late spike after a latched episode of the same condition re-raises that alarm (as live would)', async () => {
    rig = await makeRig({});
    const rows = [];
    for (let s = 0; s <= 600; s += 10) rows.push(reading(s, s === 100 ? 30 : 0));
    await feed(
      rig.store,
      rig.bus,
      rows.filter((r) => r.ts !== T0 + 400 * S),
    );
    await rig.engine.idle();
    const [a] = rig.engine.list({ dev: 'lel-o' });
    expect(a).toMatchObject({ key: 'LEL:low', state: 'cleared_unacked', clearedAt: T0 + 110 * S });
    await feed(rig.store, rig.bus, [reading(400, 30, true)]);
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'lel-o' }).map((x) => x.id)).toEqual([a?.id]);
    expect((await rig.engine.history(a?.id ?? '')).map((e) => `${e.type}${e.late ? ' late' : ''}`)).toEqual([
      'raised',
      'cleared',
      'reraised late',
      'cleared',
    ]);
    expect(rig.engine.get(a?.id ?? '')).toMatchObject({ state: 'cleared_unacked', clearedAt: T0 + 410 * S });
  });
});
