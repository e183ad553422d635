import { type Influxd, startInfluxd } from '@gaswatch/shared/testing';
import { afterAll, beforeAll } from 'vitest';
import { createInfluxStore } from '../src/store/influx.js';
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
