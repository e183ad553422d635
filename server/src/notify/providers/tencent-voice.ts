import { z } from 'zod';
import { type ProviderAdapter, type ProviderCallback, ProviderError } from '../provider.js';
import {
  adapterContext,
  commonShape,
  type ProviderDeps,
  paramsByName,
  templateFor,
  tokenCallback,
} from './adapter-kit.js';
import { unixSeconds } from './callback-token.js';
import { e164, isMainland, numberFrom } from './phone.js';
import { TENCENT_CALLBACK_ANSWER, tencentCaller, tencentKeyShape } from './tencent-api.js';
import { TencentTemplateSchema } from './tencent-sms.js';

/**
 * Tencent Cloud voice messages (语音消息 VMS, API 3.0 SendTtsVoice 2020-09-02): an approved
 * template read to one mainland number, and the event callbacks configured in the VMS console:
 * call status (voiceprompt_callback), keypress (voicekey_callback) and failure reason
 * (voice_failure_callback). A template that says "press 1 to acknowledge" makes the keypress
 * callback the acknowledgement.
 * API: https://cloud.tencent.com/document/api/1128/51558
 * Callbacks: https://cloud.tencent.com/document/api/1128/37725, /37726, /37727; failure codes /37531.
 */

export const TENCENT_VOICE_ENDPOINT = 'https://vms.tencentcloudapi.com/';
const VERSION = '2020-09-02';

export const TencentVoiceChannelSchema = z
  .object({
    type: z.literal('tencent-voice'),
    ...tencentKeyShape,
    endpoint: z
      .url({ protocol: /^https?$/ })
      .default(TENCENT_VOICE_ENDPOINT)
      .describe('API endpoint (tests point it at a local server)'),
    voiceSdkAppid: z
      .string()
      .regex(/^\d{5,20}$/)
      .describe('Voice application SdkAppid, e.g. 1400006666'),
    templates: z
      .object({ 'zh-CN': TencentTemplateSchema, en: TencentTemplateSchema.optional() })
      .strict()
      .describe('Approved voice template per language; English falls back to the Chinese one'),
    playTimes: z
      .number()
      .int()
      .min(1)
      .max(3)
      .default(3)
      .describe('How often the message is read in one call (Tencent’s default is 2)'),
    ...commonShape,
  })
  .strict();
export type TencentVoiceChannelConfig = z.infer<typeof TencentVoiceChannelSchema>;

const PromptSchema = z.looseObject({
  callid: z.string().min(1),
  result: z.union([z.string(), z.number()]),
  mobile: z.string().optional(),
  nationcode: z.string().optional(),
  accept_time: z.union([z.string(), z.number()]).optional(),
  end_calltime: z.union([z.string(), z.number()]).optional(),
});

const KeySchema = z.looseObject({
  callid: z.string().min(1),
  keypress: z.string(),
  mobile: z.string().min(1),
  nationcode: z.string().optional(),
});

const FailureSchema = z.looseObject({
  callid: z.string().min(1),
  failure_code: z.union([z.number(), z.string()]),
  failure_reason: z.string().optional(),
});

/** failure_code of voice_failure_callback → what became of the call (document 1128/37531). */
function failureStatus(code: number): 'busy' | 'no_answer' | 'failed' {
  if (code === 2 || code === 10) return 'busy'; // 通话中, 用户正忙
  if (code === 5 || code === 20) return 'no_answer'; // 无人接听, 无应答
  return 'failed'; // switched off, out of service, empty number, suspended, network busy…
}

/** Reads one callback: an object with one of the three documented keys. */
export function readTencentVoiceCallback(json: unknown, now: number): ProviderCallback[] {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new Error('callback is not a JSON object');
  const body = json as Record<string, unknown>;
  if ('voiceprompt_callback' in body) {
    const p = PromptSchema.safeParse(body.voiceprompt_callback);
    if (!p.success) throw new Error('voiceprompt_callback lacks callid or result');
    // result: 0 answered, 1 not answered, 2 call failed.
    const result = String(p.data.result);
    const status = result === '0' ? 'answered' : result === '1' ? 'no_answer' : 'failed';
    return [
      {
        type: 'receipt',
        providerId: p.data.callid,
        status,
        at: unixSeconds(p.data.end_calltime) ?? unixSeconds(p.data.accept_time) ?? now,
        ...(status === 'answered' ? {} : { detail: `result ${result}` }),
      },
    ];
  }
  if ('voicekey_callback' in body) {
    const k = KeySchema.safeParse(body.voicekey_callback);
    if (!k.success) throw new Error('voicekey_callback lacks callid, keypress or mobile');
    return [
      {
        type: 'reply',
        providerId: k.data.callid,
        from: numberFrom(k.data.mobile, k.data.nationcode),
        text: k.data.keypress,
        // The keypress callback carries no time: it is sent as the key is pressed.
        at: now,
      },
    ];
  }
  if ('voice_failure_callback' in body) {
    const f = FailureSchema.safeParse(body.voice_failure_callback);
    if (!f.success) throw new Error('voice_failure_callback lacks callid or failure_code');
    const code = Number(f.data.failure_code);
    return [
      {
        type: 'receipt',
        providerId: f.data.callid,
        status: failureStatus(code),
        at: now,
        detail: [String(f.data.failure_code), f.data.failure_reason].filter(Boolean).join(' '),
      },
    ];
  }
  throw new Error('callback has none of voiceprompt_callback, voicekey_callback, voice_failure_callback');
}

export function createTencentVoiceAdapter(
  config: TencentVoiceChannelConfig,
  deps: ProviderDeps = {},
): ProviderAdapter {
  const ctx = adapterContext('tencent-voice', config, deps);
  const call = tencentCaller(config, ctx, 'vms', VERSION);
  return {
    name: ctx.name,
    type: 'tencent-voice',
    medium: 'voice',
    callbackAnswer: () => TENCENT_CALLBACK_ANSWER,
    async send(message) {
      const to = e164(message.to);
      if (!isMainland(to)) {
        throw new ProviderError(
          'permanent',
          null,
          `Tencent Cloud voice messages reach mainland China numbers only, not ${message.to}`,
        );
      }
      const template = templateFor(config.templates, message.lang);
      const payload = {
        TemplateId: template.id,
        TemplateParamSet: paramsByName(message, template.params).map(([, v]) => v),
        CalledNumber: to,
        VoiceSdkAppid: config.voiceSdkAppid,
        PlayTimes: config.playTimes,
        SessionContext: message.id.slice(0, 200),
      };
      const callId = await ctx.retrier.run(message.id, async () => {
        const status = (await call('SendTtsVoice', payload)).SendStatus as { CallId?: unknown } | undefined;
        return typeof status?.CallId === 'string' && status.CallId !== '' ? status.CallId : null;
      });
      ctx.log.info({ notification: message.id, providerId: callId }, 'call accepted by Tencent Cloud');
      return { providerId: callId };
    },
    callback: tokenCallback(config.callbackToken, ctx.clock, readTencentVoiceCallback),
    async stop() {
      ctx.stop();
    },
  };
}
