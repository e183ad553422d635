import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandResultRecord, deviceEventRecord } from '../src/store/device-events.js';
import type {
  AggregateRow,
  DeviceEventRecord,
  ReadingRow,
  Store,
  StoredReading,
} from '../src/store/types.js';

const T0 = Date.parse('2026-11-23T18:00:00.000Z');

function row(
  dev: string,
  i: number,
  values: StoredReading['values'],
  over: Partial<StoredReading> = {},
): StoredReading {
  return {
    gw: 'gw-1',
    dev,
    ts: T0 + i * 1_000,
    seq: i,
    values,
    status: 'ok',
    receivedAt: T0 + i * 1_000 + 5,
    late: false,
    ...over,
  };
}

/**
 * One contract both stores pass (MQTT.js abstract_client style). `make` returns a started store
 * over the same backing data each time it is called with the same `key` (to test persistence).
 */
export function storeContract(
  name: string,
  make: () => Promise<Store>,
  reopen: (s: Store) => Promise<Store>,
) {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await make();
    });
    afterAll(async () => {
      await store.stop();
    });

    it('answers ping while up', async () => {
      expect(await store.ping()).toBe(true);
    });

    it('returns a device range in time order, from inclusive, to exclusive', async () => {
      await store.writeReadings([5, 1, 3, 2, 4, 0].map((i) => row('range-1', i, { CO: i * 10 })));
      const rows = (await store.queryReadings({
        dev: 'range-1',
        from: T0 + 1_000,
        to: T0 + 5_000,
      })) as ReadingRow[];
      expect(rows.map((r) => r.ts - T0)).toEqual([1_000, 2_000, 3_000, 4_000]);
      expect(rows[0]).toMatchObject({ seq: 1, values: { CO: 10 }, status: 'ok' });
    });

    it('keeps what the detector said about a reading: fault codes, channel quality, its own alarm output', async () => {
      await store.writeReadings([
        row(
          'extras-1',
          0,
          { CO: 1000, O2: 20.9 },
          {
            status: 'fault',
            faults: ['sensor_eol', 'quote " and \\ backslash', 'line\nbreak'],
            quality: { CO: 'bad', O2: 'uncertain' },
            alarm: true,
          },
        ),
        row('extras-1', 1, { CO: 0 }, { alarm: false }),
        row('extras-1', 2, { CO: 0 }),
      ]);
      const rows = (await store.queryReadings({ dev: 'extras-1', from: T0, to: T0 + 3_000 })) as ReadingRow[];
      expect(rows).toHaveLength(3);
      expect(rows[0]).toMatchObject({
        status: 'fault',
        faults: ['sensor_eol', 'quote " and \\ backslash', 'line\nbreak'],
        quality: { CO: 'bad', O2: 'uncertain' },
        alarm: true,
      });
      expect(rows[1]?.alarm).toBe(false);
      // Absent stays absent: no invented "no faults" or "quality good".
      expect(rows[2]).not.toHaveProperty('faults');
      expect(rows[2]).not.toHaveProperty('quality');
      expect(rows[2]).not.toHaveProperty('alarm');
    });

    it('stores a replayed (dev, ts) once', async () => {
      const batch = [0, 1, 2].map((i) => row('dup-1', i, { CO: 5 }));
      await store.writeReadings(batch);
      await store.writeReadings(batch);
      await store.writeReadings([batch[1] as StoredReading]);
      expect(await store.countReadings('dup-1')).toBe(3);
    });

    it('keeps devices apart, even when one id is a prefix of another', async () => {
      await store.writeReadings([
        row('pre', 0, { CO: 1 }),
        row('pre-x', 0, { CO: 2 }),
        row('prex', 1, { CO: 3 }),
      ]);
      expect(await store.countReadings('pre')).toBe(1);
      const rows = (await store.queryReadings({ dev: 'pre', from: T0 - 1, to: T0 + 10_000 })) as ReadingRow[];
      expect(rows.map((r) => r.values.CO)).toEqual([1]);
    });

    it('filters by gas and honours the limit', async () => {
      await store.writeReadings([
        row('multi-1', 0, { O2: 20.9, CO: 3 }),
        row('multi-1', 1, { O2: 20.8 }),
        row('multi-1', 2, { O2: 20.7, CO: 4 }),
      ]);
      const co = (await store.queryReadings({
        dev: 'multi-1',
        gas: 'CO',
        from: T0,
        to: T0 + 60_000,
      })) as ReadingRow[];
      expect(co.map((r) => r.values)).toEqual([{ CO: 3 }, { CO: 4 }]);
      const limited = (await store.queryReadings({
        dev: 'multi-1',
        from: T0,
        to: T0 + 60_000,
        limit: 2,
      })) as ReadingRow[];
      expect(limited).toHaveLength(2);
      expect(limited[1]?.values).toEqual({ O2: 20.8 });
    });

    it("counts a device's rows in a range, by gas, stopping at a cap", async () => {
      await store.writeReadings([
        row('count-1', 0, { O2: 20.9, CO: 3 }),
        row('count-1', 1, { O2: 20.8 }),
        row('count-1', 2, { O2: 20.7, CO: 4 }),
        row('count-1', 3, { CO: 5 }),
        row('count-10', 1, { CO: 9 }),
      ]);
      const range = { from: T0, to: T0 + 3_000 };
      expect(await store.countReadings('count-1', range)).toBe(3); // to is exclusive
      expect(await store.countReadings('count-1', { ...range, gas: 'CO' })).toBe(2);
      expect(await store.countReadings('count-1', { ...range, gas: 'CO2' })).toBe(0);
      expect(await store.countReadings('count-1', { from: T0 + 1_000, to: T0 + 60_000 })).toBe(3);
      expect(await store.countReadings('count-1', { from: T0, to: T0 + 60_000, cap: 2 })).toBe(2);
      expect(await store.countReadings('count-1', { from: T0, to: T0 + 60_000, gas: 'CO', cap: 2 })).toBe(2);
      expect(await store.countReadings('count-1')).toBe(4);
    });

    it('aggregates into buckets with mean, min, max and count per gas', async () => {
      // 0..9 s: CO = i, CH4 only on even seconds
      await store.writeReadings(
        Array.from({ length: 10 }, (_, i) =>
          row('agg-1', i, i % 2 === 0 ? { CO: i, CH4: i * 2 } : { CO: i }),
        ),
      );
      const rows = (await store.queryReadings({
        dev: 'agg-1',
        from: T0,
        to: T0 + 10_000,
        everyMs: 5_000,
      })) as AggregateRow[];
      expect(rows).toEqual([
        { ts: T0, gas: 'CH4', mean: 4, min: 0, max: 8, count: 3 },
        { ts: T0, gas: 'CO', mean: 2, min: 0, max: 4, count: 5 },
        { ts: T0 + 5_000, gas: 'CH4', mean: 14, min: 12, max: 16, count: 2 },
        { ts: T0 + 5_000, gas: 'CO', mean: 7, min: 5, max: 9, count: 5 },
      ]);
      const coOnly = (await store.queryReadings({
        dev: 'agg-1',
        gas: 'CO',
        from: T0,
        to: T0 + 10_000,
        everyMs: 10_000,
      })) as AggregateRow[];
      expect(coOnly).toEqual([{ ts: T0, gas: 'CO', mean: 4.5, min: 0, max: 9, count: 10 }]);
    });

    it('starts buckets at `from`, so a bucket as long as the range is stamped at from, not before it', async () => {
      await store.writeReadings(Array.from({ length: 10 }, (_, i) => row('agg-2', i, { CO: i })));
      // from = T0 + 2.5 s is not a multiple of the bucket length: buckets [2.5 s, 5.5 s), [5.5 s, 8.5 s), …
      const rows = (await store.queryReadings({
        dev: 'agg-2',
        from: T0 + 2_500,
        to: T0 + 10_000,
        everyMs: 3_000,
      })) as AggregateRow[];
      expect(rows).toEqual([
        { ts: T0 + 2_500, gas: 'CO', mean: 4, min: 3, max: 5, count: 3 },
        { ts: T0 + 5_500, gas: 'CO', mean: 7, min: 6, max: 8, count: 3 },
        { ts: T0 + 8_500, gas: 'CO', mean: 9, min: 9, max: 9, count: 1 },
      ]);
      const whole = (await store.queryReadings({
        dev: 'agg-2',
        from: T0 + 2_500,
        to: T0 + 10_000,
        everyMs: 7_500,
      })) as AggregateRow[];
      expect(whole).toEqual([{ ts: T0 + 2_500, gas: 'CO', mean: 6, min: 3, max: 9, count: 7 }]);
    });

    it('returns nothing for an unknown device', async () => {
      expect(await store.queryReadings({ dev: 'nobody', from: 0, to: T0 * 2 })).toEqual([]);
      expect(await store.countReadings('nobody')).toBe(0);
    });

    it('appends alarm events and lists them in time order, by alarm and since', async () => {
      await store.appendAlarmEvents([
        { id: 'a1-2', alarmId: 'a1', ts: T0 + 2_000, data: { type: 'ack', actor: 'lin', note: 'checked' } },
        { id: 'a1-1', alarmId: 'a1', ts: T0 + 1_000, data: { type: 'raise', severity: 'critical' } },
        { id: 'a2-1', alarmId: 'a2', ts: T0 + 1_000, data: { type: 'raise' } },
      ]);
      const all = await store.listAlarmEvents();
      expect(all.map((e) => e.id)).toEqual(expect.arrayContaining(['a1-1', 'a1-2', 'a2-1']));
      expect(all.map((e) => e.ts)).toEqual([...all.map((e) => e.ts)].sort((a, b) => a - b));
      const a1 = await store.listAlarmEvents({ alarmId: 'a1' });
      expect(a1).toEqual([
        { id: 'a1-1', alarmId: 'a1', ts: T0 + 1_000, data: { type: 'raise', severity: 'critical' } },
        { id: 'a1-2', alarmId: 'a1', ts: T0 + 2_000, data: { type: 'ack', actor: 'lin', note: 'checked' } },
      ]);
      expect((await store.listAlarmEvents({ since: T0 + 1_500 })).map((e) => e.id)).toEqual(['a1-2']);
      // appending the same event again keeps one copy
      await store.appendAlarmEvents([
        { id: 'a1-2', alarmId: 'a1', ts: T0 + 2_000, data: { type: 'ack', actor: 'lin', note: 'checked' } },
      ]);
      expect(await store.listAlarmEvents({ alarmId: 'a1' })).toHaveLength(2);
    });

    const ev = (gw: string, dev: string, sec: number, over: Partial<DeviceEventRecord['data']> = {}) =>
      deviceEventRecord(
        gw,
        dev,
        {
          v: 1,
          ts: new Date(T0 + sec * 1_000).toISOString(),
          type: 'interlock',
          outputs: { valve: false },
          message: 'gas valve closed',
          ...over,
        } as Extract<DeviceEventRecord, { kind: 'event' }>['data'],
        T0 + sec * 1_000 + 7,
      );

    it('appends device events and command results append-only; lists them newest first by device, gateway, time and limit', async () => {
      const kitchen1 = ev('gw-ev', 'kitchen', 1);
      const kitchenFan = ev('gw-ev', 'kitchen', 1, { outputs: { fan: true }, message: 'fan on' });
      const hall = ev('gw-ev', 'hall', 2, { type: 'fault', severity: 'warning', message: 'sensor_eol' });
      const kitchen3 = ev('gw-ev', 'kitchen', 3, {
        type: 'bump_test',
        result: 'pass',
        gas: 'CO',
        value: 212.5,
        message: 'quote " and \\ backslash',
      });
      const other = ev('gw-other', 'kitchen-2', 4, { type: 'silenced' });
      const result = commandResultRecord(
        'gw-ev',
        { v: 1, id: 'cmd-1', ok: false, ts: new Date(T0 + 5_000).toISOString(), message: 'no such device' },
        T0 + 5_010,
      );
      await store.appendDeviceEvents([kitchen3, hall, kitchen1]);
      await store.appendDeviceEvents([kitchenFan, other, result]);
      // the same messages again (QoS 1 redelivery): kept once
      await store.appendDeviceEvents([kitchen1, result]);

      const all = await store.listDeviceEvents({ from: T0, to: T0 + 60_000 });
      expect(all.map((e) => e.id)).toHaveLength(6);
      expect(new Set(all.map((e) => e.id)).size).toBe(6);
      expect(all.map((e) => e.ts - T0)).toEqual([5_000, 4_000, 3_000, 2_000, 1_000, 1_000]);
      expect(all[0]).toEqual(result);
      expect(all.find((e) => e.id === kitchen3.id)).toEqual(kitchen3);

      const kitchen = await store.listDeviceEvents({ dev: 'kitchen' });
      expect(kitchen.map((e) => e.data.message)).toEqual([
        'quote " and \\ backslash',
        ...[kitchen1, kitchenFan].sort((a, b) => (a.id < b.id ? 1 : -1)).map((e) => e.data.message),
      ]);
      // a device whose id is a prefix of another's keeps to itself
      expect((await store.listDeviceEvents({ dev: 'kitchen-2' })).map((e) => e.gw)).toEqual(['gw-other']);
      expect((await store.listDeviceEvents({ gw: 'gw-ev', limit: 2 })).map((e) => e.kind)).toEqual([
        'command_result',
        'event',
      ]);
      expect(
        (await store.listDeviceEvents({ from: T0 + 2_000, to: T0 + 4_000 })).map((e) => e.ts - T0),
      ).toEqual([3_000, 2_000]);
      expect(await store.listDeviceEvents({ dev: 'nobody' })).toEqual([]);
      // Stamped years ahead (a gateway clock gone wrong): still listed when no `to` is given.
      const future = ev('gw-future', 'future-1', 5 * 365 * 86_400);
      await store.appendDeviceEvents([future]);
      expect(await store.listDeviceEvents({ dev: 'future-1' })).toEqual([future]);
      expect(await store.listDeviceEvents({ dev: 'future-1', to: T0 + 86_400_000 })).toEqual([]);
    });

    it('keeps everything across a restart', async () => {
      await store.writeReadings([row('persist-1', 0, { CO: 42 })]);
      store = await reopen(store);
      const rows = (await store.queryReadings({
        dev: 'persist-1',
        from: T0,
        to: T0 + 1_000,
      })) as ReadingRow[];
      expect(rows.map((r) => r.values.CO)).toEqual([42]);
      expect(await store.listAlarmEvents({ alarmId: 'a1' })).toHaveLength(2);
      expect(await store.listDeviceEvents({ dev: 'kitchen' })).toHaveLength(3);
      expect((await store.listDeviceEvents({ gw: 'gw-ev', limit: 1 }))[0]?.data).toMatchObject({
        id: 'cmd-1',
        ok: false,
      });
    });
  });
}
