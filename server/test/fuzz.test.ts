import { decodeMessage, topics } from '@gaswatch/shared';
import { prng, waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectGateway,
  getJson,
  metric,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
} from './helpers.js';

const SEED = 20261123;
const COUNT = 3_000;
const DEVICES = 8;

function generate(rand: () => number): { topic: string; payload: Buffer }[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const out: { topic: string; payload: Buffer }[] = [];
  const t0 = Date.parse('2026-11-23T12:00:00.000Z');
  let seq = 0;
  const weird: unknown[] = [
    null,
    true,
    'NaN',
    '12',
    [],
    {},
    -1,
    1e308,
    -0,
    2 ** 53,
    'Infinity',
    { CO: 1 },
    '💥',
  ];
  for (let i = 0; i < COUNT; i++) {
    const dev = `fz-${Math.floor(rand() * DEVICES)}`;
    const valid = reading(seq, t0 + seq * 1_000, { CO: Math.round(rand() * 5000) / 10 });
    seq++;
    let topic = topics.reading('gw-fz', dev);
    let text = JSON.stringify(valid);
    let bytes: Buffer | null = null;
    const r = rand();
    if (r < 0.35) {
      // valid as is
    } else if (r < 0.5) {
      // flip, drop or insert random bytes
      const b = Buffer.from(text);
      const n = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < n; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      bytes = rand() < 0.5 ? b : b.subarray(0, Math.floor(rand() * b.length));
    } else if (r < 0.7) {
      // a field replaced by a value of the wrong type or range
      const o = JSON.parse(text) as Record<string, unknown>;
      const key = pick(['v', 'ts', 'seq', 'values', 'status', 'faults', 'extra']);
      o[key] = pick(weird);
      if (rand() < 0.3) o.values = { [pick(['CO', 'XX', 'co', 'O2', '__proto__'])]: pick(weird) };
      text = JSON.stringify(o);
      if (rand() < 0.2)
        text = text.replace(/"CO":[^,}]+/, pick(['"CO":NaN', '"CO":1e999', '"CO":-1e999', '"CO":0x10']));
    } else if (r < 0.8) {
      // wrong topic shapes under the gateway's own prefix (anything else the broker refuses before
      // ingest: mqtt-access-contract.ts)
      topic = pick([
        `gaswatch/v1/gw-fz/${dev}/readings`,
        `gaswatch/v1/gw-fz/GW/reading`,
        `gaswatch/v1/gw-fz/${dev}/reading/extra`,
        `gaswatch/v1/gw-fz/${'x'.repeat(70)}/reading`,
        'gaswatch/v1/gw-fz/',
        `gaswatch/v1/gw-fz//reading`,
        `gaswatch/v1/gw-fz/${dev}`,
        'gaswatch/v1/gw-fz/status',
        `gaswatch/v1/gw-fz/${dev}/state`,
        `gaswatch/v1/gw-fz/${dev}/event`,
        'gaswatch/v1/gw-fz/cmd/result',
        `gaswatch/v1/gw-fz/$SYS/${dev}`,
      ]);
    } else if (r < 0.88) {
      // structural junk
      text = pick([
        '',
        'null',
        '[]',
        '"reading"',
        '{'.repeat(5000),
        `${'['.repeat(3000)}${']'.repeat(3000)}`,
        `{"v":1,"v":2,${text.slice(1)}`,
        text.slice(0, -1),
        `${text}${text}`,
        '\u0000\u0001\u0002',
      ]);
    } else if (r < 0.93) {
      // oversized, sometimes otherwise valid
      const o = JSON.parse(text) as Record<string, unknown>;
      o.faults = Array.from({ length: 32 }, () => 'f'.repeat(64));
      text = JSON.stringify({ ...o, pad: 'x'.repeat(60_000 + Math.floor(rand() * 20_000)) });
    } else {
      // non-UTF-8 / binary
      bytes = Buffer.from(
        Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)),
      );
    }
    out.push({ topic, payload: bytes ?? Buffer.from(text) });
  }
  return out;
}

let server: TestServer;
let gw: MqttClient;
beforeAll(async () => {
  server = await startTestServer();
  gw = await connectGateway(server, 'gw-fz', { clientId: 'gw-fuzz' });
});
afterAll(async () => {
  await gw?.endAsync();
  await server?.close();
});

describe('fuzz: random and mutated payloads', () => {
  it(`survives ${COUNT} seeded messages and stores every valid reading among them exactly once`, async () => {
    const messages = generate(prng(SEED));
    // What should be stored: decodable readings, first one per (device, ts).
    const expected = new Map<string, Set<number>>();
    let rejects = 0;
    for (const m of messages) {
      const d = decodeMessage(m.topic, m.payload);
      if (!d.ok) {
        rejects++;
        continue;
      }
      if (d.address.kind !== 'reading') continue;
      const dev = (d.address as { dev: string }).dev;
      const set = expected.get(dev) ?? new Set<number>();
      set.add(Date.parse((d.payload as { ts: string }).ts));
      expected.set(dev, set);
    }
    expect(rejects).toBeGreaterThan(COUNT / 3);
    expect([...expected.values()].reduce((n, s) => n + s.size, 0)).toBeGreaterThan(COUNT / 4);

    for (let i = 0; i < messages.length; i += 100) {
      await Promise.all(
        messages
          .slice(i, i + 100)
          .map((m) => gw.publishAsync(m.topic, m.payload, { qos: 1 }).catch(() => undefined)),
      );
    }
    for (const [dev, set] of expected) {
      await waitFor(
        async () => (await server.app.store.countReadings(dev)) >= set.size,
        `${dev} stored`,
        20_000,
        100,
      );
      expect(await server.app.store.countReadings(dev)).toBe(set.size);
    }
    expect((await getJson(`${server.url}/healthz`)).status).toBe(200);
    expect(await metric(server.url, 'gaswatch_ingest_rejects_total{reason="bad_schema"}')).toBeGreaterThan(0);
    expect(await metric(server.url, 'gaswatch_ingest_rejects_total{reason="not_json"}')).toBeGreaterThan(0);
    expect(await metric(server.url, 'gaswatch_ingest_rejects_total{reason="too_large"}')).toBeGreaterThan(0);

    // still ingesting normally afterwards
    await publishReading(gw, 'gw-fz', 'after-fuzz', reading(1, Date.now()));
    await waitFor(
      async () => (await server.app.store.countReadings('after-fuzz')) === 1,
      'reading after the fuzz',
    );
  });
});
