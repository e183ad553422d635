import { createHmac, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelConfigSchema } from '../../src/notify/channel-config.js';
import { CallbackRefused, type CallbackRequest, ProviderError } from '../../src/notify/provider.js';
import { twilioSignature, verifyTwilioCallback } from '../../src/notify/providers/twilio.js';
import { createTwilioSmsAdapter, TwilioSmsChannelSchema } from '../../src/notify/providers/twilio-sms.js';
import { captureLogs, json, rejection, type Seen, type StandIn, startStandIn } from './stand-in.js';

const hex = (n: number) => randomBytes(n).toString('hex');
const ACCOUNT = `AC${hex(16)}`;
const TOKEN = hex(16);
const CALLBACK = 'https://duty.example.cn/api/notify/callback/sms-intl';

const message = {
  id: 'a1.t1.c0',
  to: '+8613800138000',
  lang: 'zh-CN' as const,
  text: '【燃气报警】大埔镇上村12号厨房 甲烷 32%LEL，已关阀。请立即处置，回复1确认。',
  params: {},
};

/** The signature as the test computes it, by Twilio's published steps and nothing of ours. */
function sign(token: string, url: string, form: URLSearchParams): string {
  const keys = [...form.keys()].sort();
  let data = url;
  for (const k of keys) data += k + (form.get(k) ?? '');
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

function signedRequest(form: URLSearchParams, opts: { url?: string; token?: string } = {}): CallbackRequest {
  const url = opts.url ?? CALLBACK;
  return {
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': sign(opts.token ?? TOKEN, url, form),
    },
    rawBody: Buffer.from(form.toString()),
  };
}

describe('Twilio request signature: the published test vectors', () => {
  // The worked example of https://www.twilio.com/docs/usage/security ("Validating Requests are
  // coming from Twilio"): Auth Token 12345, this URL and a <Gather>'s POST parameters.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = (n: string): [string, string][] => [
    ['CallSid', 'CA1234567890ABCDE'],
    ['Caller', n],
    ['Digits', '1234'],
    ['From', n],
    ['To', '+18005551212'],
  ];

  it("gives the documented signature (Twilio's docs and twilio-node's own test)", () => {
    // twilio-node, spec/validation.spec.js (defaultParams, defaultSignature), Twilio's library.
    expect(twilioSignature('12345', url, params('+14158675309'))).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    // The security page's example numbers (+14158675310).
    expect(twilioSignature('12345', url, params('+14158675310'))).toBe('GvWf1cFY/Q7PnoempGyD5oXAezc=');
    // The order the parameters arrive in does not matter: they are sorted.
    expect(twilioSignature('12345', url, params('+14158675309').reverse())).toBe(
      'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
    );
  });

  it('accepts the vector as a callback, also when the URL is given with the default port', () => {
    const form = new URLSearchParams(params('+14158675309'));
    for (const u of [url, 'https://mycompany.com:443/myapp.php?foo=1&bar=2']) {
      const got = verifyTwilioCallback('12345', {
        method: 'POST',
        url: u,
        headers: { 'X-Twilio-Signature': 'RSOYDt4T1cUTdK1PDd93/VVr8B8=' },
        rawBody: Buffer.from(form.toString()),
      });
      expect(got.get('Digits')).toBe('1234');
    }
  });
});

describe('twilio-sms adapter', () => {
  let standIn: StandIn | undefined;
  afterEach(async () => {
    await standIn?.close();
    standIn = undefined;
  });

  const config = (endpoint: string, extra: Record<string, unknown> = {}) =>
    TwilioSmsChannelSchema.parse({
      type: 'twilio-sms',
      accountSid: ACCOUNT,
      authToken: TOKEN,
      from: '+15005550006',
      callbackUrl: CALLBACK,
      endpoint,
      ...extra,
    });

  function expectMessagesCall(s: Seen, user: string, pass: string): URLSearchParams {
    expect(s.method).toBe('POST');
    expect(s.url).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
    expect(s.headers.authorization).toBe(`Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`);
    expect(s.headers['content-type']).toBe('application/x-www-form-urlencoded');
    return new URLSearchParams(s.raw.toString('utf8'));
  }

  it('POSTs To, From, Body and StatusCallback form-encoded with basic auth; the SID is the provider id', async () => {
    standIn = await startStandIn(() =>
      json(201, { sid: 'SM0123456789abcdef0123456789abcdef', status: 'queued' }),
    );
    const adapter = createTwilioSmsAdapter(config(standIn.url), { name: 'sms-intl' });
    expect(adapter).toMatchObject({ name: 'sms-intl', type: 'twilio-sms', medium: 'sms' });

    const accepted = await adapter.send(message);

    expect(accepted).toEqual({ providerId: 'SM0123456789abcdef0123456789abcdef' });
    expect(standIn.seen).toHaveLength(1);
    const form = expectMessagesCall(standIn.seen[0] as Seen, ACCOUNT, TOKEN);
    expect([...form.keys()].sort()).toEqual(['Body', 'From', 'StatusCallback', 'To']);
    expect(form.get('To')).toBe('+8613800138000');
    expect(form.get('From')).toBe('+15005550006');
    expect(form.get('Body')).toBe(message.text);
    expect(form.get('StatusCallback')).toBe(CALLBACK);
  });

  it('sends through a Messaging Service and authenticates with an API key when configured', async () => {
    standIn = await startStandIn(() => json(201, { sid: 'SMfeed' }));
    const keySid = `SK${hex(16)}`;
    const keySecret = hex(16);
    const service = `MG${hex(16)}`;
    const adapter = createTwilioSmsAdapter(
      TwilioSmsChannelSchema.parse({
        type: 'twilio-sms',
        accountSid: ACCOUNT,
        authToken: TOKEN,
        apiKeySid: keySid,
        apiKeySecret: keySecret,
        messagingServiceSid: service,
        endpoint: standIn.url,
      }),
    );
    await adapter.send(message);
    const form = expectMessagesCall(standIn.seen[0] as Seen, keySid, keySecret);
    expect([...form.keys()].sort()).toEqual(['Body', 'MessagingServiceSid', 'To']);
    expect(form.get('MessagingServiceSid')).toBe(service);
  });

  it('cuts a text over 1600 characters, the most Twilio takes', async () => {
    standIn = await startStandIn(() => json(201, { sid: 'SMlong' }));
    await createTwilioSmsAdapter(config(standIn.url)).send({ ...message, text: '报'.repeat(2000) });
    const body = new URLSearchParams((standIn.seen[0] as Seen).raw.toString()).get('Body') ?? '';
    expect([...body]).toHaveLength(1600);
    expect(body.endsWith('…')).toBe(true);
  });

  it("classifies Twilio's errors: bad number and auth permanent, throttling and 5xx retryable", async () => {
    const answers = [
      json(400, { code: 21211, message: "The 'To' number +86138 is not a valid phone number.", status: 400 }),
      json(401, { code: 20003, message: 'Authenticate', status: 401 }),
      json(400, { code: 21610, message: 'Attempt to send to unsubscribed recipient', status: 400 }),
      json(429, { code: 20429, message: 'Too Many Requests', status: 429 }),
      json(400, {
        code: 21611,
        message: "This 'From' number has exceeded the maximum number of queued messages",
        status: 400,
      }),
      { status: 503, body: '<html>Service Unavailable</html>' },
    ];
    let i = 0;
    standIn = await startStandIn(() => answers[i++] ?? json(500, {}));
    const adapter = createTwilioSmsAdapter(config(standIn.url));
    const got = [];
    for (let n = 0; n < answers.length; n++) {
      const err = await rejection(adapter.send(message));
      expect(err).toBeInstanceOf(ProviderError);
      got.push([err.kind, err.providerCode]);
    }
    expect(got).toEqual([
      ['permanent', '21211'],
      ['permanent', '20003'],
      ['permanent', '21610'],
      ['retryable', '20429'],
      ['retryable', '21611'],
      ['retryable', null],
    ]);
  });

  it('a number not in E.164 is refused before any request', async () => {
    standIn = await startStandIn(() => json(201, { sid: 'SMx' }));
    const err = await rejection(
      createTwilioSmsAdapter(config(standIn.url)).send({ ...message, to: '13800138000' }),
    );
    expect(err).toMatchObject({ kind: 'permanent' });
    expect(standIn.seen).toHaveLength(0);
  });

  it('no answer within the timeout, or nobody listening, is retryable', async () => {
    standIn = await startStandIn(() => 'hang');
    const slow = createTwilioSmsAdapter(config(standIn.url, { timeoutMs: 500 }));
    expect(await rejection(slow.send(message))).toMatchObject({ kind: 'retryable', providerCode: null });
    const url = standIn.url;
    await standIn.close();
    standIn = undefined;
    const gone = createTwilioSmsAdapter(config(url));
    const err = await rejection(gone.send(message));
    expect(err).toMatchObject({ kind: 'retryable' });
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('never logs or quotes the Auth Token, the API key secret or the basic credentials', async () => {
    const logs = captureLogs();
    const keySecret = hex(16);
    const basic = Buffer.from(`SK${'0'.repeat(32)}:${keySecret}`).toString('base64');
    let i = 0;
    // The stand-in even echoes the credentials back, as a misbehaving proxy might.
    standIn = await startStandIn((s) =>
      i++ === 0
        ? json(401, {
            code: 20003,
            message: `Authenticate ${s.headers.authorization} ${keySecret}`,
            status: 401,
          })
        : json(201, { sid: 'SMok' }),
    );
    const adapter = createTwilioSmsAdapter(
      config(standIn.url, { apiKeySid: `SK${'0'.repeat(32)}`, apiKeySecret: keySecret }),
      { logger: logs.logger },
    );
    const err = await rejection(adapter.send(message));
    await adapter.send(message);
    const everything = `${logs.text()}\n${err.message}`;
    expect(logs.text()).toContain('Twilio refused');
    expect(logs.text()).toContain('SMS accepted by Twilio');
    for (const secret of [TOKEN, keySecret, basic]) expect(everything).not.toContain(secret);
  });

  describe('callbacks', () => {
    const adapter = () =>
      createTwilioSmsAdapter(config('http://127.0.0.1:9'), { clock: () => Date.UTC(2026, 0, 5, 20, 0, 0) });

    it('a delivery receipt, a failure with its error code; queued says nothing', async () => {
      const status = (s: string, extra: Record<string, string> = {}) =>
        new URLSearchParams({
          SmsSid: 'SM0123',
          SmsStatus: s,
          MessageStatus: s,
          To: '+8613800138000',
          MessageSid: 'SM0123',
          AccountSid: ACCOUNT,
          From: '+15005550006',
          ApiVersion: '2010-04-01',
          ...extra,
        });
      const a = adapter();
      expect(await a.callback?.(signedRequest(status('delivered')))).toEqual([
        { type: 'receipt', providerId: 'SM0123', status: 'delivered', at: Date.UTC(2026, 0, 5, 20, 0, 0) },
      ]);
      expect(await a.callback?.(signedRequest(status('undelivered', { ErrorCode: '30003' })))).toEqual([
        {
          type: 'receipt',
          providerId: 'SM0123',
          status: 'failed',
          at: Date.UTC(2026, 0, 5, 20, 0, 0),
          detail: 'undelivered (error 30003)',
        },
      ]);
      expect(await a.callback?.(signedRequest(status('sent')))).toMatchObject([{ status: 'sent' }]);
      expect(await a.callback?.(signedRequest(status('queued')))).toEqual([]);
    });

    it("an incoming SMS is the person's reply, from their number", async () => {
      const form = new URLSearchParams({
        ToCountry: 'US',
        SmsMessageSid: 'SMin',
        NumMedia: '0',
        SmsSid: 'SMin',
        SmsStatus: 'received',
        Body: ' 1 ',
        To: '+15005550006',
        NumSegments: '1',
        MessageSid: 'SMin',
        AccountSid: ACCOUNT,
        From: '+8613800138000',
        ApiVersion: '2010-04-01',
      });
      const a = adapter();
      const got = await a.callback?.(signedRequest(form));
      expect(got).toEqual([
        {
          type: 'reply',
          providerId: null,
          from: '+8613800138000',
          text: '1',
          at: Date.UTC(2026, 0, 5, 20, 0, 0),
        },
      ]);
      // Twilio is answered with empty TwiML: no automatic text back.
      expect(a.callbackAnswer?.(signedRequest(form), got ?? [])).toEqual({
        status: 200,
        contentType: 'text/xml; charset=utf-8',
        body: '<?xml version="1.0" encoding="UTF-8"?><Response/>',
      });
    });

    it('refuses a callback without a signature, with a wrong one, or signed for another URL', async () => {
      const form = new URLSearchParams({
        MessageSid: 'SM1',
        MessageStatus: 'delivered',
        From: '+1',
        To: '+2',
      });
      const a = adapter();
      const good = signedRequest(form);
      const cases: [CallbackRequest, string][] = [
        [{ ...good, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 'unsigned'],
        [{ ...good, rawBody: Buffer.from(`${form.toString()}&Body=1`) }, 'bad_signature'],
        [signedRequest(form, { token: hex(16) }), 'bad_signature'],
        [{ ...signedRequest(form, { url: `${CALLBACK}?x=1` }), url: CALLBACK }, 'bad_signature'],
        [{ ...good, method: 'GET' }, 'unreadable'],
      ];
      for (const [req, reason] of cases) {
        const err = await rejection(a.callback?.(req) ?? Promise.resolve());
        expect(err).toBeInstanceOf(CallbackRefused);
        expect(err.reason).toBe(reason);
      }
      expect(await a.callback?.(good)).toHaveLength(1);
    });
  });

  it('config: exactly one of from and messagingServiceSid; API key SID and secret together', () => {
    const base = { type: 'twilio-sms', accountSid: ACCOUNT, authToken: TOKEN };
    expect(ChannelConfigSchema.safeParse({ ...base, from: '+15005550006' }).success).toBe(true);
    expect(ChannelConfigSchema.safeParse(base).success).toBe(false);
    expect(
      ChannelConfigSchema.safeParse({ ...base, from: '+15005550006', messagingServiceSid: `MG${hex(16)}` })
        .success,
    ).toBe(false);
    expect(
      ChannelConfigSchema.safeParse({ ...base, from: '+15005550006', apiKeySid: `SK${hex(16)}` }).success,
    ).toBe(false);
    expect(ChannelConfigSchema.safeParse({ ...base, from: '+15005550006', bogus: 1 }).success).toBe(false);
  });
});
