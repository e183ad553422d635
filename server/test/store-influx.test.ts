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
    expect((err as StoreRejectedError).code).toBe('E_STORE_REJECTED');
    const rows = (await store.queryReadings({ dev: 'x-1', gas: 'O2', from: 0, to: 10_000 })) as ReadingRow[];
    expect(rows.map((r) => r.values)).toEqual([{ O2: 20.9 }]);
    await store.stop();
  });
});
