/**
 * The device registry's seq tracking across a server restart: the readings the journal and the
 * store already hold are seeded, so a gap never opens over them, but only over the gateway's
 * current count.
 */
import type { DeviceState, Reading } from '@gaswatch/shared';
import { describe, expect, it } from 'vitest';
import { decodeWindow, encodeWindow, windowHas } from '../src/ingest/dedup-window.js';
import { createDeviceRegistry, DEDUP_SPAN_MS, iso } from '../src/ingest/devices.js';
import { SlotTable } from '../src/ingest/slot-table.js';

const NOW = Date.parse('2026-11-24T03:00:00Z');
const at = (s: number) => NOW - 3_600_000 + s * 1_000;
const reading = (seq: number, ts: number): Reading => ({
  v: 1,
  ts: new Date(ts).toISOString(),
  seq,
  values: { CO: 1 },
  status: 'ok',
});

function restarted(stored: { seq: number; ts: number }[]) {
  const devices = createDeviceRegistry();
  devices.seed('gw', 'co', stored);
  const see = (seq: number, ts: number) => devices.observeReading('gw', 'co', reading(seq, ts), ts, NOW);
  return { see, gaps: () => devices.get('co')?.seqGaps };
}

describe('seq gaps after a restart', () => {
  it('no gap over seqs stored before it, when a late redelivery comes first', () => {
    // 0..5 and 7..9 stored; 6 was still at the broker.
    const r = restarted([0, 1, 2, 3, 4, 5, 7, 8, 9].map((seq) => ({ seq, ts: at(seq) })));
    r.see(6, at(6));
    expect(r.see(8, at(8)), 'a redelivery of a stored reading is a duplicate').toBeNull();
    r.see(10, at(10));
    expect(r.gaps()).toBe(0);
    r.see(13, at(13));
    expect(r.gaps(), 'a real gap is still counted').toBe(2);
  });

  it('seqs of an earlier count (the gateway lost its seq file) do not hide a real gap', () => {
    // Old count 0..2999 an hour ago, then the gateway restarted its count: 0..199 stored.
    const old = Array.from({ length: 3000 }, (_, seq) => ({ seq, ts: at(seq / 10) }));
    const now = Array.from({ length: 200 }, (_, seq) => ({ seq, ts: at(400 + seq) }));
    const r = restarted([...old, ...now]);
    r.see(200, at(600));
    // 201..299 are lost (the gateway's outbox overflowed); the old 201..299 are no excuse.
    r.see(300, at(700));
    expect(r.gaps()).toBe(99);
  });

  it('old-count seqs do not hide a gap when the gateway clock is far ahead either', () => {
    // Only the old count is stored; the gateway lost its seq file and its clock is 10 min ahead.
    const r = restarted(Array.from({ length: 3000 }, (_, seq) => ({ seq, ts: at(seq / 10) })));
    const ahead = NOW + 600_000;
    r.see(0, ahead);
    r.see(5, ahead + 5_000);
    expect(r.gaps()).toBe(4);
  });

  it('a gateway clock set back (NTP) between stored readings counts no gap', () => {
    // Seqs 0..100 stamped 3 min fast, then the clock was set back; 0..300 stored except 150.
    const ts = (seq: number) => at(seq) + (seq <= 100 ? 180_000 : 0);
    const r = restarted(
      Array.from({ length: 301 }, (_, seq) => seq)
        .filter((seq) => seq !== 150)
        .map((seq) => ({ seq, ts: ts(seq) })),
    );
    r.see(150, ts(150));
    r.see(301, ts(301));
    expect(r.gaps()).toBe(0);
  });
});

describe('de-duplication window (issue 18: bounded per device)', () => {
  it('a device reporting once a minute still knows its resends from the last 15 minutes', () => {
    const devices = createDeviceRegistry();
    const t0 = NOW - 600 * 60_000;
    const see = (seq: number) =>
      devices.observeReading('gw', 'co', reading(seq, t0 + seq * 60_000), t0 + seq * 60_000, NOW);
    for (let seq = 0; seq < 500; seq++) expect(see(seq)).not.toBeNull();
    // The newest, and one from 10 minutes before it, come again (lost PUBACKs): duplicates.
    expect(see(499)).toBeNull();
    expect(see(489)).toBeNull();
    expect(devices.get('co')?.readings).toBe(500);
  });

  it('a device reporting every second knows its last 128 resends, in any order', () => {
    const devices = createDeviceRegistry();
    const see = (seq: number) => devices.observeReading('gw', 'fast', reading(seq, at(seq)), at(seq), NOW);
    for (let seq = 0; seq < 1_000; seq++) see(seq);
    for (const seq of [999, 900, 950, 873]) expect(see(seq)).toBeNull();
  });
});

describe('the record keeps the last reading and the state as numbers and parts (issue 18)', () => {
  it('hands them back as they came: every field, and each time as it was written', () => {
    const devices = createDeviceRegistry();
    const state: DeviceState = {
      v: 1,
      ts: '2026-11-24T11:00:00+08:00', // an offset: kept as written
      online: false,
      model: 'gaswatch-co',
      kind: 'household-co',
      site: 'home-7',
      location: '厨房',
      lastError: 'no answer',
    };
    devices.observeState('gw', 'co', state);
    expect(devices.get('co')?.state).toEqual(state);
    const plain = reading(3, at(3));
    devices.observeReading('gw', 'co', plain, at(3), NOW);
    expect(devices.get('co')?.lastReading).toEqual(plain);
    expect(devices.get('co')?.lastTs).toBe(at(3));
    const said: Reading = {
      v: 1,
      ts: '2026-11-24T02:05:00Z', // no milliseconds: kept as written
      seq: 4,
      values: { CO: 300, O2: 20.9 },
      status: 'fault',
      faults: ['sensor_eol'],
      quality: { CO: 'uncertain' },
      alarm: true,
    };
    devices.observeReading('gw', 'co', said, Date.parse(said.ts), NOW);
    expect(devices.get('co')?.lastReading).toEqual(said);
    expect(devices.get('co')?.lastSeen).toBe(NOW);
    // An older reading arriving late is counted, but the last reading stays the newest.
    expect(devices.observeReading('gw', 'co', reading(2, at(2)), at(2), NOW)).not.toBeNull();
    expect(devices.get('co')?.lastReading).toEqual(said);
    expect(devices.get('co')?.readings).toBe(3);
  });

  it('writes a time as toISOString does, across days, years and the edges', () => {
    const edges = [0, 1, 999, 86_399_999, 86_400_000, Date.parse('2026-12-31T23:59:59.999Z')];
    for (let i = 0; i < 2_000; i++) edges.push(Math.floor((i / 2_000) * 4.1e12) + (i % 1_000));
    for (const ms of [...edges, -1, -86_400_001, 253_402_300_799_999, 253_402_300_800_000])
      expect(iso(ms)).toBe(new Date(ms).toISOString());
  });
});

describe('de-duplication window, packed (issue 18: ~2 bytes a time)', () => {
  /** Once a minute, the gateway's clock a few ms off each time, as a real poll loop stamps. */
  const minutely = (k: number) => NOW - 3_600_000 + k * 60_000 + ((k * 7_919) % 23);

  it('a resend of each of the last 15 readings is a duplicate, of none older a false one', () => {
    const devices = createDeviceRegistry();
    const see = (k: number) => devices.observeReading('gw', 'co', reading(k, minutely(k)), minutely(k), NOW);
    for (let k = 0; k < 60; k++) expect(see(k)).not.toBeNull();
    let within = 0;
    for (let k = 59; k >= 0; k--) {
      // Within 15 minutes of the newest: each recognised. Older: out of the window, taken again.
      if (minutely(59) - minutely(k) <= DEDUP_SPAN_MS) {
        within++;
        expect(see(k), `reading ${k}`).toBeNull();
      } else expect(see(k), `reading ${k}`).not.toBeNull();
    }
    expect(within).toBeGreaterThanOrEqual(15);
    expect(devices.get('co')?.readings).toBe(60 + 60 - within);
  });

  it('after an outage: the outbox replays in order, in-flight ones come twice, then live ones', () => {
    const devices = createDeviceRegistry();
    const seen: number[] = [];
    const see = (k: number) => {
      const r = devices.observeReading('gw', 'co', reading(k, minutely(k)), minutely(k), NOW);
      if (r !== null) seen.push(k);
      return r;
    };
    for (let k = 0; k < 10; k++) see(k);
    // Two hours silent, then: the last three before the outage (their PUBACKs lost) sent again,
    // the replay of 10..129 with resends among it, then the live readings, interleaved with the
    // replay's last in-flight ones sent again.
    for (const k of [7, 8, 9]) expect(see(k)).toBeNull();
    for (let k = 10; k < 130; k++) {
      expect(see(k)).not.toBeNull();
      if (k % 10 === 5) expect(see(k - 3), 'a resend during the replay').toBeNull();
    }
    for (let k = 130; k < 135; k++) {
      expect(see(k)).not.toBeNull();
      expect(see(k - 5), 'a resend among live readings').toBeNull();
    }
    // Every reading exactly once.
    expect(seen).toEqual(Array.from({ length: 135 }, (_, k) => k));
    expect(devices.get('co')?.readings).toBe(135);
  });

  it('a restart with the journal: what it held is known, what was never sent is taken', () => {
    const devices = createDeviceRegistry();
    // The journal held 0..19 but 12 (never delivered).
    devices.seed(
      'gw',
      'co',
      Array.from({ length: 20 }, (_, k) => k)
        .filter((k) => k !== 12)
        .map((k) => ({ seq: k, ts: minutely(k) })),
    );
    for (let k = 5; k < 20; k++)
      if (k === 12)
        expect(
          devices.observeReading('gw', 'co', reading(12, minutely(12)), minutely(12), NOW),
        ).not.toBeNull();
      else
        expect(
          devices.observeReading('gw', 'co', reading(k, minutely(k)), minutely(k), NOW),
          `${k}`,
        ).toBeNull();
    expect(devices.get('co')?.seqGaps).toBe(0);
  });

  it('keeps long gaps (a reading every 5 minutes, and an hour between two) and any order', () => {
    const devices = createDeviceRegistry();
    // Gaps of 5 min, of 5 123 ms, and of 65 535, 65 534 and 65 536 ms: both sides of the long form.
    const times = [0, 300_000, 600_000, 605_123, 670_658, 736_192, 801_728, 900_000];
    const t = (x: number) => NOW - 7_200_000 + x;
    // Shuffled, deterministically.
    const order = [5, 2, 7, 0, 3, 6, 1, 4];
    for (const i of order)
      expect(
        devices.observeReading('gw', 'slow', reading(i, t(times[i] as number)), t(times[i] as number), NOW),
      ).not.toBeNull();
    for (const i of order)
      expect(
        devices.observeReading('gw', 'slow', reading(i, t(times[i] as number)), t(times[i] as number), NOW),
      ).toBeNull();
    // A time between two seen ones was not seen.
    expect(
      devices.observeReading('gw', 'slow', reading(8, t(900_000 - 1)), t(900_000 - 1), NOW),
    ).not.toBeNull();
    // An hour later: the window keeps the newest 15 minutes only.
    expect(devices.observeReading('gw', 'slow', reading(9, t(4_500_000)), t(4_500_000), NOW)).not.toBeNull();
    expect(devices.observeReading('gw', 'slow', reading(9, t(4_500_000)), t(4_500_000), NOW)).toBeNull();
  });

  it('a reading forgotten (its journal write failed) is taken when it comes again', () => {
    const devices = createDeviceRegistry();
    for (let k = 0; k < 5; k++) devices.observeReading('gw', 'co', reading(k, minutely(k)), minutely(k), NOW);
    devices.forget('co', minutely(2));
    devices.forget('co', minutely(4));
    expect(devices.observeReading('gw', 'co', reading(2, minutely(2)), minutely(2), NOW)).not.toBeNull();
    expect(devices.observeReading('gw', 'co', reading(4, minutely(4)), minutely(4), NOW)).not.toBeNull();
    expect(devices.observeReading('gw', 'co', reading(3, minutely(3)), minutely(3), NOW)).toBeNull();
  });

  it('packs and unpacks any window exactly', () => {
    let x = 12_345;
    const next = () => {
      x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
      return x;
    };
    for (let round = 0; round < 200; round++) {
      const times = [1_765_000_000_000 + (next() % 1_000_000)];
      const n = next() % 130;
      for (let k = 0; k < n; k++)
        times.push((times.at(-1) as number) + 1 + (next() % (k % 3 === 0 ? 900_000 : 70_000)));
      expect(decodeWindow(times.at(-1) as number, encodeWindow(times))).toEqual(times);
      for (const t of times) expect(windowHas(times.at(-1) as number, encodeWindow(times), t)).toBe(true);
    }
    expect(decodeWindow(Number.NaN, '')).toEqual([]);
  });
});

describe('what devices say alike is kept once (issue 18)', () => {
  it('shares the values and the state of devices that say the same, and hands each its own as it came', () => {
    const devices = createDeviceRegistry();
    const state = (site: string): DeviceState => ({
      v: 1,
      ts: new Date(NOW).toISOString(),
      online: true,
      model: 'gaswatch-co',
      kind: 'household-co',
      site,
      location: 'kitchen',
      lastError: null,
      pollIntervalS: 60,
    });
    for (const dev of ['a', 'b', 'c']) {
      devices.observeState('gw', dev, state(dev === 'c' ? 'other' : 'same'));
      const r = { ...reading(1, at(1)), values: { CO: dev === 'c' ? 3 : 0 } };
      devices.observeReading('gw', dev, r, at(1), NOW);
      // The payload the reading came in stays the sender's: not frozen, not shared.
      expect(Object.isFrozen(r.values)).toBe(false);
    }
    const [a, b, c] = ['a', 'b', 'c'].map((d) => devices.get(d));
    expect(a?.lastReading?.values).toBe(b?.lastReading?.values);
    expect(a?.lastReading?.values).toEqual({ CO: 0 });
    expect(c?.lastReading?.values).toEqual({ CO: 3 });
    expect(a?.state).toEqual(state('same'));
    expect(c?.state).toEqual(state('other'));
    // A new state is read at once, though the last one read was this device's.
    expect(a?.state?.site).toBe('same');
    devices.observeState('gw', 'a', { ...state('moved'), ts: new Date(NOW + 1_000).toISOString() });
    expect(a?.state).toEqual({ ...state('moved'), ts: new Date(NOW + 1_000).toISOString() });
    expect(b?.state).toEqual(state('same'));
    // A shared copy cannot be changed behind another device's back.
    expect(() => {
      (a?.lastReading?.values as { CO: number }).CO = 5;
    }).toThrow(TypeError);
    expect(b?.lastReading?.values).toEqual({ CO: 0 });
  });
});

describe('seq resets and gaps on the record', () => {
  it('counts a gateway that started its count again, and keeps the count with no gap open', () => {
    const devices = createDeviceRegistry();
    const see = (seq: number, s: number) =>
      devices.observeReading('gw', 'co', reading(seq, at(s)), at(s), NOW);
    for (let s = 0; s < 10; s++) see(100 + s, s);
    see(113, 10); // 110..112 lost
    expect(devices.get('co')).toMatchObject({ seqGaps: 3, seqResets: 0 });
    see(111, 11); // a late one fills one of them
    expect(devices.get('co')).toMatchObject({ seqGaps: 2, seqResets: 0 });
    see(0, 20); // the gateway lost its seq file: a newer reading with a seq never seen
    see(1, 21);
    expect(devices.get('co')).toMatchObject({ seqResets: 1, seqGaps: 2 });
    const d = devices.get('co');
    if (d === undefined) throw new Error('co unknown');
    d.clockSuspect = true;
    expect(devices.get('co')).toMatchObject({ clockSuspect: true, seqResets: 1 });
    d.clockSuspect = false;
    expect(devices.get('co')?.clockSuspect).toBe(false);
  });
});

describe('the table of times (slot-table.ts)', () => {
  it('keeps every slot its own across pages, each new one at its initial values', () => {
    const table = new SlotTable([Number.NaN, 0, -1]);
    for (let slot = 0; slot < 10_000; slot++) {
      expect(table.add()).toBe(slot);
      table.set(slot, 1, slot * 1_000_000_007);
    }
    expect(table.size).toBe(10_000);
    for (const slot of [0, 4_095, 4_096, 8_191, 8_192, 9_999]) {
      expect(table.get(slot, 0)).toBeNaN();
      expect(table.get(slot, 1)).toBe(slot * 1_000_000_007);
      expect(table.get(slot, 2)).toBe(-1);
    }
  });
});
