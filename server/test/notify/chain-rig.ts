/**
 * What the chain tests share: stand-ins for Alibaba Cloud SMS and Tencent Cloud voice on loopback
 * (every request's signature recomputed with the adapters' test checks, so a message the chain
 * sends is one the provider would take), a registered household with an elderly woman living
 * alone, and the config of a township's chain: her own contacts by SMS, then by phone, then the
 * village grid worker, then the township duty room.
 */
import type { AreaKind } from '@gaswatch/shared';
import type { AreaLookup } from '../../src/alarms/chain.js';
import type { AlarmHome } from '../../src/alarms/facts.js';
import { checkAcs3 } from './aliyun-verify.js';
import { type Stub, type StubHandler, startStub } from './provider-stub.js';
import { checkTc3 } from './tencent-verify.js';

export const SMS_SECRET = 'aliyun-secret-0123456789abcdef';
export const CALL_SECRET = 'tencent-secret-0123456789abcdef';
export const SMS_TOKEN = 'sms-callback-token-0123456789ab';
export const CALL_TOKEN = 'call-callback-token-0123456789a';

/** One message as the provider got it. */
export interface Sent {
  channel: 'sms' | 'call';
  /** E.164. */
  to: string;
  /** The template parameters, by the names the templates were configured with. */
  params: Record<string, string>;
  /** The chain's id of it (OutId / SessionContext). */
  id: string;
  /** What the provider answered as its id. */
  providerId: string;
}

export interface Providers {
  sms: Stub;
  call: Stub;
  /** Every message both took, in order. */
  sent: Sent[];
  /** Makes the SMS provider refuse messages to this number (a permanent error). */
  refuseSmsTo(to: string | null): void;
  close(): Promise<void>;
}

const SMS_PARAMS = ['household', 'event'] as const;
const CALL_PARAMS = ['household', 'event'] as const;

export async function startProviders(): Promise<Providers> {
  const sent: Sent[] = [];
  let refused: string | null = null;
  let n = 0;
  const sms: StubHandler = (req) => {
    const check = checkAcs3(req, SMS_SECRET);
    if (check.given !== check.expected) return { status: 400, body: { Code: 'SignatureDoesNotMatch' } };
    const q = new URLSearchParams(req.query);
    const to = `+86${q.get('PhoneNumbers') ?? ''}`;
    if (to === refused)
      return { body: { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '非法手机号', RequestId: 'r' } };
    const providerId = `biz-${++n}`;
    sent.push({
      channel: 'sms',
      to,
      params: JSON.parse(q.get('TemplateParam') ?? '{}') as Record<string, string>,
      id: q.get('OutId') ?? '',
      providerId,
    });
    return { body: { Code: 'OK', Message: 'OK', BizId: providerId, RequestId: 'r' } };
  };
  const call: StubHandler = (req) => {
    const check = checkTc3(req, CALL_SECRET);
    if (check.given !== check.expected)
      return { body: { Response: { Error: { Code: 'AuthFailure.SignatureFailure', Message: 'x' } } } };
    const body = JSON.parse(req.body) as {
      CalledNumber: string;
      TemplateParamSet: string[];
      SessionContext: string;
    };
    const providerId = `call-${++n}`;
    sent.push({
      channel: 'call',
      to: body.CalledNumber,
      params: Object.fromEntries(CALL_PARAMS.map((p, i) => [p, body.TemplateParamSet[i] ?? ''])),
      id: body.SessionContext,
      providerId,
    });
    return {
      body: {
        Response: { SendStatus: { CallId: providerId, SessionContext: body.SessionContext }, RequestId: 'r' },
      },
    };
  };
  const smsStub = await startStub(sms);
  const callStub = await startStub(call);
  return {
    sms: smsStub,
    call: callStub,
    sent,
    refuseSmsTo(to) {
      refused = to;
    },
    async close() {
      await smsStub.close();
      await callStub.close();
    },
  };
}

/** The channels: Alibaba Cloud SMS and Tencent Cloud voice, pointed at the stand-ins. */
export function channelsFor(p: Providers) {
  return {
    sms: {
      type: 'aliyun-sms',
      accessKeyId: 'LTAI5tChainTest',
      accessKeySecret: SMS_SECRET,
      endpoint: p.sms.url,
      signName: '燃气安全',
      templates: { 'zh-CN': { code: 'SMS_465900001', params: [...SMS_PARAMS] } },
      callbackToken: SMS_TOKEN,
      retries: 0,
    },
    call: {
      type: 'tencent-voice',
      secretId: 'AKIDchaintest',
      secretKey: CALL_SECRET,
      endpoint: p.call.url,
      voiceSdkAppid: '1400006666',
      templates: { 'zh-CN': { id: '4356', params: [...CALL_PARAMS] } },
      callbackToken: CALL_TOKEN,
      retries: 0,
    },
  };
}

/** A township's chain for its registered households (docs/notifications.md shows the same). */
export const HOUSEHOLD_STEPS = [
  { name: '住户及家属（短信）', household: ['occupant', 'family'], channels: ['sms'] },
  { name: '住户及家属（电话）', household: ['occupant', 'family'], channels: ['call'] },
  {
    name: '村网格员',
    household: ['grid_worker', 'village_cadre'],
    duty: 'village',
    channels: ['sms', 'call'],
  },
  { name: '镇应急值班室', duty: 'township', channels: ['call', 'sms'] },
];

export const DUTY = {
  liujiang: [{ name: '柳江村委会值班', to: '13800000031' }],
  dapu: [{ name: '大埔镇应急值班室', to: '+8613900000000' }],
};

/** 王秀英, 80, alone in her house at 柳江村 3 组 12 号, her son in town, the grid worker next door. */
export const HOME: AlarmHome = {
  id: 'liujiang-3-12',
  area: 'liujiang',
  address: '柳江村 3 组 12 号',
  flags: ['elderly_alone'],
  location: '卧室',
  contacts: [
    { name: '王秀英', relation: 'occupant', phone: '13800000001' },
    { name: '王建军', relation: 'family', phone: '138 0000 0011' },
    { name: '韦小明', relation: 'grid_worker', phone: '13800000021' },
  ],
};

/** County → township → village, as the area registry has them. */
export const AREAS: AreaLookup & { nameOf(id: string): string | undefined } = (() => {
  const rows: Record<string, { parent: string | null; kind: AreaKind; name: string }> = {
    liucheng: { parent: null, kind: 'county', name: '柳城县' },
    dapu: { parent: 'liucheng', kind: 'township', name: '大埔镇' },
    liujiang: { parent: 'dapu', kind: 'village', name: '柳江村' },
  };
  return {
    parentOf: (id) => rows[id]?.parent,
    kindOf: (id) => rows[id]?.kind,
    nameOf: (id) => rows[id]?.name,
  };
})();
