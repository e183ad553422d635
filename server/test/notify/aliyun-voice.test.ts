/**
 * Alibaba Cloud voice notification against a local stand-in for dyvmsapi: SingleCallByTts checked
 * as documented with the V3 signature recomputed by the test, the mainland-only rule, error
 * classes, the VoiceReport push (status codes, a keypress passed on as a reply) with and without
 * its token, and no secret in any log line.
 */
import { describe, expect, it } from 'vitest';
import type { ProviderMessage } from '../../src/notify/provider.js';
import {
  type AliyunVoiceChannelConfig,
  AliyunVoiceChannelSchema,
  createAliyunVoiceAdapter,
  voiceOutId,
} from '../../src/notify/providers/aliyun-voice.js';
import { capturingLogger } from '../helpers.js';
import { checkAcs3 } from './aliyun-verify.js';
import { callbackRequest, queryParams, type Stub, useStub } from './provider-stub.js';

const KEY_ID = 'LTAI5tVoiceKeyId000';
const SECRET = 'voice-SECRET-9876543210fedcba';
const TOKEN = 'voice-token-abcdefghijklmnopqrst';
const NOW = Date.parse('2026-12-07T03:04:05Z');
const clock = () => NOW;

const message: ProviderMessage = {
  id: 'alarm-7.e2.t1.c0',
  to: '+8613800000001',
  lang: 'zh-CN',
  text: '柳江12号3单元501 一氧化碳报警',
  params: { address: '柳江12号3单元501', gas: '一氧化碳', value: '150' },
};

const OK = {
  Code: 'OK',
  Message: 'OK',
  RequestId: 'D9CB3933-9FE3-4870-BA8E-2BEE91B69D23',
  CallId: '116012354148^10281378****',
};

function config(stub: Stub, over: Partial<AliyunVoiceChannelConfig> = {}): AliyunVoiceChannelConfig {
  return AliyunVoiceChannelSchema.parse({
    type: 'aliyun-voice',
    accessKeyId: KEY_ID,
    accessKeySecret: SECRET,
    endpoint: stub.url,
    templates: { 'zh-CN': { code: 'TTS_300100001', params: ['address', 'gas', 'value'] } },
    callbackToken: TOKEN,
    retries: 1,
    backoffMs: 10,
    ...over,
  });
}

describe('aliyun-voice adapter', () => {
  const stub = useStub({ body: OK });

  it('calls SingleCallByTts exactly as Alibaba documents it and returns the CallId', async () => {
    const adapter = createAliyunVoiceAdapter(
      config(stub, { calledShowNumber: '057100000000', volume: 100, speed: -50 }),
      {
        name: 'call-main',
        clock,
      },
    );
    expect(adapter).toMatchObject({ name: 'call-main', type: 'aliyun-voice', medium: 'voice' });
    await expect(adapter.send(message)).resolves.toEqual({ providerId: OK.CallId });
    const req = stub.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/');
    expect(req.body).toBe('');
    expect(queryParams(req.query)).toEqual({
      CalledShowNumber: '057100000000',
      CalledNumber: '13800000001',
      TtsCode: 'TTS_300100001',
      TtsParam: JSON.stringify({ address: '柳江12号3单元501', gas: '一氧化碳', value: '150' }),
      PlayTimes: '3',
      Volume: '100',
      Speed: '-50',
      // OutId takes 1–15 bytes: a longer message id goes as a stable digest.
      OutId: voiceOutId('alarm-7.e2.t1.c0'),
    });
    expect(voiceOutId('alarm-7.e2.t1.c0')).toMatch(/^[0-9a-f]{15}$/);
    expect(voiceOutId('a-7.t1.c0')).toBe('a-7.t1.c0');
    expect(req.headers['x-acs-action']).toBe('SingleCallByTts');
    expect(req.headers['x-acs-version']).toBe('2017-05-25');
    expect(req.headers['x-acs-date']).toBe('2026-12-07T03:04:05Z');
    const check = checkAcs3(req, SECRET);
    expect(check.credential).toBe(KEY_ID);
    expect(check.given).toBe(check.expected);
  });

  it('leaves out what is not configured (public number pool, Alibaba’s volume and speed)', async () => {
    const adapter = createAliyunVoiceAdapter(config(stub, { playTimes: 2 }), { clock });
    await adapter.send(message);
    const params = queryParams(stub.requests[0]!.query);
    expect(Object.keys(params).sort()).toEqual(['CalledNumber', 'OutId', 'PlayTimes', 'TtsCode', 'TtsParam']);
    expect(params.PlayTimes).toBe('2');
  });

  it('refuses a number outside mainland China without calling', async () => {
    const adapter = createAliyunVoiceAdapter(config(stub), { clock });
    await expect(adapter.send({ ...message, to: '+85261234567' })).rejects.toMatchObject({
      kind: 'permanent',
      message: expect.stringContaining('mainland'),
    });
    expect(stub.requests).toHaveLength(0);
  });

  it.each([
    [{ status: 200, body: { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发流控' } }, 'retryable', 2],
    [{ status: 200, body: { Code: 'isv.OUT_OF_SERVICE', Message: '业务停机' } }, 'permanent', 1],
    [{ status: 200, body: { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '号码格式非法' } }, 'permanent', 1],
    [{ status: 200, body: { Code: 'isv.TTS_TEMPLATE_ILLEGAL', Message: 'TTS模板不合法' } }, 'permanent', 1],
    [{ status: 502, body: 'Bad Gateway' }, 'retryable', 2],
  ] as const)('classifies %j as %s', async (answer, kind, requests) => {
    stub.answer(() => answer);
    const adapter = createAliyunVoiceAdapter(config(stub), { clock });
    await expect(adapter.send(message)).rejects.toMatchObject({ kind });
    expect(stub.requests).toHaveLength(requests);
  });

  it('never writes the AccessKey secret to a log line or an error', async () => {
    const { logger, lines } = capturingLogger();
    stub.answer(() => ({ status: 403, body: { Code: 'Forbidden.RAM', Message: `denied for ${SECRET}` } }));
    const adapter = createAliyunVoiceAdapter(config(stub), { clock, logger });
    const err = (await adapter.send(message).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('Forbidden.RAM');
    expect(err.message).not.toContain(SECRET);
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });
});

describe('aliyun-voice VoiceReport push', () => {
  const adapter = createAliyunVoiceAdapter(
    AliyunVoiceChannelSchema.parse({
      type: 'aliyun-voice',
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      templates: { 'zh-CN': { code: 'TTS_1', params: [] } },
      callbackToken: TOKEN,
    }),
    { clock },
  );
  const url = `https://gaswatch.example.cn/api/notify/callback/call-main?token=${TOKEN}`;
  // The fields of Alibaba's VoiceReport sample (https://help.aliyun.com/zh/vms/voicereport-6).
  const record = (over: Record<string, string>) => ({
    status_code: '200000',
    callee: '13800000001',
    ring_time: '2026-12-07 11:04:10',
    duration: '21',
    voice_type: 'voice',
    originate_time: '2026-12-07 11:04:06',
    b_start_time: '2026-12-07 11:04:15',
    end_time: '2026-12-07 11:04:36',
    call_id: '122628733198^10942206001',
    caller: '057100000000',
    status_msg: '用户听完语音',
    out_id: 'abc',
    toll_type: 'LOCAL',
    ...over,
  });

  it('maps the call status codes and passes a keypress on as a reply', async () => {
    const push = [
      record({ call_id: 'c1', status_code: '200000', dtmf: '1' }),
      record({ call_id: 'c2', status_code: '200003', status_msg: '用户未接听', b_start_time: '' }),
      record({ call_id: 'c3', status_code: '200002', status_msg: '用户占线' }),
      record({ call_id: 'c4', status_code: '200010', status_msg: '关机' }),
      record({ call_id: 'c5', status_code: '200001', dtmf: '' }),
    ];
    const at = Date.parse('2026-12-07T03:04:36Z');
    await expect(adapter.callback!(callbackRequest(url, push))).resolves.toEqual([
      { type: 'receipt', providerId: 'c1', status: 'answered', at },
      { type: 'reply', providerId: 'c1', from: '+8613800000001', text: '1', at },
      { type: 'receipt', providerId: 'c2', status: 'no_answer', at, detail: '200003 用户未接听' },
      { type: 'receipt', providerId: 'c3', status: 'busy', at, detail: '200002 用户占线' },
      { type: 'receipt', providerId: 'c4', status: 'failed', at, detail: '200010 关机' },
      { type: 'receipt', providerId: 'c5', status: 'answered', at },
    ]);
    expect(
      JSON.parse(
        adapter.callbackAnswer!({ method: 'POST', url: '', headers: {}, rawBody: Buffer.alloc(0) }, []).body,
      ),
    ).toEqual({ code: 0, msg: '接收成功' });
  });

  it('skips call-progress items (VoiceCallReport) pushed to the same URL', async () => {
    const progress = {
      status_code: '200101',
      status_time: '2026-12-07 11:04:06',
      out_id: 'x',
      call_id: 'c1',
    };
    await expect(adapter.callback!(callbackRequest(url, [progress]))).resolves.toEqual([]);
  });

  it('refuses a push without its token or with a wrong one, and one it cannot read', async () => {
    const push = [record({})];
    await expect(
      adapter.callback!(callbackRequest('https://gaswatch.example.cn/api/notify/callback/call-main', push)),
    ).rejects.toMatchObject({ reason: 'unsigned' });
    await expect(adapter.callback!(callbackRequest(`${url}x`, push))).rejects.toMatchObject({
      reason: 'bad_signature',
    });
    await expect(adapter.callback!(callbackRequest(url, [{ call_id: 'c1' }]))).rejects.toMatchObject({
      reason: 'unreadable',
    });
  });
});
