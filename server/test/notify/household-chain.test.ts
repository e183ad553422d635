/**
 * The whole chain of issue 15 through buildServer, in simulated time: a township registers a
 * household through the API (an elderly woman living alone, her son, the village grid worker), her
 * bedroom detector alarms, her own contacts get an SMS, nobody answers, they get a call, then the
 * grid worker an SMS — and his reply "1", pushed by Alibaba Cloud to the real callback route,
 * acknowledges the alarm as him and stops the chain. Alibaba Cloud SMS and Tencent Cloud voice are
 * local stand-ins that check every request's signature. Refused callbacks are answered 401/403/404
 * and counted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { AlarmDetail } from '../../src/alarms/detail-schema.js';
import { twilioSignature } from '../../src/notify/providers/twilio.js';
import type { NotificationRecord } from '../../src/notify/record.js';
import { deviceState, feed, MIN, manualTime, series, T0 } from '../alarms/helpers.js';
import { apiFetch, getJson, metric, startTestServer, type TestServer, tempDir } from '../helpers.js';
import {
  CALL_TOKEN,
  channelsFor,
  DUTY,
  HOUSEHOLD_STEPS,
  type Providers,
  SMS_TOKEN,
  startProviders,
} from './chain-rig.js';

const tmp = tempDir('gw-chain-');
const TWILIO_TOKEN = 'twilio-auth-token-0123456789abcdef';
const time = manualTime(T0);
let server: TestServer;
let providers: Providers;

const post = (path: string, body: unknown) =>
  apiFetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** A provider's callback, as it arrives: no login, the raw body, the token (or not) in the URL. */
const callback = (channel: string, query: string, body: unknown) =>
  fetch(`${server.url}/api/notify/callback/${channel}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const advance = async (ms: number) => {
  time.advance(ms);
  await server.app.alarms.idle();
};

async function raise(dev: string): Promise<string> {
  const state = deviceState('household-co', 'liujiang', 3600);
  await feed(server.app.store, server.app.bus, series('gw-1', dev, state, T0 - 3 * MIN, T0, 10, { CO: 400 }));
  await server.app.alarms.idle();
  const alarm = server.app.alarms.list({ dev })[0];
  if (alarm === undefined) throw new Error('no alarm raised');
  return alarm.id;
}

const detail = async (id: string) =>
  (await getJson<AlarmDetail>(`${server.url}/api/alarms/${encodeURIComponent(id)}`)).body;

beforeAll(async () => {
  providers = await startProviders();
  const file = join(tmp.dir, 'gaswatch.yaml');
  writeFileSync(
    file,
    stringify({
      channels: {
        ...channelsFor(providers),
        ops: { type: 'webhook', url: 'http://127.0.0.1:9/never', secret: 'a-long-shared-webhook-secret' },
        'sms-intl': {
          type: 'twilio-sms',
          accountSid: `AC${'0'.repeat(32)}`,
          authToken: TWILIO_TOKEN,
          from: '+15005550006',
          callbackUrl: 'https://duty.example.org/api/notify/callback/sms-intl',
        },
      },
      notify: {
        consoleUrl: 'https://gw.dapu.cn/',
        household: { steps: HOUSEHOLD_STEPS },
        duty: DUTY,
      },
    }),
  );
  server = await startTestServer(
    { GASWATCH_CONFIG: file, DATA_DIR: join(tmp.dir, 'data') },
    undefined,
    undefined,
    {
      clock: time.clock,
      alarms: { timers: time.timers },
    },
  );
  for (const area of [
    { id: 'liucheng', name: '柳城县', kind: 'county', parent: null },
    { id: 'dapu', name: '大埔镇', kind: 'township', parent: 'liucheng' },
    { id: 'liujiang', name: '柳江村', kind: 'village', parent: 'dapu' },
  ])
    expect((await post('/api/areas', area)).status).toBe(201);
  const home = await post('/api/households', {
    id: 'liujiang-3-12',
    area: 'liujiang',
    address: '柳江村 3 组 12 号',
    occupants: { count: 1, flags: ['elderly_alone'] },
    heating: ['charcoal'],
    contacts: [
      { name: '王秀英', relation: 'occupant', phone: '13800000001' },
      { name: '王建军', relation: 'family', phone: '138 0000 0011' },
      { name: '韦小明', relation: 'grid_worker', phone: '13800000021' },
    ],
    detectors: [
      { device: 'bedroom-co', location: '卧室' },
      { device: 'kitchen-co', location: '厨房' },
    ],
  });
  expect(home.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await providers?.close();
  tmp.remove();
});

describe('a vulnerable household, in simulated time', () => {
  it('SMS to her own contacts, no answer, a call, then the grid worker; his SMS reply "1" acknowledges and stops the chain', async () => {
    const p = providers;
    const sent = () => p.sent.map((s) => `${s.channel} ${s.to}`);
    const id = await raise('bedroom-co');
    expect(sent()).toEqual(['sms +8613800000001', 'sms +8613800000011']);

    // Alibaba reports the SMS to her delivered, through the real route.
    const report = await callback('sms', `?token=${SMS_TOKEN}`, [
      {
        phone_number: '13800000001',
        send_time: '2026-11-23 08:00:00',
        report_time: '2026-11-23 08:00:06',
        success: true,
        err_code: 'DELIVERED',
        err_msg: '用户接收成功',
        sms_size: '2',
        biz_id: p.sent[0]?.providerId,
        out_id: `${id}.t1.c0`,
      },
    ]);
    expect([report.status, await report.json()]).toEqual([200, { code: 0, msg: '接收成功' }]);

    // Nobody acknowledges: 60 s on (she lives alone), both are called.
    await advance(60_000);
    expect(sent().slice(2)).toEqual(['call +8613800000001', 'call +8613800000011']);
    // Still nobody: the grid worker (her household's) and the village's duty contact get an SMS.
    await advance(60_000);
    expect(sent().slice(4)).toEqual(['sms +8613800000021', 'sms +8613800000031']);

    // He replies "1" from his phone; Alibaba pushes the SmsUp to the callback route.
    const up = await callback('sms', `?token=${SMS_TOKEN}`, [
      {
        phone_number: '13800000021',
        send_time: '2026-11-23 08:02:30',
        content: '1',
        sign_name: '燃气安全',
        dest_code: '1234',
        sequence_id: 1234567,
      },
    ]);
    expect([up.status, await up.json()]).toEqual([200, { code: 0, msg: '接收成功' }]);
    await server.app.alarms.idle();
    expect(server.app.alarms.get(id)).toMatchObject({
      state: 'acknowledged',
      ack: { actor: 'sms:+8613800000021 (韦小明)', note: '短信回复“1”确认' },
    });
    // The chain stops: nobody else is told, not the township duty room an hour later.
    await advance(60 * MIN);
    expect(p.sent).toHaveLength(6);

    // The response card shows who was told what, and what became of it.
    const card = await detail(id);
    const log = card.notifications.map((n: NotificationRecord) => [
      n.step,
      n.contact.name,
      n.medium,
      n.outcome,
    ]);
    expect(log).toEqual([
      [1, '王秀英', 'sms', 'delivered'],
      [1, '王建军', 'sms', 'sent'],
      [2, '王秀英', 'voice', 'sent'],
      [2, '王建军', 'voice', 'sent'],
      [3, '韦小明', 'sms', 'acknowledged'],
      [3, '柳江村委会值班', 'sms', 'sent'],
    ]);
    expect(card.notificationsTotal).toBe(6);
    expect(card.notifications[0]).toMatchObject({
      deliveredAt: Date.parse('2026-11-23T00:00:06Z'),
      text: expect.stringContaining('详情 https://gw.dapu.cn/#/alarms/bedroom-co.'),
    });
    expect(card.notifications[4]).toMatchObject({
      reply: '1',
      answeredAt: Date.parse('2026-11-23T00:02:30Z'),
    });
    expect(card.events.find((e) => e.type === 'acknowledged')).toMatchObject({
      actor: 'sms:+8613800000021 (韦小明)',
    });
    // In the audit log, as an operator's acknowledgement is.
    await waitFor(async () => {
      const audit = await getJson<{ entries?: { actor: string; action: string }[] }>(
        `${server.url}/api/audit?targetKind=alarm&targetId=${encodeURIComponent(id)}`,
      );
      return (audit.body.entries ?? []).some(
        (e) => e.actor === 'sms:+8613800000021 (韦小明)' && e.action === 'alarm.acknowledge',
      );
    }, 'the reply in the audit log');

    // The same list, paged.
    const page = await getJson<{
      notifications: NotificationRecord[];
      total: number;
      nextCursor: string | null;
    }>(`${server.url}/api/alarms/${encodeURIComponent(id)}/notifications?limit=4`);
    expect([page.body.notifications.length, page.body.total, page.body.nextCursor !== null]).toEqual([
      4,
      6,
      true,
    ]);
    const rest = await getJson<{ notifications: NotificationRecord[]; nextCursor: string | null }>(
      `${server.url}/api/alarms/${encodeURIComponent(id)}/notifications?limit=4&cursor=${encodeURIComponent(page.body.nextCursor ?? '')}`,
    );
    expect([rest.body.notifications.map((n) => n.contact.name), rest.body.nextCursor]).toEqual([
      ['韦小明', '柳江村委会值班'],
      null,
    ]);
    expect(
      await metric(server.url, 'gaswatch_notify_replies_total{channel="sms",result="acknowledged"}'),
    ).toBe(1);
  });

  it('key 1 pressed on the call acknowledges as the person called', async () => {
    const p = providers;
    const before = p.sent.length;
    const id = await raise('kitchen-co');
    await advance(60_000);
    const call = p.sent.slice(before).find((s) => s.channel === 'call' && s.to === '+8613800000001');
    expect(call).toBeDefined();
    const key = await callback('call', `?token=${CALL_TOKEN}`, {
      voicekey_callback: {
        call_from: '',
        callid: call?.providerId,
        keypress: '1',
        mobile: '13800000001',
        nationcode: '86',
      },
    });
    expect([key.status, await key.json()]).toEqual([200, { result: 0, errmsg: 'OK' }]);
    await server.app.alarms.idle();
    expect(server.app.alarms.get(id)?.ack).toMatchObject({
      actor: 'voice:+8613800000001 (王秀英)',
      note: '电话按1确认',
    });
  });

  it('refuses callbacks without their token, with a wrong one, for unknown channels and for channels without callbacks, and counts them', async () => {
    const body = [{ phone_number: '13800000021', content: '1', send_time: '2026-11-23 08:02:30' }];
    const unsigned = await callback('sms', '', body);
    expect([unsigned.status, ((await unsigned.json()) as { error: string }).error]).toEqual([
      401,
      'callback_unsigned',
    ]);
    const wrong = await callback('sms', `?token=${SMS_TOKEN}x`, body);
    expect([wrong.status, ((await wrong.json()) as { error: string }).error]).toEqual([
      403,
      'callback_refused',
    ]);
    const garbled = await fetch(`${server.url}/api/notify/callback/sms?token=${SMS_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"not json',
    });
    expect(garbled.status).toBe(400);
    expect((await callback('nope', `?token=${SMS_TOKEN}`, body)).status).toBe(404);
    expect((await callback('ops', '', body)).status).toBe(404);
    const count = (labels: string) =>
      metric(server.url, `gaswatch_notify_callbacks_refused_total{${labels}}`);
    expect(await count('channel="sms",reason="unsigned"')).toBe(1);
    expect(await count('channel="sms",reason="bad_signature"')).toBe(1);
    expect(await count('channel="sms",reason="unreadable"')).toBe(1);
    expect(await count('channel="unknown",reason="unknown_channel"')).toBe(1);
    expect(await count('channel="ops",reason="no_callbacks"')).toBe(1);
  });

  it('checks a Twilio signature against the public URL configured at Twilio, not the address the request reached', async () => {
    const form = new URLSearchParams({
      From: '+8613800000099',
      To: '+15005550006',
      Body: '1',
      MessageSid: 'SM1',
    });
    const send = (url: string) =>
      fetch(`${server.url}/api/notify/callback/sms-intl`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(TWILIO_TOKEN, url, form),
        },
        body: form.toString(),
      });
    const good = await send('https://duty.example.org/api/notify/callback/sms-intl');
    expect([good.status, good.headers.get('content-type'), await good.text()]).toEqual([
      200,
      'text/xml; charset=utf-8',
      '<?xml version="1.0" encoding="UTF-8"?><Response/>',
    ]);
    // Signed over the local address (a forger who saw only the server): refused.
    expect((await send(`${server.url}/api/notify/callback/sms-intl`)).status).toBe(403);
    // A reply from a number nothing was sent to acknowledges nothing, and is counted.
    expect(
      await metric(server.url, 'gaswatch_notify_replies_total{channel="sms-intl",result="unmatched"}'),
    ).toBe(1);
  });
});
