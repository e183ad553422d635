import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READINGS_TOTAL_CAP } from '../src/routes/readings.js';
import { deviceEventRecord } from '../src/store/device-events.js';
import type { StoredReading } from '../src/store/types.js';
import { apiFetch, createAreas, getJson, startTestServer, type TestServer } from './helpers.js';

/**
 * Every list pages with a cursor and says its total (issue 18): the lists that lacked a total
 * (readings, gateway events) or paging (gateways), through the HTTP API.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const T0 = Date.parse('2026-11-23T17:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const stored = (dev: string, i: number, values: StoredReading['values']): StoredReading => ({
  gw: 'gw-p',
  dev,
  ts: T0 + i * 1_000,
  seq: i,
  values,
  status: 'ok',
  receivedAt: T0 + i * 1_000,
  late: false,
});

/** Walks a list's pages from `first` on; returns every page's body (bounded). */
async function pages<B extends { nextCursor: string | null }>(first: string, max = 50): Promise<B[]> {
  const out: B[] = [];
  let url = first;
  for (let k = 0; k < max; k++) {
    const { status, body } = await getJson<B>(url);
    expect(status, JSON.stringify(body)).toBe(200);
    out.push(body);
    if (body.nextCursor === null) return out;
    url = `${first}&cursor=${encodeURIComponent(body.nextCursor)}`;
  }
  throw new Error(`${first}: more than ${max} pages`);
}

describe('GET /api/readings: total', () => {
  type Raw = { rows: { seq: number }[]; total: number; totalCapped: boolean; nextCursor: string | null };

  it('says on every page how many raw rows the range holds with its filters', async () => {
    // 30 readings; every third carries no CO.
    await server.app.store.writeReadings(
      Array.from({ length: 30 }, (_, i) =>
        stored('total-1', i, i % 3 === 2 ? { O2: 20.9 } : { CO: i, O2: 20.9 }),
      ),
    );
    const range = `device=total-1&from=${iso(T0)}&to=${iso(T0 + 25_000)}`;
    const all = await pages<Raw>(`${server.url}/api/readings?${range}&limit=10`);
    expect(all.map((p) => p.rows.length)).toEqual([10, 10, 5]);
    expect(all.map((p) => [p.total, p.totalCapped])).toEqual([
      [25, false],
      [25, false],
      [25, false],
    ]);
    const co = await pages<Raw>(`${server.url}/api/readings?${range}&gas=CO&limit=7`);
    const seqs = co.flatMap((p) => p.rows.map((r) => r.seq));
    expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => i).filter((i) => i % 3 !== 2));
    expect(new Set(co.map((p) => p.total))).toEqual(new Set([seqs.length]));
  });

  it('counts the buckets of an aggregated answer, of which it holds `limit`', async () => {
    const { status, body } = await getJson<{ rows: unknown[]; total: number; nextCursor: null }>(
      `${server.url}/api/readings?device=total-1&gas=CO&from=${iso(T0)}&to=${iso(T0 + 30_000)}&every=5s&limit=4`,
    );
    expect(status).toBe(200);
    expect(body.rows).toHaveLength(4);
    expect(body.total).toBe(6);
    expect(body.nextCursor).toBeNull();
  });

  it(`stops counting at ${READINGS_TOTAL_CAP} and says so`, async () => {
    const n = READINGS_TOTAL_CAP + 5;
    for (let i = 0; i < n; i += 20_000)
      await server.app.store.writeReadings(
        Array.from({ length: Math.min(20_000, n - i) }, (_, k) => stored('total-big', i + k, { CO: 1 })),
      );
    const range = `device=total-big&from=${iso(T0)}&to=${iso(T0 + 2 * 86_400_000)}&limit=3`;
    const { status, body } = await getJson<Raw>(`${server.url}/api/readings?${range}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ total: READINGS_TOTAL_CAP, totalCapped: true });
    expect(body.rows.map((r) => r.seq)).toEqual([0, 1, 2]);
    // A narrower range under the cap is counted exactly.
    const narrow = await getJson<Raw>(
      `${server.url}/api/readings?device=total-big&from=${iso(T0)}&to=${iso(T0 + 1_000_000)}&limit=1`,
    );
    expect(narrow.body).toMatchObject({ total: 1_000, totalCapped: false });
  });

  it('refuses a cursor that is not a time, clearly', async () => {
    const { status, body } = await getJson<{ error: string; message: string }>(
      `${server.url}/api/readings?device=total-1&cursor=page-2`,
    );
    expect(status).toBe(400);
    expect(body.error).toBe('bad_request');
    expect(body.message).toMatch(/^cursor: /);
  });
});

describe('GET /api/events: total', () => {
  type Events = {
    events: { dev: string | null; ts: string }[];
    total: number;
    totalCapped: boolean;
    nextCursor: string | null;
  };

  it('says on every page how many events the range holds with its filters', async () => {
    const records = Array.from({ length: 23 }, (_, i) =>
      deviceEventRecord(
        i % 2 === 0 ? 'gw-ev-a' : 'gw-ev-b',
        `ev-${i % 4}`,
        {
          v: 1,
          ts: iso(T0 + i * 1_000),
          type: 'interlock',
          outputs: { valve: false },
          message: `closed ${i}`,
        },
        T0 + i * 1_000 + 5,
      ),
    );
    await server.app.store.appendDeviceEvents(records);
    const range = `from=${iso(T0)}&to=${iso(T0 + 60_000)}`;
    const all = await pages<Events>(`${server.url}/api/events?${range}&limit=10`);
    expect(all.map((p) => p.events.length)).toEqual([10, 10, 3]);
    expect(all.map((p) => p.total)).toEqual([23, 23, 23]);
    expect(all.every((p) => p.totalCapped === false)).toBe(true);
    const ofGateway = await pages<Events>(`${server.url}/api/events?${range}&gateway=gw-ev-b&limit=5`);
    expect(ofGateway.flatMap((p) => p.events)).toHaveLength(11);
    expect(new Set(ofGateway.map((p) => p.total))).toEqual(new Set([11]));
    const ofDevice = await getJson<Events>(`${server.url}/api/events?${range}&device=ev-0&limit=2`);
    expect(ofDevice.body.total).toBe(6); // i = 0, 4, 8, 12, 16, 20
  });

  it('pages past the events counted for the total, each event once', async () => {
    const n = 10_050; // more than EVENTS_TOTAL_CAP: the last pages lie beyond what the count read
    const t1 = T0 + 3_600_000;
    const records = Array.from({ length: n }, (_, i) =>
      deviceEventRecord(
        'gw-ev-many',
        'ev-many',
        { v: 1, ts: iso(t1 + i), type: 'interlock', outputs: { valve: false }, message: `closed ${i}` },
        t1 + i + 5,
      ),
    );
    await server.app.store.appendDeviceEvents(records);
    const range = `from=${iso(t1)}&to=${iso(t1 + n)}&gateway=gw-ev-many`;
    const all = await pages<Events>(`${server.url}/api/events?${range}&limit=1000`);
    const times = all.flatMap((p) => p.events.map((e) => e.ts));
    expect(times).toHaveLength(n);
    expect(new Set(times).size).toBe(n);
    expect(all.every((p) => p.total === 10_000 && p.totalCapped)).toBe(true);
  });

  it('refuses a limit beyond its largest page, saying which', async () => {
    const { status, body } = await getJson<{ error: string; message: string }>(
      `${server.url}/api/events?limit=5000`,
    );
    expect(status).toBe(400);
    expect(body.message).toMatch(/^limit: .*1000/);
  });
});

describe('GET /api/gateways: paged and filtered', () => {
  type Gateways = { gateways: { id: string; online: boolean }[]; total: number; nextCursor: string | null };

  beforeAll(() => {
    // 25 gateways heard from; every fifth last said it went offline.
    for (let i = 0; i < 25; i++) {
      const id = `gwp-${String(i).padStart(2, '0')}`;
      const ts = iso(Date.now());
      server.app.devices.observeStatus(
        id,
        i % 5 === 0
          ? { v: 1, online: false, ts }
          : { v: 1, online: true, ts, version: '1.4.0', uptimeS: 60, outboxDepth: 0 },
      );
    }
  });

  it('pages by id with a cursor, each gateway once, the total on every page', async () => {
    const all = await pages<Gateways>(`${server.url}/api/gateways?text=GWP-&limit=10`);
    const ids = all.flatMap((p) => p.gateways.map((g) => g.id));
    expect(all.map((p) => p.gateways.length)).toEqual([10, 10, 5]);
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => `gwp-${String(i).padStart(2, '0')}`));
    expect(new Set(all.map((p) => p.total))).toEqual(new Set([25]));
  });

  it('filters by state on the server', async () => {
    const off = await pages<Gateways>(`${server.url}/api/gateways?text=gwp&state=offline&limit=2`);
    expect(off.flatMap((p) => p.gateways.map((g) => g.id))).toEqual([
      'gwp-00',
      'gwp-05',
      'gwp-10',
      'gwp-15',
      'gwp-20',
    ]);
    expect(off[0]?.total).toBe(5);
    const on = await getJson<Gateways>(`${server.url}/api/gateways?text=gwp&state=online&limit=1`);
    expect(on.body.total).toBe(20);
    expect(on.body.gateways.every((g) => g.online)).toBe(true);
  });

  it("filters by the gateway's own area, and refuses an area that does not exist", async () => {
    await createAreas(server.url, [
      ['cty', 'county', null],
      ['tw-n', 'township', 'cty'],
    ]);
    for (const [id, area] of [
      ['gwp-n1', 'tw-n'],
      ['gwp-n2', 'tw-n'],
      ['gwp-c', 'cty'],
    ] as const) {
      const r = await apiFetch(`${server.url}/api/gateways`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id, area }),
      });
      expect(r.status, await r.text()).toBe(201);
    }
    const township = await getJson<Gateways>(`${server.url}/api/gateways?area=tw-n`);
    expect(township.body.gateways.map((g) => g.id)).toEqual(['gwp-n1', 'gwp-n2']);
    expect(township.body.total).toBe(2);
    const county = await getJson<Gateways>(`${server.url}/api/gateways?area=cty&limit=2`);
    expect(county.body.total).toBe(3);
    expect(county.body.nextCursor).toBe('gwp-n1');
    const unknown = await getJson<{ error: string }>(`${server.url}/api/gateways?area=nowhere`);
    expect(unknown).toMatchObject({ status: 400, body: { error: 'unknown_area' } });
  });

  it('refuses a bad cursor or limit with a clear 400', async () => {
    for (const q of ['cursor=not%20an%20id', 'limit=0', 'limit=many', 'state=asleep']) {
      const { status, body } = await getJson<{ error: string; message: string }>(
        `${server.url}/api/gateways?${q}`,
      );
      expect(status, q).toBe(400);
      expect(body.error).toBe('bad_request');
      expect(body.message).toMatch(new RegExp(`^${q.split('=')[0]}: `));
    }
  });
});
