import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelConfigSchema } from '../../src/notify/channel-config.js';
import {
  createDingtalkAdapter,
  DingtalkChannelSchema,
  dingtalkSign,
} from '../../src/notify/providers/dingtalk.js';
import { captureLogs, json, rejection, type Seen, type StandIn, startStandIn } from './stand-in.js';

const TOKEN = 'e9a8118c8a3dc0f5d8c02b2d9a5e6f1b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f';
const SECRET = 'SEC10d6e79b42bd94be0d0d603843651aa2ccd7186db6edbc4e2b1f0a9cf421cd';
const NOW = 1_767_646_800_123;

const message = {
  id: 'a3.t2.c2',
  to: '',
  lang: 'zh-CN' as const,
  subject: '燃气报警 大埔镇上村12号',
  text: '厨房 甲烷 32%LEL，已关阀。\n请网格员立即上门处置。',
  params: {},
};

/** The sign DingTalk expects, computed here by its documented steps without the adapter's code. */
const expectedSign = (ts: string) => createHmac('sha256', SECRET).update(`${ts}\n${SECRET}`).digest('base64');

describe('DingTalk 加签: the documentation example', () => {
  it("gives what DingTalk's sample code gives for its secret", () => {
    // https://open.dingtalk.com/document/robots/customize-robot-security-settings: the sample
    // signs with secret "this is secret" and the current time, so it publishes no fixed output.
    // The expected value is what the doc's own Python sample prints with the time fixed at
    // 1577262236757 (run once with CPython's hmac/base64/urllib.parse.quote_plus); it shows the
    // URL-encoding of "+", "/" and "=", which a raw base64 sign would get wrong.
    expect(dingtalkSign('this is secret', 1577262236757)).toBe(
      'hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D',
    );
  });
});

describe('dingtalk adapter', () => {
  let standIn: StandIn | undefined;
  afterEach(async () => {
    await standIn?.close();
    standIn = undefined;
  });

  const config = (url: string, extra: Record<string, unknown> = {}) =>
    DingtalkChannelSchema.parse({
      type: 'dingtalk',
      accessToken: TOKEN,
      secret: SECRET,
      endpoint: `${url}/robot/send`,
      ...extra,
    });

  /** Checks the request line exactly as DingTalk documents it and returns the JSON body. */
  function expectSignedCall(s: Seen, ts: number): Record<string, unknown> {
    expect(s.method).toBe('POST');
    expect(s.path).toBe('/robot/send');
    expect(s.headers['content-type']).toBe('application/json; charset=utf-8');
    const parts = s.rawQuery.split('&');
    expect(parts.map((p) => p.split('=')[0])).toEqual(['access_token', 'timestamp', 'sign']);
    expect(s.query.get('access_token')).toBe(TOKEN);
    expect(s.query.get('timestamp')).toBe(String(ts));
    // Decoded, the sign is the base64 HMAC; on the wire every +, / and = is percent-encoded.
    expect(s.query.get('sign')).toBe(expectedSign(String(ts)));
    expect(parts[2]).toBe(`sign=${encodeURIComponent(expectedSign(String(ts)))}`);
    return JSON.parse(s.raw.toString('utf8')) as Record<string, unknown>;
  }

  it('POSTs a signed markdown message; the timestamp is the clock in ms', async () => {
    standIn = await startStandIn(() => json(200, { errcode: 0, errmsg: 'ok' }));
    const adapter = createDingtalkAdapter(config(standIn.url), { name: 'duty-room', clock: () => NOW });
    expect(adapter).toMatchObject({ name: 'duty-room', type: 'dingtalk', medium: 'chat' });
    expect(adapter.callback).toBeUndefined();

    expect(await adapter.send(message)).toEqual({ providerId: null });

    expect(expectSignedCall(standIn.seen[0] as Seen, NOW)).toEqual({
      msgtype: 'markdown',
      markdown: {
        title: message.subject,
        text: `### ${message.subject}\n\n厨房 甲烷 32%LEL，已关阀。\n\n请网格员立即上门处置。`,
      },
      at: { atMobiles: [], isAtAll: false },
    });
  });

  it('@-mentions the contact by mobile number in atMobiles and in the text', async () => {
    standIn = await startStandIn(() => json(200, { errcode: 0, errmsg: 'ok' }));
    let now = NOW;
    const adapter = createDingtalkAdapter(config(standIn.url, { msgtype: 'text' }), { clock: () => now });
    await adapter.send({ ...message, to: '+8613800138000' });
    now += 61_000;
    await adapter.send({ ...message, to: '+8613800138000' });
    expect(expectSignedCall(standIn.seen[0] as Seen, NOW)).toEqual({
      msgtype: 'text',
      text: { content: `${message.subject}\n${message.text} @13800138000` },
      at: { atMobiles: ['13800138000'], isAtAll: false },
    });
    // Each request is signed anew with its own timestamp.
    expectSignedCall(standIn.seen[1] as Seen, NOW + 61_000);
  });

  it('130101/410100 (too fast) and -1 are retryable; 310000 (sign, keyword, IP) and 300001 permanent', async () => {
    const answers = [
      json(200, { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' }),
      json(200, { errcode: 410100, errmsg: '发送速度太快而限流' }),
      json(200, { errcode: -1, errmsg: '系统繁忙' }),
      json(200, {
        errcode: 310000,
        errmsg: 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]',
      }),
      json(200, { errcode: 300001, errmsg: 'token is not exist' }),
      { status: 500, body: '' },
    ];
    let i = 0;
    standIn = await startStandIn(() => answers[i++] ?? json(500, {}));
    const adapter = createDingtalkAdapter(config(standIn.url), { clock: () => NOW });
    const got = [];
    for (let n = 0; n < answers.length; n++) {
      const err = await rejection(adapter.send(message));
      got.push([err.kind, err.providerCode]);
    }
    expect(got).toEqual([
      ['retryable', '130101'],
      ['retryable', '410100'],
      ['retryable', '-1'],
      ['permanent', '310000'],
      ['permanent', '300001'],
      ['retryable', null],
    ]);
  });

  it('neither the access token nor the secret reaches a log line or an error', async () => {
    const logs = captureLogs();
    standIn = await startStandIn((s) =>
      json(200, { errcode: 310000, errmsg: `sign not match ${s.url} ${SECRET}` }),
    );
    const adapter = createDingtalkAdapter(config(standIn.url), { logger: logs.logger, clock: () => NOW });
    const err = await rejection(adapter.send(message));
    expect(logs.text()).toContain('DingTalk refused');
    for (const secret of [TOKEN, SECRET]) expect(`${logs.text()}${err.message}`).not.toContain(secret);
  });

  it('config: signing is required', () => {
    expect(
      ChannelConfigSchema.safeParse({ type: 'dingtalk', accessToken: TOKEN, secret: SECRET }).success,
    ).toBe(true);
    expect(ChannelConfigSchema.safeParse({ type: 'dingtalk', accessToken: TOKEN }).success).toBe(false);
  });
});
