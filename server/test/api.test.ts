import { offlineTimeoutMs } from '@gaswatch/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceView, profileFullScale } from '../src/ingest/device-view.js';
import type { DeviceRecord } from '../src/ingest/devices.js';
import { apiFetch, getJson, startTestServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('HTTP API parameter errors', () => {
  const T = '2026-11-23T18:00:00Z';
  const cases: [string, string, string][] = [
    ['missing device', '', 'bad_request'],
    ['bad device id', 'device=CO%201', 'bad_request'],
    ['unknown gas', 'device=co-1&gas=XYZ', 'bad_request'],
    ['bad ISO time', 'device=co-1&from=yesterday', 'bad_request'],
    ['ISO time without zone', 'device=co-1&from=2026-11-23T18:00:00', 'bad_request'],
    ['from after to', `device=co-1&from=2026-11-24T00:00:00Z&to=${T}`, 'bad_range'],
    ['every too small', `device=co-1&to=${T}&every=500ms`, 'every_too_small'],
    ['every not a duration', 'device=co-1&every=fast', 'bad_request'],
    ['raw range too large', `device=co-1&from=2026-10-01T00:00:00Z&to=${T}`, 'range_too_large'],
    ['too many buckets', `device=co-1&from=2026-10-01T00:00:00Z&to=${T}&every=1s`, 'range_too_large'],
    ['limit out of range', 'device=co-1&limit=100000', 'bad_request'],
    ['limit not a number', 'device=co-1&limit=ten', 'bad_request'],
    ['unknown parameter', 'device=co-1&dev=co-1', 'bad_request'],
    ['cursor on aggregates', `device=co-1&to=${T}&every=1m&cursor=${T}`, 'bad_cursor'],
  ];
  for (const [what, qs, code] of cases) {
    it(`/api/readings: ${what} → 400 ${code}`, async () => {
      const { status, body } = await getJson<{ error: string; message: string }>(
        `${server.url}/api/readings?${qs}`,
      );
      expect(status).toBe(400);
      expect(body.error).toBe(code);
      expect(body.message.length).toBeGreaterThan(5);
      expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/); // never a stack
    });
  }

  it('answers a valid aggregated query with an empty series for a device without data', async () => {
    const { status, body } = await getJson<{ rows: unknown[]; every: string }>(
      `${server.url}/api/readings?device=co-1&from=2026-11-23T00:00:00Z&to=${T}&every=1h`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ rows: [], every: '1h' });
  });

  it('pages raw readings with a cursor: each reading once, in time order, until nextCursor is null', async () => {
    const t0 = Date.parse('2026-11-23T17:00:00Z');
    await server.app.store.writeReadings(
      Array.from({ length: 25 }, (_, i) => ({
        gw: 'gw-p',
        dev: 'page-1',
        ts: t0 + i * 1_000,
        seq: i,
        values: { CO: i },
        status: 'ok' as const,
        receivedAt: t0 + i * 1_000,
        late: false,
      })),
    );
    const seen: number[] = [];
    const pages: number[] = [];
    let cursor: string | null = null;
    for (let k = 0; k < 10; k++) {
      const q: string = `device=page-1&from=2026-11-23T16:00:00Z&to=${T}&limit=10${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { status: number; body: { rows: { seq: number }[]; nextCursor: string | null } } =
        await getJson(`${server.url}/api/readings?${q}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.rows.map((r) => r.seq));
      pages.push(page.body.rows.length);
      cursor = page.body.nextCursor;
      if (cursor === null) break;
    }
    expect(pages).toEqual([10, 10, 5]);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('/api/devices/:id: bad id → 400, unknown → 404, both JSON', async () => {
    const bad = await getJson<{ error: string }>(`${server.url}/api/devices/Not%20An%20Id`);
    expect(bad).toMatchObject({ status: 400, body: { error: 'bad_request' } });
    const missing = await getJson<{ error: string; message: string }>(`${server.url}/api/devices/nobody`);
    expect(missing).toMatchObject({ status: 404, body: { error: 'not_found', message: 'no device nobody' } });
  });

  it('unknown routes and malformed JSON bodies get JSON errors', async () => {
    expect(await getJson(`${server.url}/api/nothing`)).toMatchObject({
      status: 404,
      body: { error: 'not_found' },
    });
    const res = await apiFetch(`${server.url}/api/alarms/x/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"note":',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'bad_request', message: expect.any(String) });
    // Fastify's own refusals answer in the project's codes, not as FST_ERR_… names.
    const xml = await apiFetch(`${server.url}/api/alarms/x/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<note/>',
    });
    expect({ status: xml.status, body: await xml.json() }).toMatchObject({
      status: 415,
      body: { error: 'unsupported_media_type' },
    });
    const huge = await apiFetch(`${server.url}/api/alarms/x/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'x'.repeat(70 * 1024) }),
    });
    expect({ status: huge.status, body: await huge.json() }).toMatchObject({
      status: 413,
      body: { error: 'payload_too_large' },
    });
  });
});

describe('ids longer than the router allows, and buckets longer than the range', () => {
  const long = 'a'.repeat(150);
  it('an id over 100 characters on a path gets the same JSON 400 as any bad id', async () => {
    for (const url of [`/api/devices/${long}`, `/api/alarms/${long}`]) {
      const { status, body } = await getJson<{ error: string; message: string }>(`${server.url}${url}`);
      expect({ url, status, error: body.error }).toEqual({ url, status: 400, error: 'bad_request' });
      expect(Object.keys(body).sort()).toEqual(['error', 'message']);
      expect(body.message).toMatch(/max param length/);
    }
    const res = await apiFetch(`${server.url}/api/alarms/${long}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'bad_request', message: expect.any(String) });
  });

  it('every= longer than the range answers one bucket stamped at from', async () => {
    const from = Date.parse('2026-11-23T18:00:30Z');
    await server.app.store.writeReadings(
      [0, 1, 2].map((i) => ({
        gw: 'gw-1',
        dev: 'bucket-1',
        ts: from + i * 10_000,
        seq: i,
        values: { CO: 10 * (i + 1) },
        status: 'ok' as const,
        receivedAt: from + i * 10_000,
        late: false,
      })),
    );
    const { status, body } = await getJson<{ rows: unknown[]; everyMs: number }>(
      `${server.url}/api/readings?device=bucket-1&from=2026-11-23T18:00:30Z&to=2026-11-23T18:01:30Z&every=999999999d`,
    );
    expect(status).toBe(200);
    expect(body.everyMs).toBe(60_000);
    expect(body.rows).toEqual([
      { ts: '2026-11-23T18:00:30.000Z', gas: 'CO', mean: 20, min: 10, max: 30, count: 3 },
    ]);
  });
});

describe('/api/devices', () => {
  const now = Date.parse('2026-11-23T18:00:00Z');
  const record = (pollIntervalS: number | undefined, silentMs: number): DeviceRecord => ({
    gw: 'gw-1',
    dev: 'co-1',
    state: {
      v: 1,
      ts: new Date(now).toISOString(),
      online: true,
      model: 'gaswatch-co',
      kind: 'household-co',
      site: 'home',
      location: 'kitchen',
      lastError: null,
      ...(pollIntervalS === undefined ? {} : { pollIntervalS }),
    },
    lastSeen: now - silentMs,
    lastReading: {
      v: 1,
      ts: new Date(now - silentMs).toISOString(),
      seq: 7,
      values: { CO: 1000, O2: 0 },
      status: 'fault',
      faults: ['sensor_eol'],
      quality: { CO: 'bad', O2: 'uncertain' },
    },
    lastTs: now - silentMs,
    readings: 8,
    seqGaps: 0,
    seqResets: 0,
    clockSuspect: true,
  });

  it('judges "online" by the offline alarm timeout, max(3 × poll interval, 30 s)', () => {
    for (const [poll, limitMs] of [
      [1, 30_000],
      [20, 60_000],
      [undefined, 30_000],
    ] as const) {
      expect(offlineTimeoutMs(poll)).toBe(limitMs);
      expect(deviceView(record(poll, limitMs - 1_000), now).online).toBe(true);
      // The old rule (60 s at least) still said online here while the offline alarm was up.
      expect(deviceView(record(poll, limitMs + 1_000), now).online).toBe(false);
    }
  });

  it('keeps what the detector said about the last reading: quality, faults, over range, clock suspect', () => {
    expect(deviceView(record(1, 0), now).lastReading).toEqual({
      ts: new Date(now).toISOString(),
      seq: 7,
      values: { CO: 1000, O2: 0 },
      status: 'fault',
      faults: ['sensor_eol'],
      quality: { CO: 'bad', O2: 'uncertain' },
      overRange: { CO: 1000 },
      clockSuspect: true,
    });
  });

  it('a Winsen module at its full range is over range too (the profile gives 500 ppm)', () => {
    expect(profileFullScale('winsen-ze07')).toEqual({ CO: 500 });
  });
});

describe('served documents', () => {
  it('serves the OpenAPI document and the Swagger UI at /docs', async () => {
    const { status, body } = await getJson<{ openapi: string; paths: Record<string, unknown> }>(
      `${server.url}/docs/json`,
    );
    expect(status).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        '/api/devices',
        '/api/devices/{id}',
        '/api/readings',
        '/api/events',
        '/healthz',
        '/readyz',
        '/metrics',
      ]),
    );
    const ui = await fetch(`${server.url}/docs/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  it('sends / to the console app at /console/, without a login', async () => {
    const res = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/console/');
  });

  it('is ready with the embedded broker and store, and exposes Prometheus text', async () => {
    expect(await getJson(`${server.url}/readyz`)).toMatchObject({
      status: 200,
      body: { ready: true, reasons: [] },
    });
    // Prometheus scrapes with an API token; anyone else who can reach the port is refused.
    const anonymous = await fetch(`${server.url}/metrics`);
    expect({ status: anonymous.status, body: await anonymous.json() }).toEqual({
      status: 401,
      body: { error: 'unauthenticated', message: expect.any(String) },
    });
    const res = await apiFetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toContain('# TYPE gaswatch_store_write_seconds histogram');
    expect(text).toContain('# TYPE gaswatch_ingest_buffered_readings gauge');
  });
});
