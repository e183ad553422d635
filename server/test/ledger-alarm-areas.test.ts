/**
 * Which alarms a township's weekly ledger counts (issue 13, SPEC §10): those whose area is the one
 * /api/alarms shows, the household's for a detector installed in a home, else its site's. The
 * ledger finds them from their devices, not by a pass over every alarm of the county
 * (reports/ledger-service.ts), so this checks what that must keep: a detector installed in a home
 * of the township after its alarm brings the alarm with it, removed it goes back to its site's
 * area, and a device's first alarm raised after a ledger was made is in the next one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Ledger } from '../src/reports/ledger-schema.js';
import { deviceState, publishState } from './e2e/browser.js';
import {
  apiFetch,
  connectGateway,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from './helpers.js';

const GW = 'gw-areas';
const tmp = tempDir('gw-ledger-areas-');
let server: TestServer;
let gateway: MqttClient;

async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await apiFetch(`${server.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const out = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(out)}`);
  return out;
}

/** The device's detector alarm (its own alarm output), raised now. */
async function alarm(dev: string, site: string): Promise<void> {
  await publishState(gateway, GW, dev, deviceState({ site, pollIntervalS: 60 }));
  await publishReading(gateway, GW, dev, { ...reading(1, Date.now(), { CO: 5 }), alarm: true });
  for (let i = 0; i < 200; i++) {
    await server.app.alarms.idle();
    if (server.app.alarms.list({ dev }).length > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no alarm of ${dev}`);
}

/** This week's alarms in the township's ledger: its total and per village. */
async function alarmsOf(township: string): Promise<Record<string, number>> {
  const { ledger } = (await call('POST', '/api/reports/ledger', {
    area: township,
    week: server.app.ledgers.today(),
  })) as { ledger: Ledger };
  return Object.fromEntries([
    ['total', ledger.numbers.total.alarms.week.raised],
    ...ledger.numbers.rows.map((r) => [r.area, r.alarms.week.raised]),
  ]);
}

beforeAll(async () => {
  const file = join(tmp.dir, 'gaswatch.yaml');
  // Sites that are not homes, each in a village; `shed` in none.
  writeFileSync(
    file,
    stringify({
      sites: { plant: { area: 'liujiang' }, depot: { area: 'beiling' }, shed: {} },
    }),
  );
  server = await startTestServer({ GASWATCH_CONFIG: file, DATA_DIR: tmp.dir }, tmp.dir);
  for (const [id, name, kind, parent] of [
    ['liucheng', '柳城县', 'county', null],
    ['dapu', '大埔镇', 'township', 'liucheng'],
    ['liujiang', '柳江村', 'village', 'dapu'],
    ['hexi', '河西村', 'village', 'dapu'],
    ['shapu', '沙埔镇', 'township', 'liucheng'],
    ['beiling', '北岭村', 'village', 'shapu'],
  ] as const)
    await call('POST', '/api/areas', { id, name, kind, parent });
  for (const [id, area, device] of [
    ['dp-1', 'liujiang', 'co-home-a'],
    ['dp-2', 'hexi', null],
    ['sp-1', 'beiling', 'co-home-b'],
  ] as const)
    await call('POST', '/api/households', {
      id,
      area,
      address: `${id} 号`,
      detectors: device === null ? [] : [{ device, location: '卧室' }],
    });
  gateway = await connectGateway(server, GW);
  await alarm('co-home-a', 'home');
  // Reports from the plant's site, but installed in a home of 北岭村: the home's area wins.
  await alarm('co-home-b', 'plant');
  await alarm('co-plant', 'plant');
  await alarm('co-depot', 'depot');
  await alarm('co-shed', 'shed');
}, 60_000);

afterAll(async () => {
  await gateway?.endAsync();
  await server?.close();
  tmp.remove();
});

it("counts a home's detector in its village and a device in no home in its site's", async () => {
  expect(await alarmsOf('dapu')).toEqual({ total: 2, liujiang: 2, hexi: 0 });
  expect(await alarmsOf('shapu')).toEqual({ total: 2, beiling: 2 });
});

it('moves an alarm with its detector into a home and back out', async () => {
  await call('PUT', '/api/households/dp-2/detectors/co-depot', { location: '厨房' });
  expect(await alarmsOf('dapu')).toEqual({ total: 3, liujiang: 2, hexi: 1 });
  expect(await alarmsOf('shapu')).toEqual({ total: 1, beiling: 1 });
  await call('DELETE', '/api/households/dp-2/detectors/co-depot');
  expect(await alarmsOf('dapu')).toEqual({ total: 2, liujiang: 2, hexi: 0 });
  expect(await alarmsOf('shapu')).toEqual({ total: 2, beiling: 2 });
  // Out of its home, co-home-b's alarm is its site's: the plant, in 柳江村.
  await call('DELETE', '/api/households/sp-1/detectors/co-home-b');
  expect(await alarmsOf('dapu')).toEqual({ total: 3, liujiang: 3, hexi: 0 });
  expect(await alarmsOf('shapu')).toEqual({ total: 1, beiling: 1 });
});

it("counts a device's first alarm raised after the last ledger", async () => {
  await alarm('co-plant-2', 'plant');
  expect(await alarmsOf('dapu')).toEqual({ total: 4, liujiang: 4, hexi: 0 });
});
