import { afterEach, describe, expect, it } from 'vitest';
import { ChannelConfigSchema } from '../../src/notify/channel-config.js';
import { ProviderError } from '../../src/notify/provider.js';
import { createWecomAdapter, WecomChannelSchema } from '../../src/notify/providers/wecom.js';
import { captureLogs, json, rejection, type Seen, type StandIn, startStandIn } from './stand-in.js';

const KEY = '693a91f6-7fff-4bc4-97a0-0ec2sifa5aaa';

const message = {
  id: 'a3.t2.c1',
  to: '',
  lang: 'zh-CN' as const,
  subject: '燃气报警 大埔镇上村12号',
  text: '厨房 甲烷 32%LEL，已关阀。\n请网格员立即上门处置。',
  params: {},
};

describe('wecom adapter', () => {
  let standIn: StandIn | undefined;
  afterEach(async () => {
    await standIn?.close();
    standIn = undefined;
  });

  const config = (url: string, extra: Record<string, unknown> = {}) =>
    WecomChannelSchema.parse({ type: 'wecom', key: KEY, endpoint: `${url}/cgi-bin/webhook/send`, ...extra });

  function expectWebhookCall(s: Seen): Record<string, unknown> {
    expect(s.method).toBe('POST');
    expect(s.path).toBe('/cgi-bin/webhook/send');
    expect(s.rawQuery).toBe(`key=${KEY}`);
    expect(s.headers['content-type']).toBe('application/json; charset=utf-8');
    return JSON.parse(s.raw.toString('utf8')) as Record<string, unknown>;
  }

  it('POSTs a markdown message to the webhook with the key in the query', async () => {
    standIn = await startStandIn(() => json(200, { errcode: 0, errmsg: 'ok' }));
    const adapter = createWecomAdapter(config(standIn.url), { name: 'village-group' });
    expect(adapter).toMatchObject({ name: 'village-group', type: 'wecom', medium: 'chat' });
    expect(adapter.callback).toBeUndefined();

    expect(await adapter.send(message)).toEqual({ providerId: null });

    expect(expectWebhookCall(standIn.seen[0] as Seen)).toEqual({
      msgtype: 'markdown',
      markdown: { content: `### ${message.subject}\n${message.text}` },
    });
  });

  it('a text message @-mentions the contact by mobile number; content cut to 2048 bytes', async () => {
    standIn = await startStandIn(() => json(200, { errcode: 0, errmsg: 'ok' }));
    const adapter = createWecomAdapter(config(standIn.url, { msgtype: 'text' }));
    await adapter.send({ ...message, to: '+8613800138000' });
    expect(expectWebhookCall(standIn.seen[0] as Seen)).toEqual({
      msgtype: 'text',
      text: { content: `${message.subject}\n${message.text}`, mentioned_mobile_list: ['13800138000'] },
    });

    await adapter.send({ ...message, text: '报'.repeat(1000) });
    const long = expectWebhookCall(standIn.seen[1] as Seen) as { text: { content: string } };
    expect(Buffer.byteLength(long.text.content)).toBeLessThanOrEqual(2048);
    expect(long.text.content.endsWith('…')).toBe(true);
  });

  it('a markdown message is cut to 4096 bytes', async () => {
    standIn = await startStandIn(() => json(200, { errcode: 0, errmsg: 'ok' }));
    await createWecomAdapter(config(standIn.url)).send({ ...message, text: '报'.repeat(3000) });
    const body = expectWebhookCall(standIn.seen[0] as Seen) as { markdown: { content: string } };
    expect(Buffer.byteLength(body.markdown.content)).toBeLessThanOrEqual(4096);
  });

  it('errcode 45009 (throttled) and -1 (busy) are retryable, 93000 (bad key) and 40008 permanent', async () => {
    const answers = [
      json(200, { errcode: 45009, errmsg: 'api freq out of limit' }),
      json(200, { errcode: -1, errmsg: 'system busy' }),
      json(200, { errcode: 93000, errmsg: 'invalid webhook url, hint: [1767646800_12_abc]' }),
      json(200, { errcode: 40008, errmsg: 'invalid message type' }),
      { status: 502, body: 'Bad Gateway' },
      { status: 200, body: '<html>login</html>' },
    ];
    let i = 0;
    standIn = await startStandIn(() => answers[i++] ?? json(500, {}));
    const adapter = createWecomAdapter(config(standIn.url));
    const got = [];
    for (let n = 0; n < answers.length; n++) {
      const err = await rejection(adapter.send(message));
      expect(err).toBeInstanceOf(ProviderError);
      got.push([err.kind, err.providerCode]);
    }
    expect(got).toEqual([
      ['retryable', '45009'],
      ['retryable', '-1'],
      ['permanent', '93000'],
      ['permanent', '40008'],
      ['retryable', null],
      ['retryable', null],
    ]);
  });

  it('the key never reaches a log line or an error, even when WeCom echoes it', async () => {
    const logs = captureLogs();
    standIn = await startStandIn((s) =>
      json(200, { errcode: 93000, errmsg: `invalid webhook url ${s.url}` }),
    );
    const adapter = createWecomAdapter(config(standIn.url), { logger: logs.logger });
    const err = await rejection(adapter.send(message));
    expect(err.message).toContain('93000');
    expect(logs.text()).toContain('WeCom refused');
    expect(`${logs.text()}${err.message}`).not.toContain(KEY);

    // Nobody listening: the error names the failure, not the URL.
    const url = standIn.url;
    await standIn.close();
    standIn = undefined;
    const gone = await rejection(createWecomAdapter(config(url), { logger: logs.logger }).send(message));
    expect(gone).toMatchObject({ kind: 'retryable' });
    expect(`${logs.text()}${gone.message}`).not.toContain(KEY);
  });

  it('config: the key as WeCom shows it in the webhook address', () => {
    expect(ChannelConfigSchema.safeParse({ type: 'wecom', key: KEY }).success).toBe(true);
    expect(ChannelConfigSchema.safeParse({ type: 'wecom', key: `${KEY}&x=1` }).success).toBe(false);
  });
});
