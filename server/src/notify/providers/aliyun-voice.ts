import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type ProviderAdapter, type ProviderCallback, ProviderError } from '../provider.js';
import {
  adapterContext,
  commonShape,
  type ProviderDeps,
  paramNames,
  paramsByName,
  templateFor,
  tokenCallback,
} from './adapter-kit.js';
import { ALIYUN_PUSH_ANSWER, aliyunCaller } from './aliyun-rpc.js';
import { aliyunKeyShape } from './aliyun-sms.js';
import { beijingTime } from './callback-token.js';
import { aliyunNumber, e164, isMainland, numberFrom } from './phone.js';

/**
 * Alibaba Cloud voice notification (语音服务, dyvmsapi 2017-05-25): SingleCallByTts reads an
 * approved text-to-speech template with the alarm's facts to one mainland number, and the HTTP
 * batch push of the call record (VoiceReport) says how the call ended.
 * API: https://help.aliyun.com/document_detail/393519.html
 * Push: https://help.aliyun.com/zh/vms/voicereport-6; status codes: document_detail/55085.
 *
 * Keypresses: SingleCallByTts does not collect them. Alibaba's way to ask "press 1" is another API,
 * IvrCall (a purchased caller number, a MenuKeyMap, 话术 filed in advance), whose keys come back
 * in the call-status push; it is not built here. The VoiceReport sample does carry a `dtmf` field:
 * when a report has one, it is passed on as a reply, so a keypress is never thrown away.
 */

export const ALIYUN_VOICE_ENDPOINT = 'https://dyvmsapi.aliyuncs.com/';
const VERSION = '2017-05-25';

const TemplateSchema = z
  .object({
    code: z
      .string()
      .min(1)
      .max(64)
      .describe('Approved text-to-speech template ID (TtsCode), e.g. TTS_123456'),
    params: paramNames(
      "Names of the template's variables, filled from the message's parameters of those names",
    ),
  })
  .strict();

export const AliyunVoiceChannelSchema = z
  .object({
    type: z.literal('aliyun-voice'),
    ...aliyunKeyShape,
    endpoint: z
      .url({ protocol: /^https?$/ })
      .default(ALIYUN_VOICE_ENDPOINT)
      .describe('SingleCallByTts endpoint (tests point it at a local server)'),
    calledShowNumber: z
      .string()
      .regex(/^[0-9A-Za-z_-]{3,32}$/)
      .optional()
      .describe('Caller number shown (专属模式: a purchased number or service instance); unset: public pool'),
    templates: z
      .object({ 'zh-CN': TemplateSchema, en: TemplateSchema.optional() })
      .strict()
      .describe('Approved TTS template per language; English falls back to the Chinese one'),
    playTimes: z
      .number()
      .int()
      .min(1)
      .max(3)
      .default(3)
      .describe('How often the message is read in one call'),
    volume: z.number().int().min(0).max(100).optional().describe('Playback volume 0–100 (Alibaba: 100)'),
    speed: z.number().int().min(-500).max(500).optional().describe('Speech rate −500…500 (Alibaba: 0)'),
    ...commonShape,
  })
  .strict();
export type AliyunVoiceChannelConfig = z.infer<typeof AliyunVoiceChannelSchema>;

/**
 * OutId is 1–15 bytes for calls. A short id goes as it is; a longer one as the first 15 hex digits
 * of its SHA-256, which is stable across retries (the receipt is matched by CallId anyway).
 */
export function voiceOutId(id: string): string {
  return /^[A-Za-z0-9._-]{1,15}$/.test(id) ? id : createHash('sha256').update(id).digest('hex').slice(0, 15);
}

/** VoiceReport status_code → what became of the call (document_detail/55085). */
function callStatus(code: string): 'answered' | 'no_answer' | 'busy' | 'failed' {
  switch (code) {
    case '200000': // listened to the end
    case '200001': // hung up before the end
    case '200008': // answered, no key pressed in time
      return 'answered';
    case '200003': // rang, not answered
      return 'no_answer';
    case '200002': // line busy
      return 'busy';
    default: // bad number, unreachable, switched off, suspended, carrier trouble…
      return 'failed';
  }
}

const VoiceReportSchema = z.looseObject({
  call_id: z.string().min(1),
  status_code: z.string().min(1),
  status_msg: z.string().optional(),
  callee: z.string().optional(),
  end_time: z.string().optional(),
  b_start_time: z.string().optional(),
  dtmf: z.string().optional(),
});

/**
 * Reads one push: a JSON array of VoiceReport records. Items of the call-progress push
 * (VoiceCallReport: status_time and no callee) may arrive at the same URL; they say nothing the
 * final record does not, and are skipped.
 */
export function readAliyunVoicePush(json: unknown, now: number): ProviderCallback[] {
  if (!Array.isArray(json)) throw new Error('push body is not a JSON array');
  const out: ProviderCallback[] = [];
  for (const item of json) {
    const parsed = VoiceReportSchema.safeParse(item);
    if (!parsed.success) throw new Error('push item is not a VoiceReport');
    const r = parsed.data;
    if (r.callee === undefined && 'status_time' in r) continue;
    const status = callStatus(r.status_code);
    const at = beijingTime(r.end_time) ?? now;
    out.push({
      type: 'receipt',
      providerId: r.call_id,
      status,
      at,
      ...(status === 'answered' ? {} : { detail: [r.status_code, r.status_msg].filter(Boolean).join(' ') }),
    });
    if (r.dtmf !== undefined && r.dtmf.trim() !== '' && r.callee !== undefined) {
      out.push({ type: 'reply', providerId: r.call_id, from: numberFrom(r.callee), text: r.dtmf.trim(), at });
    }
  }
  return out;
}

export function createAliyunVoiceAdapter(
  config: AliyunVoiceChannelConfig,
  deps: ProviderDeps = {},
): ProviderAdapter {
  const ctx = adapterContext('aliyun-voice', config, deps);
  const call = aliyunCaller(config, ctx, VERSION);
  return {
    name: ctx.name,
    type: 'aliyun-voice',
    medium: 'voice',
    callbackAnswer: () => ALIYUN_PUSH_ANSWER,
    async send(message) {
      if (!isMainland(e164(message.to))) {
        throw new ProviderError(
          'permanent',
          null,
          `Alibaba Cloud voice notifications reach mainland China numbers only, not ${message.to}`,
        );
      }
      const template = templateFor(config.templates, message.lang);
      const params = paramsByName(message, template.params);
      const query: Record<string, string> = {
        CalledNumber: aliyunNumber(message.to),
        TtsCode: template.code,
        PlayTimes: String(config.playTimes),
        OutId: voiceOutId(message.id),
      };
      if (params.length > 0) query.TtsParam = JSON.stringify(Object.fromEntries(params));
      if (config.calledShowNumber !== undefined) query.CalledShowNumber = config.calledShowNumber;
      if (config.volume !== undefined) query.Volume = String(config.volume);
      if (config.speed !== undefined) query.Speed = String(config.speed);
      const answer = await ctx.retrier.run(message.id, () => call('SingleCallByTts', query));
      const callId = typeof answer.CallId === 'string' && answer.CallId !== '' ? answer.CallId : null;
      ctx.log.info({ notification: message.id, providerId: callId }, 'call accepted by Alibaba Cloud');
      return { providerId: callId };
    },
    callback: tokenCallback(config.callbackToken, ctx.clock, readAliyunVoicePush),
    async stop() {
      ctx.stop();
    },
  };
}
