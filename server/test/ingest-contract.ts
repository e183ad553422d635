import { encodePayload, topics } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ReadingRow } from '../src/store/types.js';
import {
  apiFetch,
  authHeaders,
  connectClient,
  connectGateway,
  getJson,
  liveUrl,
  metric,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  waitForCount,
} from './helpers.js';

/**
 * The ingest path end to end over a real MQTT client: one suite, run against the embedded aedes
 * broker and against an external Mosquitto. `setup` returns the env for startTestServer and the
 * URL gateways publish to (null: the server's own embedded broker, where each gateway logs in as
 * itself; the external Mosquitto here is anonymous, its access rules are mqtt-access-mosquitto's).
 */
export function ingestContract(
  name: string,
  setup: () => Promise<{ env: Record<string, string>; brokerUrl: string | null; teardown(): Promise<void> }>,
) {
  describe(`ingest end to end: ${name}`, () => {
    let server: TestServer;
    let gw: MqttClient;
    let teardown: () => Promise<void>;
    let brokerUrl: string | null = null;
    const now = Date.now();
    /** A client publishing as gateway `id`. */
    const gateway = (id: string, clientId: string) =>
      brokerUrl === null ? connectGateway(server, id, { clientId }) : connectClient(brokerUrl, { clientId });

    beforeAll(async () => {
      const s = await setup();
      teardown = s.teardown;
      server = await startTestServer(s.env);
      await waitFor(() => server.app.broker.connected(), 'server connected to its broker');
      brokerUrl = s.brokerUrl;
      gw = await gateway('gw-a', `gw-test-${name}`);
    });
    afterAll(async () => {
      await gw?.endAsync();
      await server?.close();
      await teardown?.();
    });

    const count = (dev: string) => () => server.app.store.countReadings(dev);

    it('stores a reading and shows it in /api/devices, /api/devices/:id and /api/readings', async () => {
      await publishReading(gw, 'gw-a', 'co-1', reading(7, now, { CO: 35.2 }));
      await waitForCount(count('co-1'), 1, 'co-1 stored');
      const { body: list } = await getJson<{ devices: { id: string; lastReading: { values: unknown } }[] }>(
        `${server.url}/api/devices`,
      );
      expect(list.devices.find((d) => d.id === 'co-1')?.lastReading.values).toEqual({ CO: 35.2 });
      const { status, body: dev } = await getJson<Record<string, unknown>>(`${server.url}/api/devices/co-1`);
      expect(status).toBe(200);
      expect(dev).toMatchObject({ id: 'co-1', gw: 'gw-a', online: true, seqGaps: 0 });
      const from = new Date(now - 1_000).toISOString();
      const to = new Date(now + 1_000).toISOString();
      const { body } = await getJson<{ rows: ReadingRow[] }>(
        `${server.url}/api/readings?device=co-1&from=${from}&to=${to}`,
      );
      expect(body.rows).toEqual([
        { ts: new Date(now).toISOString(), seq: 7, values: { CO: 35.2 }, status: 'ok' },
      ]);
    });

    it('stores what the detector said beside its values: fault codes, channel quality, its own alarm', async () => {
      const r = {
        ...reading(3, now, { CO: 1000 }),
        status: 'fault' as const,
        faults: ['sensor_eol'],
        quality: { CO: 'bad' as const },
        alarm: true,
      };
      await publishReading(gw, 'gw-a', 'co-extras', r);
      await waitForCount(count('co-extras'), 1, 'co-extras stored');
      const from = new Date(now - 1_000).toISOString();
      const to = new Date(now + 1_000).toISOString();
      const { body } = await getJson<{ rows: ReadingRow[] }>(
        `${server.url}/api/readings?device=co-extras&from=${from}&to=${to}`,
      );
      expect(body.rows).toEqual([
        {
          ts: new Date(now).toISOString(),
          seq: 3,
          values: { CO: 1000 },
          status: 'fault',
          faults: ['sensor_eol'],
          quality: { CO: 'bad' },
          alarm: true,
        },
      ]);
    });

    it('rejects malformed messages by reason, and stores the valid reading right after them', async () => {
      const t = topics.reading('gw-a', 'bad-1');
      const before = {
        not_json: await metric(server.url, 'gaswatch_ingest_rejects_total{reason="not_json"}'),
        bad_schema: await metric(server.url, 'gaswatch_ingest_rejects_total{reason="bad_schema"}'),
        too_large: await metric(server.url, 'gaswatch_ingest_rejects_total{reason="too_large"}'),
        bad_topic: await metric(server.url, 'gaswatch_ingest_rejects_total{reason="bad_topic"}'),
      };
      const ok = reading(1, now);
      await gw.publishAsync(t, '{"v":1,', { qos: 1 }); // not JSON
      await gw.publishAsync(t, JSON.stringify({ ...ok, seq: 'one' }), { qos: 1 }); // wrong schema
      await gw.publishAsync(t, JSON.stringify({ ...ok, values: { XYZ: 3 } }), { qos: 1 }); // unknown gas
      await gw.publishAsync(t, JSON.stringify(ok).replace('"CO":11', '"CO":NaN'), { qos: 1 }); // NaN: not JSON
      await gw.publishAsync(t, JSON.stringify({ ...ok, values: { CO: -4 } }), { qos: 1 }); // negative
      await gw.publishAsync(t, JSON.stringify(ok).replace('"CO":11', '"CO":1e400'), { qos: 1 }); // parses to Infinity
      await gw.publishAsync(t, JSON.stringify({ ...ok, pad: 'x'.repeat(70_000) }), { qos: 1 }); // oversized
      await gw.publishAsync('gaswatch/v1/gw-a/bad-1/readings', JSON.stringify(ok), { qos: 1 }); // wrong topic shape
      await gw.publishAsync('gaswatch/v1/gw-a/BAD_1/reading', JSON.stringify(ok), { qos: 1 }); // bad device id
      // (A topic outside gaswatch/v1/gw-a/ never reaches ingest: see mqtt-access-contract.ts.)
      await publishReading(gw, 'gw-a', 'bad-1', ok);
      await waitForCount(count('bad-1'), 1, 'valid reading after garbage');
      await waitFor(
        async () =>
          (await metric(server.url, 'gaswatch_ingest_rejects_total{reason="bad_schema"}')) -
            before.bad_schema >=
          4,
        'bad_schema rejects counted',
      );
      expect(
        (await metric(server.url, 'gaswatch_ingest_rejects_total{reason="not_json"}')) - before.not_json,
      ).toBe(2);
      expect(
        (await metric(server.url, 'gaswatch_ingest_rejects_total{reason="bad_schema"}')) - before.bad_schema,
      ).toBe(4);
      expect(
        (await metric(server.url, 'gaswatch_ingest_rejects_total{reason="too_large"}')) - before.too_large,
      ).toBe(1);
      if (name === 'embedded aedes') {
        // an external broker only delivers what matches the server's subscriptions
        expect(
          (await metric(server.url, 'gaswatch_ingest_rejects_total{reason="bad_topic"}')) - before.bad_topic,
        ).toBe(2);
      }
      const rows = (await server.app.store.queryReadings({
        dev: 'bad-1',
        from: 0,
        to: now * 2,
      })) as ReadingRow[];
      expect(rows.map((r) => r.values)).toEqual([ok.values]);
      const res = await fetch(`${server.url}/healthz`);
      expect(res.status).toBe(200);
    });

    it('stores a replayed reading once and announces it once', async () => {
      const seen: number[] = [];
      const onReading = (e: { dev: string; reading: { seq: number } }) => {
        if (e.dev === 'dup-1') seen.push(e.reading.seq);
      };
      server.app.bus.on('reading', onReading);
      const dupsBefore = await metric(server.url, 'gaswatch_ingest_duplicates_total');
      for (const seq of [1, 2, 3, 2, 3, 1])
        await publishReading(gw, 'gw-a', 'dup-1', reading(seq, now + seq * 1_000));
      await publishReading(gw, 'gw-a', 'dup-1', reading(4, now + 4_000));
      await waitFor(() => seen.includes(4), 'fourth reading announced');
      server.app.bus.off('reading', onReading);
      expect(seen).toEqual([1, 2, 3, 4]);
      expect((await metric(server.url, 'gaswatch_ingest_duplicates_total')) - dupsBefore).toBe(3);
      await waitForCount(count('dup-1'), 4, 'dup-1 stored');
      expect(await server.app.store.countReadings('dup-1')).toBe(4);
    });

    it('counts seq gaps per device and subtracts gaps filled by late replays', async () => {
      const gwGaps = 'gaswatch_gateway_seq_gaps{gw="gw-a"}';
      const gapsBefore = await metric(server.url, gwGaps);
      for (const seq of [10, 11, 14, 15])
        await publishReading(gw, 'gw-a', 'gap-1', reading(seq, now + seq * 1_000));
      await waitForCount(count('gap-1'), 4, 'gap-1 stored');
      const d1 = await getJson<{ seqGaps: number }>(`${server.url}/api/devices/gap-1`);
      expect(d1.body.seqGaps).toBe(2);
      expect((await metric(server.url, gwGaps)) - gapsBefore).toBe(2);
      // No time series per device (issue 18: a million devices, a million series).
      expect(await (await apiFetch(`${server.url}/metrics`)).text()).not.toContain('dev="gap-1"');
      await publishReading(gw, 'gw-a', 'gap-1', reading(12, now + 12_000));
      await waitForCount(count('gap-1'), 5, 'late fill stored');
      expect((await getJson<{ seqGaps: number }>(`${server.url}/api/devices/gap-1`)).body.seqGaps).toBe(1);
      expect((await metric(server.url, gwGaps)) - gapsBefore).toBe(1);
    });

    it('a replay of older readings (before the first one seen, or into a gap too long to track) opens no gap; a gateway counting again from 0 is a reset', async () => {
      // What a server sees after its own restart: the live reading first, then the outbox replay.
      await publishReading(gw, 'gw-a', 'replay-1', reading(20, now + 20_000));
      for (const seq of [17, 18, 19])
        await publishReading(gw, 'gw-a', 'replay-1', reading(seq, now + seq * 1_000));
      await publishReading(gw, 'gw-a', 'replay-1', reading(21, now + 21_000));
      await waitForCount(count('replay-1'), 5, 'replay-1 stored');
      const d = await getJson<{ seqGaps: number; seqResets: number }>(`${server.url}/api/devices/replay-1`);
      expect(d.body).toMatchObject({ seqGaps: 0, seqResets: 0 });
      // The gateway lost its seq file: a newer sample with seq 0.
      await publishReading(gw, 'gw-a', 'replay-1', reading(0, now + 30_000));
      await publishReading(gw, 'gw-a', 'replay-1', reading(1, now + 31_000));
      await waitForCount(count('replay-1'), 7, 'replay-1 after reset stored');
      const r = await getJson<{ seqGaps: number; seqResets: number }>(`${server.url}/api/devices/replay-1`);
      expect(r.body).toMatchObject({ seqGaps: 0, seqResets: 1 });

      // A gap too long to track seq by seq (an outage of more than 10 000 readings), then the
      // outbox drains into it while live readings go on: counted once, and no reset.
      // (Sampled every 0.5 s over the last 3 h: none of it stamped ahead of the server clock.)
      for (const seq of [1, 2, 3, 20_000, 4, 5, 20_001])
        await publishReading(gw, 'gw-a', 'replay-2', reading(seq, now - 3 * 3_600_000 + seq * 500));
      await waitForCount(count('replay-2'), 7, 'replay-2 stored');
      const big = await getJson<{ seqGaps: number; seqResets: number }>(`${server.url}/api/devices/replay-2`);
      expect(big.body).toMatchObject({ seqGaps: 19_996, seqResets: 0 });
    });

    it('stores a reading stamped far in the future, flagged clockSuspect; an old one is marked late', async () => {
      const events: { late: boolean; clockSuspect: boolean; seq: number }[] = [];
      const on = (e: { dev: string; late: boolean; clockSuspect: boolean; reading: { seq: number } }) => {
        if (e.dev === 'clock-1')
          events.push({ late: e.late, clockSuspect: e.clockSuspect, seq: e.reading.seq });
      };
      server.app.bus.on('reading', on);
      await publishReading(gw, 'gw-a', 'clock-1', reading(1, Date.now() - 3_600_000));
      await publishReading(gw, 'gw-a', 'clock-1', reading(2, Date.now() + 3_600_000));
      await waitForCount(count('clock-1'), 2, 'clock-1 stored');
      server.app.bus.off('reading', on);
      expect(events).toEqual([
        { late: true, clockSuspect: false, seq: 1 },
        { late: false, clockSuspect: true, seq: 2 },
      ]);
      expect(
        (await getJson<{ clockSuspect: boolean }>(`${server.url}/api/devices/clock-1`)).body.clockSuspect,
      ).toBe(true);
    });

    it('tracks device state and gateway status (outbox depth in /metrics)', async () => {
      const ts = new Date().toISOString();
      const gwB = await gateway('gw-b', `gw-b-${name}`);
      await gwB.publishAsync(
        topics.state('gw-b', 'lel-1'),
        encodePayload('state', {
          v: 1,
          ts,
          online: false,
          model: 'gaswatch-lel',
          kind: 'combustible',
          site: 's1',
          location: 'kitchen',
          lastError: 'timeout',
        }),
        { qos: 1, retain: true },
      );
      await gwB.publishAsync(
        topics.status('gw-b'),
        encodePayload('status', { v: 1, online: true, ts, version: '0.1.0', uptimeS: 5, outboxDepth: 17 }),
        { qos: 1, retain: true },
      );
      await gwB.endAsync();
      await waitFor(
        async () => (await getJson(`${server.url}/api/devices/lel-1`)).status === 200,
        'lel-1 known',
      );
      const { body } = await getJson<{ online: boolean; state: { lastError: string } }>(
        `${server.url}/api/devices/lel-1`,
      );
      expect(body.online).toBe(false);
      expect(body.state.lastError).toBe('timeout');
      await waitFor(
        async () => (await metric(server.url, 'gaswatch_gateway_outbox_depth{gw="gw-b"}')) === 17,
        'outbox depth',
      );
    });

    it('forwards readings and device state on /api/live, to a caller with a login or token only', async () => {
      // Without one the upgrade is refused: no socket, nothing sent.
      const anonymous = new WebSocket(liveUrl(server.url));
      const refused = await new Promise<string>((resolve) => {
        anonymous.once('open', () => resolve('opened'));
        anonymous.once('error', (err) => resolve(err.message));
      });
      expect(refused).toBe('Unexpected server response: 401');
      const ws = new WebSocket(liveUrl(server.url), { headers: authHeaders(server.url) });
      const got: { type: string; data: { dev: string } }[] = [];
      ws.on('message', (m) => got.push(JSON.parse(String(m))));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      await publishReading(gw, 'gw-a', 'live-1', reading(1, Date.now(), { CO: 77 }));
      await gw.publishAsync(
        topics.state('gw-a', 'live-1'),
        encodePayload('state', {
          v: 1,
          ts: new Date().toISOString(),
          online: true,
          model: 'gaswatch-co',
          kind: 'household-co',
          site: 's1',
          location: 'hall',
          lastError: null,
        }),
        { qos: 1 },
      );
      await waitFor(
        () => got.some((m) => m.type === 'deviceState' && m.data.dev === 'live-1'),
        'live deviceState',
      );
      expect(got.find((m) => m.type === 'reading' && m.data.dev === 'live-1')).toMatchObject({
        type: 'reading',
        data: { dev: 'live-1', gw: 'gw-a', values: { CO: 77 }, seq: 1 },
      });
      ws.close();
    });

    it('sends commands to a gateway on its cmd topic', async () => {
      const sub = await gateway('gw-c', `gw-cmd-${name}`);
      const received: unknown[] = [];
      sub.on('message', (_t, p) => received.push(JSON.parse(String(p))));
      await sub.subscribeAsync(topics.cmd('gw-c'), { qos: 1 });
      await server.app.sendCommand('gw-c', { v: 1, id: 'c1', type: 'silence', device: 'co-9' });
      await waitFor(() => received.length === 1, 'command received');
      expect(received[0]).toEqual({ v: 1, id: 'c1', type: 'silence', device: 'co-9' });
      await sub.endAsync();
    });
  });
}
