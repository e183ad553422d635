import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, CommandSchema, encodePayload, topics } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { stringify } from 'yaml';
import type { Alarm } from '../../src/alarms/model.js';
import {
  authHeaders,
  connectGateway,
  getJson,
  liveUrl,
  metric,
  mintToken,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
  tokenId,
} from '../helpers.js';
import { type Received, startReceiver } from './helpers.js';

const SECRET = 'end-to-end-webhook-secret';
const GW = 'gw-e2e';
const DEV = 'kitchen-co';

/**
 * The whole path through buildServer: a gateway publishes over MQTT to the embedded broker, the
 * alarm engine raises, nobody acknowledges, tier 2's webhook is called after ackTimeout (0.5 s
 * here), the duty officer acknowledges over HTTP (an operator's API token) and the gateway
 * receives the silence command.
 */
describe('escalation end to end (buildServer, embedded broker and store, real webhook)', () => {
  let server: TestServer;
  let gateway: MqttClient;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const tmp = tempDir('gw-alarms-e2e-');
  const commands: Command[] = [];
  let live: WebSocket;
  const liveAlarms: { alarmId: string; type: string; state: string }[] = [];
  /** The duty officer's API token (role operator): the acknowledgement records its id. */
  let dutyOfficer = '';
  const ack = (id: string, body: unknown, secret = dutyOfficer) =>
    fetch(`${server.url}/api/alarms/${encodeURIComponent(id)}/ack`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(secret === '' ? {} : { authorization: `Bearer ${secret}` }),
      },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    receiver = await startReceiver();
    const file = join(tmp.dir, 'gaswatch.yaml');
    writeFileSync(
      file,
      stringify({
        channels: { ops: { type: 'webhook', url: receiver.url, secret: SECRET, retries: 1, backoffMs: 50 } },
        sites: {
          'flat-501': {
            coStandard: 'en50291',
            ackTimeout: { critical: 0.5, warning: 0.5 },
            tiers: [
              { name: 'residents', contacts: [{ name: 'resident', channel: 'ops', to: '+8613800000000' }] },
              { name: 'duty', contacts: [{ name: 'duty officer', channel: 'ops' }] },
            ],
            // Real time with 0.5 s steps: the top step told once, so the events are countable.
            repeatS: false,
          },
        },
      }),
    );
    server = await startTestServer({ GASWATCH_CONFIG: file, DATA_DIR: join(tmp.dir, 'data') });
    dutyOfficer = await mintToken(server.app.db, 'operator');
    gateway = await connectGateway(server, GW, { clientId: GW });
    gateway.on('message', (topic, payload) => {
      if (topic !== topics.cmd(GW)) return;
      const parsed = CommandSchema.safeParse(JSON.parse(payload.toString()));
      if (parsed.success) commands.push(parsed.data);
    });
    await gateway.subscribeAsync(topics.cmd(GW), { qos: 1 });
    live = new WebSocket(liveUrl(server.url), { headers: authHeaders(server.url) });
    live.on('message', (m) => {
      const msg = JSON.parse(m.toString()) as {
        type: string;
        data: { alarmId: string; type: string; state: string };
      };
      if (msg.type === 'alarm') liveAlarms.push(msg.data);
    });
    await new Promise((resolve, reject) => {
      live.once('open', resolve);
      live.once('error', reject);
    });
  });

  afterAll(async () => {
    live?.close();
    await gateway?.endAsync();
    await server?.close();
    await receiver?.close();
    tmp.remove();
  });

  let alarm: Alarm;

  it('raises the alarm from readings published over MQTT and notifies tier 1, then tier 2 when nobody acks', async () => {
    await gateway.publishAsync(
      topics.state(GW, DEV),
      encodePayload('state', {
        v: 1,
        ts: new Date().toISOString(),
        online: true,
        model: 'gaswatch-co',
        kind: 'household-co',
        site: 'flat-501',
        location: 'kitchen',
        lastError: null,
        pollIntervalS: 10,
      }),
      { qos: 1, retain: true },
    );
    // 400 ppm CO sampled over the last 3 minutes: EN 50291 fast tier (≥ 300 ppm for 2 min).
    const start = Date.now() - 180_000;
    for (let i = 0; i <= 18; i++)
      await publishReading(gateway, GW, DEV, reading(i, start + i * 10_000, { CO: 400 }));

    await waitFor(async () => {
      const r = await getJson<{ alarms: Alarm[] }>(`${server.url}/api/alarms?state=open`);
      if (r.body.alarms.length === 0) return false;
      alarm = r.body.alarms[0] as Alarm;
      return true;
    }, 'alarm raised');
    expect(alarm).toMatchObject({ dev: DEV, gw: GW, key: 'CO:fast', severity: 'critical', site: 'flat-501' });

    await waitFor(() => receiver.received.length >= 2, 'tier 2 webhook');
    const [t1, t2] = receiver.received as [Received, Received];
    for (const r of [t1, t2])
      expect(r.headers['x-gaswatch-signature']).toBe(
        `sha256=${createHmac('sha256', SECRET).update(r.raw).digest('hex')}`,
      );
    expect(t1.body).toMatchObject({
      alarmId: alarm.id,
      tier: 1,
      reason: 'raised',
      contact: { name: 'resident' },
    });
    expect(t2.body).toMatchObject({
      alarmId: alarm.id,
      tier: 2,
      reason: 'escalated',
      contact: { name: 'duty officer' },
    });
    expect(commands).toEqual([]);
    // The duty room's screen hears about it on /api/live.
    await waitFor(
      () => liveAlarms.some((t) => t.alarmId === alarm.id && t.type === 'raised'),
      'live alarm event',
    );
  });

  it('rejects bad acknowledgements with clear 4xx JSON', async () => {
    const notFound = await ack('no-such-alarm', { note: 'x' });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: 'alarm_not_found' });
    const badNote = await ack(alarm.id, { note: 42 });
    expect(badNote.status).toBe(400);
    expect(await badNote.json()).toMatchObject({
      error: 'bad_request',
      message: expect.stringMatching(/note/),
    });
    // Who acknowledges is the caller, never a name in the body.
    const named = await ack(alarm.id, { note: 'x', actor: 'duty-officer' });
    expect(named.status).toBe(400);
    expect(await named.json()).toMatchObject({
      error: 'bad_request',
      message: expect.stringMatching(/actor/),
    });
    // Nobody, or a caller whose role may only read, may not acknowledge.
    const anonymous = await ack(alarm.id, { note: 'x' }, '');
    expect({ status: anonymous.status, body: await anonymous.json() }).toMatchObject({
      status: 401,
      body: { error: 'unauthenticated' },
    });
    const viewer = await ack(alarm.id, { note: 'x' }, await mintToken(server.app.db, 'viewer'));
    expect({ status: viewer.status, body: await viewer.json() }).toMatchObject({
      status: 403,
      body: { error: 'forbidden', message: expect.stringMatching(/operator/) },
    });
    const badState = await getJson(`${server.url}/api/alarms?state=burning`);
    expect(badState.status).toBe(400);
    expect(badState.body).toMatchObject({ error: 'bad_request', message: expect.stringMatching(/state/) });
    const badLimit = await getJson(`${server.url}/api/alarms?limit=0`);
    expect(badLimit.status).toBe(400);
    const missing = await getJson(`${server.url}/api/alarms/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: 'alarm_not_found' });
    // None of that touched the alarm.
    expect(
      (await getJson<{ alarm: Alarm }>(`${server.url}/api/alarms/${encodeURIComponent(alarm.id)}`)).body.alarm
        .state,
    ).toBe('active');
  });

  it('acknowledged over HTTP: escalation stops and the gateway receives the silence command over MQTT', async () => {
    const res = await ack(alarm.id, { note: 'resident reached, windows open' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { alarm: Alarm; silence: { id: string; sent: boolean } };
    expect(body.alarm).toMatchObject({ state: 'acknowledged', ack: { actor: tokenId(dutyOfficer) } });
    expect(body.silence.sent).toBe(true);

    await waitFor(() => commands.length >= 1, 'silence command at the gateway');
    await waitFor(
      () =>
        liveAlarms.some(
          (t) => t.alarmId === alarm.id && t.type === 'acknowledged' && t.state === 'acknowledged',
        ),
      'live acknowledgement event',
    );
    expect(commands[0]).toEqual({
      v: 1,
      id: body.silence.id,
      type: 'silence',
      device: DEV,
      alarmId: alarm.id,
    });

    const again = await ack(alarm.id, { note: 'me too' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'alarm_already_acknowledged' });

    const detail = await getJson<{ alarm: Alarm; events: { type: string; tier?: number; actor?: string }[] }>(
      `${server.url}/api/alarms/${encodeURIComponent(alarm.id)}`,
    );
    expect(detail.body.events.map((e) => e.type)).toEqual([
      'raised',
      'escalated',
      'escalated',
      'acknowledged',
      'silence',
    ]);
    expect(detail.body.events[3]).toMatchObject({
      actor: tokenId(dutyOfficer),
      note: 'resident reached, windows open',
    });
    expect(detail.body.alarm.silence).toMatchObject({ status: 'sent', command: body.silence.id });

    // The gateway answers on its cmd/result topic: the alarm shows whether the sounder went quiet.
    await gateway.publishAsync(
      topics.cmdResult(GW),
      encodePayload('cmdResult', {
        v: 1,
        id: body.silence.id,
        ok: true,
        ts: new Date().toISOString(),
        message: `silenced ${DEV}`,
      }),
      { qos: 1 },
    );
    const url = `${server.url}/api/alarms/${encodeURIComponent(alarm.id)}`;
    let confirmed: { alarm: Alarm; events: { type: string; ok?: boolean; message?: string }[] } | undefined;
    await waitFor(async () => {
      const r = await getJson<NonNullable<typeof confirmed>>(url);
      confirmed = r.body;
      return r.body.alarm.silence?.status === 'confirmed';
    }, 'silence confirmed by the gateway');
    expect(confirmed?.events.at(-1)).toMatchObject({
      type: 'silence_result',
      ok: true,
      message: `silenced ${DEV}`,
    });
    await waitFor(
      () => liveAlarms.some((t) => t.alarmId === alarm.id && t.type === 'silence_result'),
      'live silence result',
    );

    expect(await metric(server.url, 'gaswatch_notifications_sent_total{channel="ops"}')).toBe(2);
    expect(await metric(server.url, 'gaswatch_alarms_open{severity="critical",state="acknowledged"}')).toBe(
      1,
    );
    expect(
      (await getJson<{ alarms: Alarm[] }>(`${server.url}/api/alarms?state=acknowledged`)).body.alarms,
    ).toHaveLength(1);
  });

  it('documents the alarm routes in the OpenAPI description', async () => {
    const { body } = await getJson<{ paths: Record<string, Record<string, unknown>> }>(
      `${server.url}/docs/json`,
    );
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining(['/api/alarms', '/api/alarms/{id}', '/api/alarms/{id}/ack']),
    );
    expect(Object.keys(body.paths['/api/alarms/{id}/ack'] ?? {})).toContain('post');
  });
});
