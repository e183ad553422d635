/**
 * Alibaba Cloud SMS against a local stand-in for dysmsapi: every request checked as Alibaba
 * documents SendSms and the V3 signature, the signature recomputed by the test's own code, each
 * class of error, the HTTP batch push (SmsReport, SmsUp) with and without its token, and no
 * secret in any log line or error.
 */
import { createHash } from 'node:crypto';
import { waitFor } from '@gaswatch/shared/testing';
import { describe, expect, it } from 'vitest';
import { ProviderError, type ProviderMessage } from '../../src/notify/provider.js';
import { acsDate, canonicalQuery, percentEncode, signAcs3 } from '../../src/notify/providers/aliyun-rpc.js';
import {
  type AliyunSmsChannelConfig,
  AliyunSmsChannelSchema,
  createAliyunSmsAdapter,
} from '../../src/notify/providers/aliyun-sms.js';
import { capturingLogger } from '../helpers.js';
import { ALIYUN_DOC_EXAMPLE, checkAcs3 } from './aliyun-verify.js';
import { callbackRequest, deadPort, queryParams, type Stub, useStub } from './provider-stub.js';

const KEY_ID = 'LTAI5tTestKeyId0000';
const SECRET = 'sEcReT-aliyun-0123456789abcdef';
const TOKEN = 'cb-token-0123456789abcdefghij';
const NOW = Date.parse('2026-12-07T03:04:05.678Z');
const clock = () => NOW;

const message: ProviderMessage = {
  id: 'alarm-42.t1.c0',
  to: '+8613800000000',
  lang: 'zh-CN',
  text: '柳江12号3单元501 浴室 一氧化碳 150ppm',
  params: { household: '柳江12-3-501', gas: '一氧化碳', value: '150ppm', extra: 'not in the template' },
};

function config(stub: Stub, over: Partial<AliyunSmsChannelConfig> = {}): AliyunSmsChannelConfig {
  return AliyunSmsChannelSchema.parse({
    type: 'aliyun-sms',
    accessKeyId: KEY_ID,
    accessKeySecret: SECRET,
    endpoint: stub.url,
    signName: '燃气安全',
    templates: {
      'zh-CN': { code: 'SMS_465900001', params: ['household', 'gas', 'value'] },
      en: { code: 'SMS_465900002', params: ['household', 'value'] },
    },
    callbackToken: TOKEN,
    retries: 2,
    backoffMs: 10,
    timeoutMs: 2_000,
    ...over,
  });
}

const OK = {
  Code: 'OK',
  Message: 'OK',
  BizId: '9006197469364984400',
  RequestId: 'F655A8D5-B967-440B-8683-DAD6FF8DE990',
};

describe('Alibaba Cloud V3 signature (ACS3-HMAC-SHA256)', () => {
  // Alibaba's own example values and expected results, from "V3版本请求体&签名机制":
  // https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature
  // (English: https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature)
  it('reproduces the signature of the document’s fixed-value example', () => {
    const ex = ALIYUN_DOC_EXAMPLE;
    const signed = signAcs3({
      method: 'POST',
      host: ex.request.headers.host,
      path: '/',
      query: { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' },
      headers: {
        'x-acs-action': 'RunInstances',
        'x-acs-version': '2014-05-26',
        'x-acs-date': '2023-10-26T10:22:32Z',
        'x-acs-signature-nonce': '3156853299f313e23d1673dc12e1703d',
      },
      body: '',
      accessKeyId: ex.accessKeyId,
      accessKeySecret: ex.accessKeySecret,
    });
    expect(createHash('sha256').update(signed.canonicalRequest).digest('hex')).toBe(
      ex.hashedCanonicalRequest,
    );
    expect(signed.signature).toBe(ex.signature);
    expect(signed.headers.authorization).toBe(
      `ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=${ex.signature}`,
    );
    // The test's own verifier agrees with the document too, so the stand-in below checks truly.
    expect(checkAcs3(ex.request, ex.accessKeySecret)).toMatchObject({
      hashedCanonicalRequest: ex.hashedCanonicalRequest,
      expected: ex.signature,
    });
  });

  // The same request at another date and nonce, as Alibaba's ROA-style page prints it:
  // https://help.aliyun.com/zh/model-studio/user-guide/roa-style-request-body-signature-mechanism
  it('reproduces the signature Alibaba prints for 2023-10-26T09:01:01Z', () => {
    const signed = signAcs3({
      method: 'POST',
      host: 'ecs.cn-shanghai.aliyuncs.com',
      path: '/',
      query: { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' },
      headers: {
        'x-acs-action': 'RunInstances',
        'x-acs-version': '2014-05-26',
        'x-acs-date': '2023-10-26T09:01:01Z',
        'x-acs-signature-nonce': 'd410180a5abf7fe235dd9b74aca91fc0',
      },
      body: '',
      accessKeyId: 'YourAccessKeyId',
      accessKeySecret: 'YourAccessKeySecret',
    });
    expect(signed.signature).toBe('e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804');
  });

  it('percent-encodes as Alibaba specifies: %20 for a space, %2A for *, ~ kept, UTF-8 bytes', () => {
    expect(percentEncode("a b*c~d!'()")).toBe('a%20b%2Ac~d%21%27%28%29');
    expect(percentEncode('燃气')).toBe('%E7%87%83%E6%B0%94');
    expect(canonicalQuery({ b: '2', a: '1 1', A: 'x' })).toBe('A=x&a=1%201&b=2');
  });
});

describe('aliyun-sms adapter', () => {
  const stub = useStub({ body: OK });

  it('sends SendSms exactly as Alibaba documents it and returns the BizId', async () => {
    const adapter = createAliyunSmsAdapter(config(stub), { name: 'sms-main', clock });
    expect(adapter).toMatchObject({ name: 'sms-main', type: 'aliyun-sms', medium: 'sms' });
    await expect(adapter.send(message)).resolves.toEqual({ providerId: '9006197469364984400' });

    expect(stub.requests).toHaveLength(1);
    const req = stub.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/');
    expect(req.body).toBe('');
    // Every parameter, and nothing else: the mainland number without +86, the template's
    // variables by name (a parameter the template does not name stays out).
    expect(queryParams(req.query)).toEqual({
      PhoneNumbers: '13800000000',
      SignName: '燃气安全',
      TemplateCode: 'SMS_465900001',
      TemplateParam: JSON.stringify({ household: '柳江12-3-501', gas: '一氧化碳', value: '150ppm' }),
      OutId: 'alarm-42.t1.c0',
    });
    expect(req.headers['x-acs-action']).toBe('SendSms');
    expect(req.headers['x-acs-version']).toBe('2017-05-25');
    expect(req.headers['x-acs-date']).toBe('2026-12-07T03:04:05Z');
    expect(req.headers['x-acs-signature-nonce']).toMatch(/^[0-9a-f]{32}$/);
    expect(req.headers['x-acs-content-sha256']).toBe(createHash('sha256').update('').digest('hex'));
    expect(req.headers.host).toBe(new URL(stub.url).host);
    const check = checkAcs3(req, SECRET);
    expect(check.credential).toBe(KEY_ID);
    expect(check.signedHeaders).toEqual([
      'host',
      'x-acs-action',
      'x-acs-content-sha256',
      'x-acs-date',
      'x-acs-signature-nonce',
      'x-acs-version',
    ]);
    expect(check.given).toBe(check.expected);
    // A request signed with another secret would not pass the same check.
    expect(checkAcs3(req, `${SECRET}x`).expected).not.toBe(check.given);
  });

  it('uses the English template for an English message and fresh nonces per request', async () => {
    const adapter = createAliyunSmsAdapter(config(stub), { clock });
    await adapter.send({ ...message, lang: 'en' });
    await adapter.send({ ...message, lang: 'en' });
    const [a, b] = stub.requests;
    expect(queryParams(a!.query)).toMatchObject({
      TemplateCode: 'SMS_465900002',
      TemplateParam: JSON.stringify({ household: '柳江12-3-501', value: '150ppm' }),
    });
    expect(a!.headers['x-acs-signature-nonce']).not.toBe(b!.headers['x-acs-signature-nonce']);
  });

  it('sends an international number with its country code and no +', async () => {
    const adapter = createAliyunSmsAdapter(config(stub), { clock });
    await adapter.send({ ...message, to: '+85261234567' });
    expect(queryParams(stub.requests[0]!.query).PhoneNumbers).toBe('85261234567');
  });

  it.each([
    // [what Alibaba answers, the kind, the code, requests made (retries: 2)]
    [
      { status: 200, body: { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '非法手机号' } },
      'permanent',
      'isv.MOBILE_NUMBER_ILLEGAL',
      1,
    ],
    [
      { status: 200, body: { Code: 'isv.SMS_TEMPLATE_ILLEGAL', Message: '模板不合法' } },
      'permanent',
      'isv.SMS_TEMPLATE_ILLEGAL',
      1,
    ],
    [
      { status: 200, body: { Code: 'isv.SMS_SIGNATURE_ILLEGAL', Message: '签名不合法' } },
      'permanent',
      'isv.SMS_SIGNATURE_ILLEGAL',
      1,
    ],
    [
      { status: 200, body: { Code: 'isv.AMOUNT_NOT_ENOUGH', Message: '账户余额不足' } },
      'permanent',
      'isv.AMOUNT_NOT_ENOUGH',
      1,
    ],
    [
      { status: 400, body: { Code: 'SignatureDoesNotMatch', Message: 'Specified signature is not matched' } },
      'permanent',
      'SignatureDoesNotMatch',
      1,
    ],
    [
      {
        status: 404,
        body: { Code: 'InvalidAccessKeyId.NotFound', Message: 'Specified access key is not found.' },
      },
      'permanent',
      'InvalidAccessKeyId.NotFound',
      1,
    ],
    [
      { status: 200, body: { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发分钟级流控' } },
      'retryable',
      'isv.BUSINESS_LIMIT_CONTROL',
      3,
    ],
    [
      { status: 200, body: { Code: 'isp.SYSTEM_ERROR', Message: 'isp.SYSTEM_ERROR' } },
      'retryable',
      'isp.SYSTEM_ERROR',
      3,
    ],
    [
      {
        status: 400,
        body: { Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' },
      },
      'retryable',
      'Throttling.User',
      3,
    ],
    [{ status: 503, body: '<html>Service Unavailable</html>' }, 'retryable', null, 3],
  ] as const)('classifies %j as %s', async (answer, kind, code, requests) => {
    stub.answer(() => answer);
    const adapter = createAliyunSmsAdapter(config(stub), { clock });
    const err = await adapter.send(message).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind, providerCode: code });
    expect(stub.requests).toHaveLength(requests);
  });

  it('tries again after a 5xx and succeeds with the same OutId', async () => {
    stub.answer((_req, i) =>
      i === 0 ? { status: 500, body: { Code: 'InternalError', Message: 'try later' } } : { body: OK },
    );
    const adapter = createAliyunSmsAdapter(config(stub), { clock });
    await expect(adapter.send(message)).resolves.toEqual({ providerId: OK.BizId });
    expect(stub.requests).toHaveLength(2);
    expect(stub.requests.map((r) => queryParams(r.query).OutId)).toEqual([
      'alarm-42.t1.c0',
      'alarm-42.t1.c0',
    ]);
    for (const r of stub.requests) expect(checkAcs3(r, SECRET).given).toBe(checkAcs3(r, SECRET).expected);
  });

  it('ends a pending retry at stop() instead of sleeping through the backoff', async () => {
    stub.answer(() => ({ status: 503, body: 'busy' }));
    const adapter = createAliyunSmsAdapter(config(stub, { retries: 5, backoffMs: 60_000 }), { clock });
    const sending = adapter.send(message).catch((e: unknown) => e);
    await waitFor(async () => stub.requests.length === 1, 'the first attempt');
    await adapter.stop!();
    expect(await sending).toMatchObject({ kind: 'retryable', message: 'channel stopped' });
    expect(stub.requests).toHaveLength(1);
  });

  it('makes a stalled provider a retryable timeout', async () => {
    stub.answer(() => 'hang');
    const adapter = createAliyunSmsAdapter(config(stub, { timeoutMs: 200, retries: 0 }), { clock });
    const err = await adapter.send(message).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'retryable', providerCode: null });
    expect((err as Error).message).toMatch(/no answer within 200 ms/);
  });

  it('makes an unreachable provider retryable', async () => {
    const port = await deadPort();
    const adapter = createAliyunSmsAdapter(
      config(stub, { endpoint: `http://127.0.0.1:${port}/`, retries: 1 }),
      {
        clock,
      },
    );
    const err = await adapter.send(message).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'retryable' });
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('does not follow a redirect', async () => {
    stub.answer(() => ({ status: 302, headers: { location: 'http://127.0.0.1:1/login' } }));
    const adapter = createAliyunSmsAdapter(config(stub), { clock });
    await expect(adapter.send(message)).rejects.toMatchObject({ kind: 'permanent' });
    expect(stub.requests).toHaveLength(1);
  });

  it('refuses a message that lacks a template parameter without calling Alibaba', async () => {
    const adapter = createAliyunSmsAdapter(config(stub), { clock });
    const { gas: _gas, ...params } = message.params;
    await expect(adapter.send({ ...message, params })).rejects.toMatchObject({
      kind: 'permanent',
      message: expect.stringContaining('"gas"'),
    });
    await expect(adapter.send({ ...message, to: '13800000000' })).rejects.toMatchObject({
      kind: 'permanent',
    });
    expect(stub.requests).toHaveLength(0);
  });

  it('never writes the AccessKey secret to a log line or an error', async () => {
    const { logger, lines } = capturingLogger();
    // A provider that echoes the secret back in its error text.
    stub.answer((_r, i) =>
      i < 2
        ? { status: 500, body: { Code: 'InternalError', Message: `signing key ${SECRET} rejected` } }
        : { status: 200, body: { Code: 'isv.INVALID_PARAMETERS', Message: `bad ${SECRET} and ${KEY_ID}` } },
    );
    const adapter = createAliyunSmsAdapter(config(stub), { clock, logger });
    const err = (await adapter.send(message).catch((e: unknown) => e)) as ProviderError;
    expect(err.providerCode).toBe('isv.INVALID_PARAMETERS');
    expect(err.message).not.toContain(SECRET);
    stub.answer(() => ({ body: OK }));
    await adapter.send(message);
    expect(lines.length).toBeGreaterThanOrEqual(4); // three failed attempts, one accepted
    const all = JSON.stringify(lines);
    expect(all).not.toContain(SECRET);
    expect(all).toContain('provider attempt failed');
  });
});

describe('aliyun-sms HTTP batch push (SmsReport, SmsUp)', () => {
  const endpoint = 'http://127.0.0.1:9/';
  const adapter = createAliyunSmsAdapter(
    AliyunSmsChannelSchema.parse({
      type: 'aliyun-sms',
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      endpoint,
      signName: '燃气安全',
      templates: { 'zh-CN': { code: 'SMS_1', params: [] } },
      callbackToken: TOKEN,
    }),
    { clock },
  );
  const url = `https://gaswatch.example.cn/api/notify/callback/sms-main?token=${TOKEN}`;

  it('reads delivery reports and replies, times in Beijing time', async () => {
    // The document's sample fields (https://help.aliyun.com/zh/sms/developer-reference/smsreport-2).
    const push = [
      {
        phone_number: '13800000000',
        send_time: '2026-12-07 11:04:05',
        report_time: '2026-12-07 11:04:09',
        success: true,
        err_code: 'DELIVERED',
        err_msg: '用户接收成功',
        sms_size: '1',
        biz_id: '9006197469364984400',
        out_id: 'alarm-42.t1.c0',
      },
      {
        phone_number: '13900000000',
        send_time: '2026-12-07 11:04:05',
        report_time: '2026-12-07 11:05:00',
        success: false,
        err_code: 'MK:0001',
        err_msg: '空号',
        sms_size: '1',
        biz_id: '9006197469364984401',
        out_id: 'alarm-42.t1.c1',
      },
      // SmsUp (https://help.aliyun.com/knowledge_detail/60127.html)
      {
        phone_number: '13800000000',
        send_time: '2026-12-07 11:06:00',
        content: '1',
        sign_name: '燃气安全',
        dest_code: '1234',
        sequence_id: 1234567890,
      },
    ];
    await expect(adapter.callback!(callbackRequest(url, push))).resolves.toEqual([
      {
        type: 'receipt',
        providerId: '9006197469364984400',
        status: 'delivered',
        at: Date.parse('2026-12-07T03:04:09Z'),
      },
      {
        type: 'receipt',
        providerId: '9006197469364984401',
        status: 'failed',
        at: Date.parse('2026-12-07T03:05:00Z'),
        detail: 'MK:0001 空号',
      },
      {
        type: 'reply',
        providerId: null,
        from: '+8613800000000',
        text: '1',
        at: Date.parse('2026-12-07T03:06:00Z'),
      },
    ]);
    // Alibaba pushes again unless it gets code 0 back.
    expect(
      JSON.parse(
        adapter.callbackAnswer!({ method: 'POST', url: '', headers: {}, rawBody: Buffer.alloc(0) }, []).body,
      ),
    ).toEqual({ code: 0, msg: '接收成功' });
  });

  it('refuses a push without the token, with another token, or with none configured', async () => {
    const push = [{ phone_number: '13800000000', success: true, biz_id: '1' }];
    await expect(
      adapter.callback!(callbackRequest('https://gaswatch.example.cn/api/notify/callback/sms-main', push)),
    ).rejects.toMatchObject({ name: 'CallbackRefused', reason: 'unsigned' });
    await expect(adapter.callback!(callbackRequest(`${url.slice(0, -3)}xyz`, push))).rejects.toMatchObject({
      reason: 'bad_signature',
    });
    const open = createAliyunSmsAdapter(
      AliyunSmsChannelSchema.parse({
        type: 'aliyun-sms',
        accessKeyId: KEY_ID,
        accessKeySecret: SECRET,
        endpoint,
        signName: 's',
        templates: { 'zh-CN': { code: 'SMS_1', params: [] } },
      }),
    );
    await expect(open.callback!(callbackRequest(url, push))).rejects.toMatchObject({ reason: 'unsigned' });
  });

  it('refuses a push it cannot read', async () => {
    await expect(adapter.callback!(callbackRequest(url, 'not json'))).rejects.toMatchObject({
      reason: 'unreadable',
    });
    await expect(adapter.callback!(callbackRequest(url, { biz_id: '1' }))).rejects.toMatchObject({
      reason: 'unreadable',
    });
    await expect(adapter.callback!(callbackRequest(url, [{ phone_number: '1' }]))).rejects.toMatchObject({
      reason: 'unreadable',
    });
  });

  it('writes x-acs-date in UTC to the second', () => {
    expect(acsDate(Date.parse('2026-01-02T03:04:05.999Z'))).toBe('2026-01-02T03:04:05Z');
  });
});
