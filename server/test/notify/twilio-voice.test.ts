import { createHmac, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelConfigSchema } from '../../src/notify/channel-config.js';
import { CallbackRefused, type CallbackRequest } from '../../src/notify/provider.js';
import {
  createTwilioVoiceAdapter,
  TwilioVoiceChannelSchema,
} from '../../src/notify/providers/twilio-voice.js';
import { captureLogs, json, rejection, type Seen, type StandIn, startStandIn } from './stand-in.js';

const hex = (n: number) => randomBytes(n).toString('hex');
const ACCOUNT = `AC${hex(16)}`;
const TOKEN = hex(16);
const CALLBACK = 'https://duty.example.cn/api/notify/callback/call-intl';
const NOW = Date.UTC(2026, 0, 5, 20, 0, 0);

const message = {
  id: 'a7.t1.c0',
  to: '+8613800138000',
  lang: 'zh-CN' as const,
  text: '燃气报警：大埔镇上村12号厨房，甲烷32%LEL，已关阀。',
  params: {},
};

/** X-Twilio-Signature by Twilio's published steps, computed here without the adapter's code. */
function signedRequest(url: string, form: URLSearchParams, token = TOKEN): CallbackRequest {
  let data = url;
  for (const k of [...form.keys()].sort()) data += k + (form.get(k) ?? '');
  return {
    method: 'POST',
    url,
    headers: { 'x-twilio-signature': createHmac('sha1', token).update(data, 'utf8').digest('base64') },
    rawBody: Buffer.from(form.toString()),
  };
}

/** What Twilio POSTs to a Gather's action after a key on a call we placed. */
const gatherForm = (digits: string) =>
  new URLSearchParams({
    AccountSid: ACCOUNT,
    ApiVersion: '2010-04-01',
    CallSid: 'CA5ca1ab1e',
    CallStatus: 'in-progress',
    Called: '+8613800138000',
    Caller: '+15005550006',
    Digits: digits,
    Direction: 'outbound-api',
    FinishedOnKey: '',
    From: '+15005550006',
    To: '+8613800138000',
  });

/** A call status callback. */
const statusForm = (status: string, extra: Record<string, string> = {}) =>
  new URLSearchParams({
    AccountSid: ACCOUNT,
    ApiVersion: '2010-04-01',
    CallSid: 'CA5ca1ab1e',
    CallStatus: status,
    Direction: 'outbound-api',
    From: '+15005550006',
    To: '+8613800138000',
    ...extra,
  });

describe('twilio-voice adapter', () => {
  let standIn: StandIn | undefined;
  afterEach(async () => {
    await standIn?.close();
    standIn = undefined;
  });

  const config = (endpoint: string, extra: Record<string, unknown> = {}) =>
    TwilioVoiceChannelSchema.parse({
      type: 'twilio-voice',
      accountSid: ACCOUNT,
      authToken: TOKEN,
      from: '+15005550006',
      callbackUrl: CALLBACK,
      endpoint,
      ...extra,
    });

  it('places a call with inline TwiML: the alarm in Chinese inside a one-key Gather whose action is the callback', async () => {
    standIn = await startStandIn(() => json(201, { sid: 'CA5ca1ab1e', status: 'queued' }));
    const adapter = createTwilioVoiceAdapter(config(standIn.url), { name: 'call-intl' });
    expect(adapter).toMatchObject({ name: 'call-intl', type: 'twilio-voice', medium: 'voice' });

    expect(await adapter.send(message)).toEqual({ providerId: 'CA5ca1ab1e' });

    const s = standIn.seen[0] as Seen;
    expect(s.method).toBe('POST');
    expect(s.url).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Calls.json`);
    expect(s.headers.authorization).toBe(`Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64')}`);
    expect(s.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(s.raw.toString('utf8'));
    expect([...new Set(form.keys())].sort()).toEqual([
      'From',
      'StatusCallback',
      'StatusCallbackEvent',
      'StatusCallbackMethod',
      'Timeout',
      'To',
      'Twiml',
    ]);
    expect(form.get('To')).toBe('+8613800138000');
    expect(form.get('From')).toBe('+15005550006');
    expect(form.get('Timeout')).toBe('45');
    expect(form.get('StatusCallback')).toBe(CALLBACK);
    expect(form.get('StatusCallbackMethod')).toBe('POST');
    expect(form.getAll('StatusCallbackEvent')).toEqual(['answered', 'completed']);
    const gather =
      `<Gather input="dtmf" numDigits="1" timeout="6" action="${CALLBACK}?lang=zh-CN" method="POST">` +
      `<Say voice="alice" language="zh-CN">${message.text}</Say>` +
      '<Say voice="alice" language="zh-CN">收到请按1确认。</Say></Gather>';
    // Read twice (playTimes 2) before the call ends without a key.
    expect(form.get('Twiml')).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response>${gather}${gather}</Response>`,
    );
  });

  it('speaks English with en-US, escapes the text for XML and reads a long text fewer times', async () => {
    standIn = await startStandIn(() => json(201, { sid: 'CAen' }));
    const adapter = createTwilioVoiceAdapter(config(standIn.url, { playTimes: 3 }));
    await adapter.send({ ...message, lang: 'en', text: 'Gas alarm: kitchen <12> & "store" room' });
    const twiml = new URLSearchParams((standIn.seen[0] as Seen).raw.toString()).get('Twiml') ?? '';
    expect(twiml).toContain(
      '<Say voice="alice" language="en-US">Gas alarm: kitchen &lt;12&gt; &amp; &quot;store&quot; room</Say>',
    );
    expect(twiml).toContain('<Say voice="alice" language="en-US">Press 1 to acknowledge.</Say>');
    expect(twiml).toContain(`action="${CALLBACK}?lang=en"`);
    expect(twiml.split('<Gather').length - 1).toBe(3);

    // 1900 characters of text fit the 4000-character Twiml limit only once.
    await adapter.send({ ...message, text: '报'.repeat(1900) });
    const once = new URLSearchParams((standIn.seen[1] as Seen).raw.toString()).get('Twiml') ?? '';
    expect(once.split('<Gather').length - 1).toBe(1);
    expect(once.length).toBeLessThanOrEqual(4000);

    // A text that cannot fit even once is refused before any request.
    const err = await rejection(adapter.send({ ...message, text: '报'.repeat(5000) }));
    expect(err).toMatchObject({ kind: 'permanent' });
    expect(standIn.seen).toHaveLength(2);
  });

  it('uses the configured voices', async () => {
    standIn = await startStandIn(() => json(201, { sid: 'CAv' }));
    const adapter = createTwilioVoiceAdapter(
      config(standIn.url, { voices: { 'zh-CN': { voice: 'Polly.Zhiyu', language: 'cmn-CN' } } }),
    );
    await adapter.send(message);
    const twiml = new URLSearchParams((standIn.seen[0] as Seen).raw.toString()).get('Twiml') ?? '';
    expect(twiml).toContain(`<Say voice="Polly.Zhiyu" language="cmn-CN">${message.text}</Say>`);
  });

  it('errors: an unverified number is permanent, throttling retryable; the token never in logs', async () => {
    const logs = captureLogs();
    const answers = [
      json(400, { code: 21219, message: "The 'To' phone number is not verified.", status: 400 }),
      json(429, { code: 20429, message: 'Too Many Requests', status: 429 }),
    ];
    let i = 0;
    standIn = await startStandIn(() => answers[i++] ?? json(500, {}));
    const adapter = createTwilioVoiceAdapter(config(standIn.url), { logger: logs.logger });
    expect(await rejection(adapter.send(message))).toMatchObject({
      kind: 'permanent',
      providerCode: '21219',
    });
    expect(await rejection(adapter.send(message))).toMatchObject({
      kind: 'retryable',
      providerCode: '20429',
    });
    expect(logs.text()).toContain('Twilio refused');
    expect(logs.text()).not.toContain(TOKEN);
  });

  describe('callbacks', () => {
    const adapter = () => createTwilioVoiceAdapter(config('http://127.0.0.1:9'), { clock: () => NOW });

    it('pressing 1 is a reply from the person called, linked to the call, answered "acknowledged" in their language', async () => {
      const a = adapter();
      const req = signedRequest(`${CALLBACK}?lang=zh-CN`, gatherForm('1'));
      const got = await a.callback?.(req);
      expect(got).toEqual([
        { type: 'reply', providerId: 'CA5ca1ab1e', from: '+8613800138000', text: '1', at: NOW },
      ]);
      expect(a.callbackAnswer?.(req, got ?? [])).toEqual({
        status: 200,
        contentType: 'text/xml; charset=utf-8',
        body:
          '<?xml version="1.0" encoding="UTF-8"?><Response>' +
          '<Say voice="alice" language="zh-CN">已确认收到，请立即处置。</Say><Hangup/></Response>',
      });

      const en = signedRequest(`${CALLBACK}?lang=en`, gatherForm('3'));
      const other = await a.callback?.(en);
      expect(other).toMatchObject([{ type: 'reply', text: '3' }]);
      expect(a.callbackAnswer?.(en, other ?? []).body).toContain(
        '<Say voice="alice" language="en-US">Not acknowledged. We will keep notifying.</Say><Hangup/>',
      );
    });

    it('call states: answered and completed count as answered, busy and no-answer as such, ringing says nothing', async () => {
      const a = adapter();
      const stamp = 'Mon, 05 Jan 2026 20:00:41 +0000';
      const cases: [URLSearchParams, unknown][] = [
        [
          statusForm('in-progress', {
            Timestamp: stamp,
            CallbackSource: 'call-progress-events',
            SequenceNumber: '0',
          }),
          [{ type: 'receipt', providerId: 'CA5ca1ab1e', status: 'answered', at: Date.parse(stamp) }],
        ],
        [
          statusForm('completed', { CallDuration: '31' }),
          [{ type: 'receipt', providerId: 'CA5ca1ab1e', status: 'answered', at: NOW }],
        ],
        [statusForm('busy'), [{ type: 'receipt', providerId: 'CA5ca1ab1e', status: 'busy', at: NOW }]],
        [
          statusForm('no-answer'),
          [{ type: 'receipt', providerId: 'CA5ca1ab1e', status: 'no_answer', at: NOW }],
        ],
        [
          statusForm('failed'),
          [{ type: 'receipt', providerId: 'CA5ca1ab1e', status: 'failed', at: NOW, detail: 'failed' }],
        ],
        [statusForm('ringing'), []],
      ];
      for (const [form, want] of cases) {
        const req = signedRequest(CALLBACK, form);
        const got = await a.callback?.(req);
        expect(got).toEqual(want);
        expect(a.callbackAnswer?.(req, got ?? [])).toMatchObject({ status: 204, body: '' });
      }
    });

    it('refuses a keypress without a signature, signed with another token, or moved to another language', async () => {
      const a = adapter();
      const good = signedRequest(`${CALLBACK}?lang=zh-CN`, gatherForm('1'));
      const cases: [CallbackRequest, string][] = [
        [{ ...good, headers: {} }, 'unsigned'],
        [signedRequest(`${CALLBACK}?lang=zh-CN`, gatherForm('1'), hex(16)), 'bad_signature'],
        [{ ...good, url: `${CALLBACK}?lang=en` }, 'bad_signature'],
        [{ ...good, rawBody: Buffer.from(gatherForm('2').toString()) }, 'bad_signature'],
      ];
      for (const [req, reason] of cases) {
        const err = await rejection(a.callback?.(req) ?? Promise.resolve());
        expect(err).toBeInstanceOf(CallbackRefused);
        expect(err.reason).toBe(reason);
      }
    });
  });

  it('config: callbackUrl and from are required (acknowledging by phone needs them)', () => {
    const base = { type: 'twilio-voice', accountSid: ACCOUNT, authToken: TOKEN };
    expect(
      ChannelConfigSchema.safeParse({ ...base, from: '+15005550006', callbackUrl: CALLBACK }).success,
    ).toBe(true);
    expect(ChannelConfigSchema.safeParse({ ...base, from: '+15005550006' }).success).toBe(false);
    expect(ChannelConfigSchema.safeParse({ ...base, callbackUrl: CALLBACK }).success).toBe(false);
  });
});
