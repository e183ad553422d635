/**
 * Tencent Cloud voice messages against a local stand-in for vms.tencentcloudapi.com: SendTtsVoice
 * checked as documented with the TC3 signature recomputed by the test, the mainland-only rule,
 * error classes, the three event callbacks (status, keypress, failure) with and without their
 * token, and no secret in any log line.
 */
import { describe, expect, it } from 'vitest';
import type { ProviderMessage } from '../../src/notify/provider.js';
import {
  createTencentVoiceAdapter,
  type TencentVoiceChannelConfig,
  TencentVoiceChannelSchema,
} from '../../src/notify/providers/tencent-voice.js';
import { capturingLogger } from '../helpers.js';
import { callbackRequest, type Stub, useStub } from './provider-stub.js';
import { checkTc3 } from './tencent-verify.js';

const SECRET_ID = 'AKIDtestTencentVoice0000000000000000';
const SECRET_KEY = 'TencentVoiceKey-0123456789abcdef';
const TOKEN = 'tencent-voice-token-0123456789ab';
const NOW = Date.parse('2026-12-07T03:04:05Z');
const clock = () => NOW;

const message: ProviderMessage = {
  id: 'alarm-7.e2.t1.c0',
  to: '+8613800000001',
  lang: 'zh-CN',
  text: '柳江12号3单元501 一氧化碳报警,按1确认',
  params: { address: '柳江12号3单元501', gas: '一氧化碳' },
};

const OK = {
  Response: {
    SendStatus: { CallId: '12582bce-4c1c-11eb-a7b7-525400c9c9b1', SessionContext: 'alarm-7.e2.t1.c0' },
    RequestId: '5bd5ea97-a1dc-4d16-a4fb-2a0a6d3d0a6d',
  },
};

function config(stub: Stub, over: Partial<TencentVoiceChannelConfig> = {}): TencentVoiceChannelConfig {
  return TencentVoiceChannelSchema.parse({
    type: 'tencent-voice',
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    endpoint: stub.url,
    voiceSdkAppid: '1400006666',
    templates: { 'zh-CN': { id: '4356', params: ['address', 'gas'] } },
    callbackToken: TOKEN,
    retries: 1,
    backoffMs: 10,
    ...over,
  });
}

describe('tencent-voice adapter', () => {
  const stub = useStub({ body: OK });

  it('sends SendTtsVoice 2020-09-02 exactly as Tencent documents it and returns the CallId', async () => {
    const adapter = createTencentVoiceAdapter(config(stub), { name: 'call-tc', clock });
    expect(adapter).toMatchObject({ name: 'call-tc', type: 'tencent-voice', medium: 'voice' });
    await expect(adapter.send(message)).resolves.toEqual({ providerId: OK.Response.SendStatus.CallId });
    const req = stub.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/');
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(req.headers['x-tc-action']).toBe('SendTtsVoice');
    expect(req.headers['x-tc-version']).toBe('2020-09-02');
    expect(req.headers['x-tc-region']).toBe('ap-guangzhou');
    expect(req.headers['x-tc-timestamp']).toBe(String(NOW / 1000));
    expect(JSON.parse(req.body)).toEqual({
      TemplateId: '4356',
      TemplateParamSet: ['柳江12号3单元501', '一氧化碳'],
      CalledNumber: '+8613800000001',
      VoiceSdkAppid: '1400006666',
      PlayTimes: 3,
      SessionContext: 'alarm-7.e2.t1.c0',
    });
    const check = checkTc3(req, SECRET_KEY);
    expect(check).toMatchObject({
      secretId: SECRET_ID,
      service: 'vms',
      signedHeaders: ['content-type', 'host', 'x-tc-action'],
    });
    expect(check.given).toBe(check.expected);
  });

  it('refuses a number outside mainland China without calling', async () => {
    const adapter = createTencentVoiceAdapter(config(stub), { clock });
    await expect(adapter.send({ ...message, to: '+14155550100' })).rejects.toMatchObject({
      kind: 'permanent',
    });
    expect(stub.requests).toHaveLength(0);
  });

  it.each([
    [
      {
        Response: {
          Error: { Code: 'FailedOperation.InsufficientBalanceInVoicePackage', Message: '套餐包余量不足' },
          RequestId: 'r',
        },
      },
      'permanent',
      1,
    ],
    [
      {
        Response: {
          Error: { Code: 'FailedOperation.TemplateIncorrectOrUnapproved', Message: '模板未审核' },
          RequestId: 'r',
        },
      },
      'permanent',
      1,
    ],
    [
      {
        Response: {
          Error: { Code: 'InvalidParameterValue.IncorrectPhoneNumber', Message: '手机号格式错误' },
          RequestId: 'r',
        },
      },
      'permanent',
      1,
    ],
    [
      {
        Response: {
          Error: { Code: 'FailedOperation.AccessUpstreamTimeout', Message: '访问上下游模块超时' },
          RequestId: 'r',
        },
      },
      'retryable',
      2,
    ],
    [
      { Response: { Error: { Code: 'InternalError.OtherError', Message: '其他错误' }, RequestId: 'r' } },
      'retryable',
      2,
    ],
  ] as const)('classifies %j as %s', async (body, kind, requests) => {
    stub.answer(() => ({ body }));
    const adapter = createTencentVoiceAdapter(config(stub), { clock });
    await expect(adapter.send(message)).rejects.toMatchObject({
      kind,
      providerCode: body.Response.Error.Code,
    });
    expect(stub.requests).toHaveLength(requests);
  });

  it('never writes the SecretKey to a log line or an error', async () => {
    const { logger, lines } = capturingLogger();
    stub.answer(() => ({
      body: { Response: { Error: { Code: 'InternalError', Message: `key ${SECRET_KEY}` } } },
    }));
    const adapter = createTencentVoiceAdapter(config(stub), { clock, logger });
    const err = (await adapter.send(message).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain(SECRET_KEY);
    expect(lines).toHaveLength(2);
    expect(JSON.stringify(lines)).not.toContain(SECRET_KEY);
  });
});

describe('tencent-voice callbacks', () => {
  const adapter = createTencentVoiceAdapter(
    TencentVoiceChannelSchema.parse({
      type: 'tencent-voice',
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      voiceSdkAppid: '1400006666',
      templates: { 'zh-CN': { id: '1', params: [] } },
      callbackToken: TOKEN,
    }),
    { clock },
  );
  const url = `https://gaswatch.example.cn/api/notify/callback/call-tc?token=${TOKEN}`;
  const read = (body: unknown) => adapter.callback!(callbackRequest(url, body));

  it('reads the call status (语音通知状态通知)', async () => {
    const prompt = (result: string) => ({
      voiceprompt_callback: {
        result,
        accept_time: '1796612650',
        call_from: '',
        callid: 'call-1',
        end_calltime: '1796612671',
        fee: '1',
        mobile: '13800000001',
        nationcode: '86',
        start_calltime: '1796612645',
      },
    });
    await expect(read(prompt('0'))).resolves.toEqual([
      { type: 'receipt', providerId: 'call-1', status: 'answered', at: 1796612671_000 },
    ]);
    await expect(read(prompt('1'))).resolves.toEqual([
      { type: 'receipt', providerId: 'call-1', status: 'no_answer', at: 1796612671_000, detail: 'result 1' },
    ]);
    await expect(read(prompt('2'))).resolves.toMatchObject([{ status: 'failed' }]);
    expect(
      JSON.parse(
        adapter.callbackAnswer!({ method: 'POST', url: '', headers: {}, rawBody: Buffer.alloc(0) }, []).body,
      ),
    ).toEqual({ result: 0, errmsg: 'OK' });
  });

  it('reads a keypress (语音通知按键通知) as a reply on that call', async () => {
    const body = {
      voicekey_callback: {
        call_from: '',
        callid: 'call-1',
        keypress: '1',
        mobile: '13800000001',
        nationcode: '86',
      },
    };
    await expect(read(body)).resolves.toEqual([
      { type: 'reply', providerId: 'call-1', from: '+8613800000001', text: '1', at: NOW },
    ]);
  });

  it('reads the failure reason (语音送达失败原因通知)', async () => {
    const failure = (code: number, reason: string) => ({
      voice_failure_callback: {
        call_from: '075583763333',
        callid: 'call-2',
        failure_code: code,
        failure_reason: reason,
        mobile: '13800000001',
        nationcode: '86',
      },
    });
    await expect(read(failure(8, '空号'))).resolves.toEqual([
      { type: 'receipt', providerId: 'call-2', status: 'failed', at: NOW, detail: '8 空号' },
    ]);
    await expect(read(failure(5, '无人接听'))).resolves.toMatchObject([{ status: 'no_answer' }]);
    await expect(read(failure(2, '通话中'))).resolves.toMatchObject([{ status: 'busy' }]);
  });

  it('refuses a callback without its token, with a wrong one, and one it cannot read', async () => {
    const body = {
      voicekey_callback: { callid: 'c', keypress: '1', mobile: '13800000001', nationcode: '86' },
    };
    await expect(
      adapter.callback!(
        callbackRequest('https://gaswatch.example.cn/api/notify/callback/call-tc?token=', body),
      ),
    ).rejects.toMatchObject({ reason: 'unsigned' });
    await expect(adapter.callback!(callbackRequest(`${url}0`, body))).rejects.toMatchObject({
      reason: 'bad_signature',
    });
    await expect(read({ something_else: {} })).rejects.toMatchObject({ reason: 'unreadable' });
    await expect(read([body])).rejects.toMatchObject({ reason: 'unreadable' });
  });
});
