import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelConfigSchema } from '../../src/notify/channel-config.js';
import { createFeishuAdapter, FeishuChannelSchema, feishuSign } from '../../src/notify/providers/feishu.js';
import { captureLogs, json, rejection, type Seen, type StandIn, startStandIn } from './stand-in.js';

const HOOK = '5e3d587e-d78e-4a07-bd07-265f269f86fd';
const SECRET = 'nIMtb7r3N9pkXyXdtAbx6e';
const NOW = 1_767_646_800_999;
const NOW_S = 1_767_646_800;

const message = {
  id: 'a3.t3.c0',
  to: '',
  lang: 'zh-CN' as const,
  subject: '燃气报警 大埔镇上村12号',
  text: '厨房 甲烷 32%LEL，已关阀。\n请网格员立即上门处置。',
  params: {},
};

/** Feishu's documented sign, computed here without the adapter's code. */
const expectedSign = (ts: number) =>
  createHmac('sha256', `${ts}\n${SECRET}`).update(Buffer.alloc(0)).digest('base64');

describe('Feishu 签名校验: the documentation example', () => {
  it('gives the sign of the SignDemo sample (secret "demo", timestamp 1599360473)', () => {
    // https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, 方式三：设置签名校验:
    // SignDemo.java signs with secret "demo" and timestamp 1599360473; the value is what that
    // sample (and the page's Go and Python samples) print for them.
    expect(feishuSign('demo', 1599360473)).toBe('l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=');
  });
});

describe('feishu adapter', () => {
  let standIn: StandIn | undefined;
  afterEach(async () => {
    await standIn?.close();
    standIn = undefined;
  });

  const config = (url: string, extra: Record<string, unknown> = {}) =>
    FeishuChannelSchema.parse({
      type: 'feishu',
      hookId: HOOK,
      secret: SECRET,
      endpoint: `${url}/open-apis/bot/v2/hook/`,
      ...extra,
    });

  function expectHookCall(s: Seen): Record<string, unknown> {
    expect(s.method).toBe('POST');
    expect(s.url).toBe(`/open-apis/bot/v2/hook/${HOOK}`);
    expect(s.headers['content-type']).toBe('application/json; charset=utf-8');
    return JSON.parse(s.raw.toString('utf8')) as Record<string, unknown>;
  }

  it('POSTs a signed card: timestamp in seconds, sign over it, the subject as a red title', async () => {
    standIn = await startStandIn(() =>
      json(200, { StatusCode: 0, StatusMessage: 'success', code: 0, data: {}, msg: 'success' }),
    );
    const adapter = createFeishuAdapter(config(standIn.url), { name: 'township', clock: () => NOW });
    expect(adapter).toMatchObject({ name: 'township', type: 'feishu', medium: 'chat' });
    expect(adapter.callback).toBeUndefined();

    expect(await adapter.send(message)).toEqual({ providerId: null });

    expect(expectHookCall(standIn.seen[0] as Seen)).toEqual({
      timestamp: String(NOW_S),
      sign: expectedSign(NOW_S),
      msg_type: 'interactive',
      card: {
        schema: '2.0',
        header: { title: { tag: 'plain_text', content: message.subject }, template: 'red' },
        body: { elements: [{ tag: 'markdown', content: message.text }] },
      },
    });
  });

  it('a text message carries the subject as its first line', async () => {
    standIn = await startStandIn(() => json(200, { code: 0, data: {}, msg: 'success' }));
    await createFeishuAdapter(config(standIn.url, { msgType: 'text' }), { clock: () => NOW }).send(message);
    expect(expectHookCall(standIn.seen[0] as Seen)).toEqual({
      timestamp: String(NOW_S),
      sign: expectedSign(NOW_S),
      msg_type: 'text',
      content: { text: `${message.subject}\n${message.text}` },
    });
  });

  it('Lark: the region picks open.larksuite.com', async () => {
    const urls: string[] = [];
    const adapter = createFeishuAdapter(
      FeishuChannelSchema.parse({ type: 'feishu', hookId: HOOK, secret: SECRET, region: 'lark' }),
      {
        // Records where the request would go instead of leaving this machine.
        http: async (request) => {
          urls.push(String(request.url));
          return {
            status: 200,
            headers: {},
            text: JSON.stringify({ code: 0, msg: 'success' }),
            broken: false,
          };
        },
      },
    );
    await adapter.send(message);
    expect(urls).toEqual([`https://open.larksuite.com/open-apis/bot/v2/hook/${HOOK}`]);
  });

  it('11232 (throttled) is retryable; 19021 (sign or stale timestamp), 19024 (keyword) and 9499 permanent', async () => {
    const answers = [
      json(200, {
        code: 11232,
        msg: 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1]',
        data: {},
      }),
      json(200, {
        code: 19021,
        msg: 'sign match fail or timestamp is not within one hour from current time',
      }),
      json(200, { code: 19024, msg: 'Key Words Not Found' }),
      json(400, { code: 9499, msg: 'Bad Request', data: {} }),
      { status: 503, body: '' },
    ];
    let i = 0;
    standIn = await startStandIn(() => answers[i++] ?? json(500, {}));
    const adapter = createFeishuAdapter(config(standIn.url), { clock: () => NOW });
    const got = [];
    for (let n = 0; n < answers.length; n++) {
      const err = await rejection(adapter.send(message));
      got.push([err.kind, err.providerCode]);
    }
    expect(got).toEqual([
      ['retryable', '11232'],
      ['permanent', '19021'],
      ['permanent', '19024'],
      ['permanent', '9499'],
      ['retryable', null],
    ]);
  });

  it('keeps the body under 20 KB by cutting the text', async () => {
    standIn = await startStandIn(() => json(200, { code: 0, msg: 'success' }));
    await createFeishuAdapter(config(standIn.url), { clock: () => NOW }).send({
      ...message,
      text: '报'.repeat(10_000),
    });
    expect((standIn.seen[0] as Seen).raw.byteLength).toBeLessThan(20_000);
  });

  it('neither the hook id nor the secret reaches a log line or an error', async () => {
    const logs = captureLogs();
    standIn = await startStandIn((s) =>
      json(200, { code: 19021, msg: `sign match fail ${s.url} ${SECRET}` }),
    );
    const adapter = createFeishuAdapter(config(standIn.url), { logger: logs.logger, clock: () => NOW });
    const err = await rejection(adapter.send(message));
    expect(logs.text()).toContain('Feishu refused');
    for (const secret of [HOOK, SECRET]) expect(`${logs.text()}${err.message}`).not.toContain(secret);
  });

  it('config: signing is required', () => {
    expect(ChannelConfigSchema.safeParse({ type: 'feishu', hookId: HOOK, secret: SECRET }).success).toBe(
      true,
    );
    expect(ChannelConfigSchema.safeParse({ type: 'feishu', hookId: HOOK }).success).toBe(false);
  });
});
