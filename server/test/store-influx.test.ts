import { type Influxd, startInfluxd } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreRejectedError } from '../src/errors.js';
import { createInfluxStore } from '../src/store/influx.js';
import type { ReadingRow } from '../src/store/types.js';
import { quietLogger } from './helpers.js';
import { storeContract } from './store-contract.js';

let influxd: Influxd;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
});

const make = async () => {
  const s = createInfluxStore({ url: influxd.url, database: 'contract', logger: quietLogger() });
  await s.start();
  return s;
};
storeContract('InfluxDB 1.x', make, async (s) => {
  await s.stop();
  await influxd.pause();
  await influxd.start();
  return make();
});

describe('InfluxDB store: points InfluxDB will never accept', () => {
  it('raises StoreRejectedError (not a retryable StoreError) on a field type conflict, keeping the valid points', async () => {
    const store = createInfluxStore({ url: influxd.url, database: 'conflict', logger: quietLogger() });
    await store.start();
    // Someone wrote CO as an integer into this shard before: every float CO point now conflicts.
    const res = await fetch(`${influxd.url}/write?db=conflict&precision=ms`, {
      method: 'POST',
      body: 'reading,dev=x-1,gw=g CO=5i 1000',
    });
    expect(res.status).toBe(204);
    const base = { gw: 'g', seq: 0, status: 'ok' as const, receivedAt: 0, late: false };
    const err = await store
      .writeReadings([
        { ...base, dev: 'x-1', ts: 2_000, values: { CO: 6.5 } },
        { ...base, dev: 'x-1', ts: 3_000, values: { O2: 20.9 } },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreRejectedError);
    expect((err as StoreRejectedError).code).toBe('store_rejected');
    const rows = (await store.queryReadings({ dev: 'x-1', gas: 'O2', from: 0, to: 10_000 })) as ReadingRow[];
    expect(rows.map((r) => r.values)).toEqual([{ O2: 20.9 }]);
    await store.stop();
  });
});

describe('InfluxDB store: what a reading point holds', () => {
  it('says status only when not ok and late only when true, and reads an ok reading back as ok', async () => {
    const store = createInfluxStore({ url: influxd.url, database: 'layout', logger: quietLogger() });
    await store.start();
    const base = { gw: 'g', dev: 'lay-1', values: { CO: 12 }, late: false };
    await store.writeReadings([
      { ...base, ts: 1_000, seq: 1, status: 'ok', receivedAt: 1_010 },
      { ...base, ts: 2_000, seq: 2, status: 'warmup', receivedAt: 2_010 },
      { ...base, ts: 3_000, seq: 3, status: 'ok', receivedAt: 3_600_000, late: true },
    ]);
    const q = encodeURIComponent('SELECT seq, status, late, receivedAt FROM reading ORDER BY time');
    const res = await fetch(`${influxd.url}/query?db=layout&q=${q}`);
    const body = (await res.json()) as {
      results: { series: { columns: string[]; values: unknown[][] }[] }[];
    };
    const series = body.results[0]?.series[0];
    expect(series?.columns).toEqual(['time', 'seq', 'status', 'late', 'receivedAt']);
    expect(series?.values.map((v) => v.slice(1))).toEqual([
      [1, null, null, 1_010],
      [2, 'warmup', null, 2_010],
      [3, null, true, 3_600_000],
    ]);
    const rows = (await store.queryReadings({ dev: 'lay-1', from: 0, to: 10_000 })) as ReadingRow[];
    expect(rows.map((r) => [r.seq, r.status])).toEqual([
      [1, 'ok'],
      [2, 'warmup'],
      [3, 'ok'],
    ]);
    await store.stop();
  });
});

describe('InfluxDB store: a damaged alarm event', () => {
  it('is listed with empty data (the rebuild skips it) instead of failing the whole list', async () => {
    const store = createInfluxStore({ url: influxd.url, database: 'damaged', logger: quietLogger() });
    await store.start();
    await store.appendAlarmEvents([
      { id: 'a-1#1', alarmId: 'a-1', ts: 1_000, data: { type: 'raised', seq: 1 } },
    ]);
    const res = await fetch(`${influxd.url}/write?db=damaged&precision=ms`, {
      method: 'POST',
      body: 'alarm_event,alarmId=a-2,eid=a-2#1 data="{\\"type\\":\\"rai" 2000\nalarm_event,alarmId=a-3,eid=a-3#1 data="null" 3000',
    });
    expect(res.status).toBe(204);
    const events = await store.listAlarmEvents();
    expect(events.map((e) => [e.alarmId, e.data])).toEqual([
      ['a-1', { type: 'raised', seq: 1 }],
      ['a-2', {}],
      ['a-3', {}],
    ]);
    await store.stop();
  });
});
