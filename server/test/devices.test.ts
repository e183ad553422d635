/**
 * The device registry's seq tracking across a server restart: the readings the journal and the
 * store already hold are seeded, so a gap never opens over them, but only over the gateway's
 * current count.
 */
import type { DeviceState, Reading } from '@gaswatch/shared';
import { describe, expect, it } from 'vitest';
import { createDeviceRegistry, iso } from '../src/ingest/devices.js';

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
