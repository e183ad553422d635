/**
 * Tencent Cloud SMS against a local stand-in for sms.tencentcloudapi.com: SendSms 2021-01-11
 * checked as documented with the TC3 signature recomputed by the test's own code (after both
 * proved on Tencent's published example), each class of error, the status and reply callbacks
 * with and without their token, and no secret in any log line or error.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ProviderError, type ProviderMessage } from '../../src/notify/provider.js';
import { signTc3 } from '../../src/notify/providers/tencent-api.js';
import {
  createTencentSmsAdapter,
  type TencentSmsChannelConfig,
  TencentSmsChannelSchema,
} from '../../src/notify/providers/tencent-sms.js';
import { capturingLogger } from '../helpers.js';
import { callbackRequest, type Stub, useStub } from './provider-stub.js';
import { checkTc3, TENCENT_DOC_EXAMPLE } from './tencent-verify.js';

const SECRET_ID = 'AKIDtestTencentSms000000000000000000';
const SECRET_KEY = 'TencentSecretKey-abcdef0123456789';
const TOKEN = 'tencent-sms-token-0123456789abcd';
const NOW = Date.parse('2026-12-07T03:04:05.678Z');
const clock = () => NOW;

const message: ProviderMessage = {
  id: 'alarm-42.t1.c0',
  to: '+8613800000000',
  lang: 'zh-CN',
  text: '柳江12-3-501 一氧化碳 150ppm',
  params: { household: '柳江12-3-501', gas: '一氧化碳', value: '150ppm' },
};

const OK = {
  Response: {
    SendStatusSet: [
      {
        SerialNo: '5000:1045710669157053657849499619',
        PhoneNumber: '+8613800000000',
        Fee: 1,
        SessionContext: 'alarm-42.t1.c0',
        Code: 'Ok',
        Message: 'send success',
        IsoCode: 'CN',
      },
    ],
    RequestId: 'a0aabda6-cf91-4f3e-a81f-9198114a2279',
  },
};

function config(stub: Stub, over: Partial<TencentSmsChannelConfig> = {}): TencentSmsChannelConfig {
  return TencentSmsChannelSchema.parse({
    type: 'tencent-sms',
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    endpoint: stub.url,
    smsSdkAppId: '1400006666',
    signName: '燃气安全',
    templates: {
      'zh-CN': { id: '1110', params: ['household', 'gas', 'value'] },
      en: { id: '1111', params: ['value', 'household'] },
    },
    callbackToken: TOKEN,
    retries: 2,
    backoffMs: 10,
    ...over,
  });
}

const statusError = (Code: string, Message = 'refused') => ({
  Response: {
    SendStatusSet: [{ SerialNo: '', PhoneNumber: '+8613800000000', Fee: 0, Code, Message }],
    RequestId: 'r',
  },
});
const apiError = (Code: string, Message = 'refused') => ({
  Response: { Error: { Code, Message }, RequestId: 'r' },
});

describe('Tencent Cloud signature v3 (TC3-HMAC-SHA256)', () => {
  // Tencent's worked example in "签名方法 v3" (https://cloud.tencent.com/document/api/213/30654):
  // the SecretId/SecretKey printed there (asterisks), timestamp 1551113065, CVM DescribeInstances.
  it('reproduces the signature of the Chinese document’s example', () => {
    const ex = TENCENT_DOC_EXAMPLE;
    const signed = signTc3({
      secretId: ex.secretId,
      secretKey: ex.secretKey,
      service: 'cvm',
      timestamp: 1551113065,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        host: 'cvm.tencentcloudapi.com',
        'x-tc-action': 'DescribeInstances',
      },
      body: ex.request.body,
    });
    expect(createHash('sha256').update(ex.request.body).digest('hex')).toBe(ex.hashedPayload);
    expect(createHash('sha256').update(signed.canonicalRequest).digest('hex')).toBe(
      ex.hashedCanonicalRequest,
    );
    expect(signed.signature).toBe(ex.signature);
    expect(signed.authorization).toBe(ex.request.headers.authorization);
    // The test's own verifier agrees on the same example, so the stand-in below checks truly.
    expect(checkTc3(ex.request, ex.secretKey)).toMatchObject({ expected: ex.signature, given: ex.signature });
  });

  // The English document's example (https://www.tencentcloud.com/document/product/382/40467):
  // SecretKey Gu5t9xGARNpq86cd98joQYCN3EXAMPLE, only content-type and host signed.
  it('reproduces the signature of the English document’s example', () => {
    const signed = signTc3({
      secretId: 'AKID**********************0123456789EXAMPLE',
      secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
      service: 'cvm',
      timestamp: 1551113065,
      headers: { 'content-type': 'application/json; charset=utf-8', host: 'cvm.tencentcloudapi.com' },
      body: TENCENT_DOC_EXAMPLE.request.body,
    });
    expect(createHash('sha256').update(signed.canonicalRequest).digest('hex')).toBe(
      '5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031',
    );
    expect(signed.authorization).toBe(
      'TC3-HMAC-SHA256 Credential=AKID**********************0123456789EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
    );
  });
});

describe('tencent-sms adapter', () => {
  const stub = useStub({ body: OK });

  it('sends SendSms 2021-01-11 exactly as Tencent documents it and returns the SerialNo', async () => {
    const adapter = createTencentSmsAdapter(config(stub), { name: 'sms-tc', clock });
    expect(adapter).toMatchObject({ name: 'sms-tc', type: 'tencent-sms', medium: 'sms' });
    await expect(adapter.send(message)).resolves.toEqual({ providerId: '5000:1045710669157053657849499619' });
    expect(stub.requests).toHaveLength(1);
    const req = stub.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/');
    expect(req.query).toBe('');
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(req.headers['x-tc-action']).toBe('SendSms');
    expect(req.headers['x-tc-version']).toBe('2021-01-11');
    expect(req.headers['x-tc-region']).toBe('ap-guangzhou');
    expect(req.headers['x-tc-timestamp']).toBe(String(Math.floor(NOW / 1000)));
    expect(req.headers.host).toBe(new URL(stub.url).host);
    expect(JSON.parse(req.body)).toEqual({
      PhoneNumberSet: ['+8613800000000'],
      SmsSdkAppId: '1400006666',
      SignName: '燃气安全',
      TemplateId: '1110',
      TemplateParamSet: ['柳江12-3-501', '一氧化碳', '150ppm'],
      SessionContext: 'alarm-42.t1.c0',
    });
    const check = checkTc3(req, SECRET_KEY);
    expect(check).toMatchObject({
      secretId: SECRET_ID,
      date: '2026-12-07',
      service: 'sms',
      signedHeaders: ['content-type', 'host', 'x-tc-action'],
    });
    expect(check.given).toBe(check.expected);
    expect(checkTc3(req, `${SECRET_KEY}x`).expected).not.toBe(check.given);
  });

  it('fills an English template’s {1}, {2} in its own order, in the region configured', async () => {
    const adapter = createTencentSmsAdapter(config(stub, { region: 'ap-beijing' }), { clock });
    await adapter.send({ ...message, lang: 'en', to: '+85261234567' });
    const req = stub.requests[0]!;
    expect(req.headers['x-tc-region']).toBe('ap-beijing');
    expect(JSON.parse(req.body)).toMatchObject({
      PhoneNumberSet: ['+85261234567'],
      TemplateId: '1111',
      TemplateParamSet: ['150ppm', '柳江12-3-501'],
    });
  });

  it.each([
    // Whole-request errors (Response.Error) and per-number errors (SendStatusSet[].Code).
    [{ body: apiError('AuthFailure.SignatureFailure') }, 'permanent', 'AuthFailure.SignatureFailure', 1],
    [{ body: apiError('AuthFailure.SecretIdNotFound') }, 'permanent', 'AuthFailure.SecretIdNotFound', 1],
    [{ body: apiError('InternalError.Timeout') }, 'retryable', 'InternalError.Timeout', 3],
    [{ body: apiError('RequestLimitExceeded') }, 'retryable', 'RequestLimitExceeded', 3],
    [
      { body: apiError('FailedOperation.TemplateIncorrectOrUnapproved') },
      'permanent',
      'FailedOperation.TemplateIncorrectOrUnapproved',
      1,
    ],
    [
      { body: statusError('FailedOperation.InsufficientBalanceInSmsPackage') },
      'permanent',
      'FailedOperation.InsufficientBalanceInSmsPackage',
      1,
    ],
    [
      { body: statusError('InvalidParameterValue.IncorrectPhoneNumber') },
      'permanent',
      'InvalidParameterValue.IncorrectPhoneNumber',
      1,
    ],
    [
      { body: statusError('FailedOperation.SignatureIncorrectOrUnapproved') },
      'permanent',
      'FailedOperation.SignatureIncorrectOrUnapproved',
      1,
    ],
    [
      { body: statusError('LimitExceeded.PhoneNumberDailyLimit') },
      'permanent',
      'LimitExceeded.PhoneNumberDailyLimit',
      1,
    ],
    [
      { body: statusError('LimitExceeded.PhoneNumberThirtySecondLimit') },
      'retryable',
      'LimitExceeded.PhoneNumberThirtySecondLimit',
      3,
    ],
    [{ status: 502, body: '<html>502 Bad Gateway</html>' }, 'retryable', null, 3],
  ] as const)('classifies %j as %s', async (answer, kind, code, requests) => {
    stub.answer(() => answer);
    const adapter = createTencentSmsAdapter(config(stub), { clock });
    const err = await adapter.send(message).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind, providerCode: code });
    expect(stub.requests).toHaveLength(requests);
  });

  it('tries again after a Tencent internal error and succeeds', async () => {
    stub.answer((_r, i) => (i === 0 ? { body: apiError('InternalError') } : { body: OK }));
    const adapter = createTencentSmsAdapter(config(stub), { clock });
    await expect(adapter.send(message)).resolves.toEqual({ providerId: '5000:1045710669157053657849499619' });
    expect(stub.requests).toHaveLength(2);
  });

  it('never writes the SecretKey to a log line or an error', async () => {
    const { logger, lines } = capturingLogger();
    stub.answer(() => ({ body: apiError('InternalError', `cannot use ${SECRET_KEY}`) }));
    const adapter = createTencentSmsAdapter(config(stub), { clock, logger });
    const err = (await adapter.send(message).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('InternalError');
    expect(err.message).not.toContain(SECRET_KEY);
    stub.answer(() => ({ body: OK }));
    await adapter.send(message);
    expect(lines.length).toBe(4);
    expect(JSON.stringify(lines)).not.toContain(SECRET_KEY);
  });
});

describe('tencent-sms callbacks', () => {
  const adapter = createTencentSmsAdapter(
    TencentSmsChannelSchema.parse({
      type: 'tencent-sms',
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      smsSdkAppId: '1400006666',
      signName: '燃气安全',
      templates: { 'zh-CN': { id: '1', params: [] } },
      callbackToken: TOKEN,
    }),
    { clock },
  );
  const url = `https://gaswatch.example.cn/api/notify/callback/sms-tc?token=${TOKEN}`;

  it('reads delivery reports (短信下发状态通知), times in Beijing time', async () => {
    const body = [
      {
        user_receive_time: '2026-12-07 11:04:09',
        nationcode: '86',
        mobile: '13800000000',
        report_status: 'SUCCESS',
        errmsg: 'DELIVRD',
        description: '用户短信送达成功',
        sid: '5000:1045710669157053657849499619',
      },
      {
        user_receive_time: '2026-12-07 11:04:30',
        nationcode: '86',
        mobile: '13900000000',
        report_status: 'FAIL',
        errmsg: '004',
        description: '用户手机号码停机',
        sid: '5000:1045710669157053657849499620',
      },
    ];
    await expect(adapter.callback!(callbackRequest(url, body))).resolves.toEqual([
      {
        type: 'receipt',
        providerId: '5000:1045710669157053657849499619',
        status: 'delivered',
        at: Date.parse('2026-12-07T03:04:09Z'),
      },
      {
        type: 'receipt',
        providerId: '5000:1045710669157053657849499620',
        status: 'failed',
        at: Date.parse('2026-12-07T03:04:30Z'),
        detail: '004 用户手机号码停机',
      },
    ]);
    expect(
      JSON.parse(
        adapter.callbackAnswer!({ method: 'POST', url: '', headers: {}, rawBody: Buffer.alloc(0) }, []).body,
      ),
    ).toEqual({ result: 0, errmsg: 'OK' });
  });

  it('reads a reply (短信回复)', async () => {
    const body = {
      extend: '',
      mobile: '13800000000',
      nationcode: '86',
      sign: '燃气安全',
      text: '1',
      time: 1796612645,
    };
    await expect(adapter.callback!(callbackRequest(url, body))).resolves.toEqual([
      { type: 'reply', providerId: null, from: '+8613800000000', text: '1', at: 1796612645_000 },
    ]);
  });

  it('refuses a callback without its token, with a wrong one, and one it cannot read', async () => {
    const body = [{ sid: '1', report_status: 'SUCCESS' }];
    await expect(
      adapter.callback!(callbackRequest('https://gaswatch.example.cn/api/notify/callback/sms-tc', body)),
    ).rejects.toMatchObject({ reason: 'unsigned' });
    await expect(
      adapter.callback!(callbackRequest(url.replace(TOKEN, TOKEN.toUpperCase()), body)),
    ).rejects.toMatchObject({ reason: 'bad_signature' });
    await expect(adapter.callback!(callbackRequest(url, { sid: '1' }))).rejects.toMatchObject({
      reason: 'unreadable',
    });
    await expect(adapter.callback!(callbackRequest(url, body, 'GET'))).rejects.toMatchObject({
      reason: 'unreadable',
    });
  });
});
