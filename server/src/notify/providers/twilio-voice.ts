import { z } from 'zod';
import {
  CallbackRefused,
  type CallbackRequest,
  type ProviderAdapter,
  type ProviderCallback,
  ProviderError,
  type ProviderMessage,
} from '../provider.js';
import { adapterHttp, type ProviderDeps, silentLogger } from './adapter-kit.js';
import {
  apiKeyPair,
  E164,
  TWIML_CONTENT_TYPE,
  twilioAccountFields,
  twilioCreate,
  verifyTwilioCallback,
  XML_HEAD,
  xmlEscape,
} from './twilio.js';

/**
 * Twilio Programmable Voice: a call per message through the Calls API with the TwiML inline
 * (Twiml parameter): the alarm read aloud by <Say>, inside a <Gather> that waits for one key —
 * "press 1 to acknowledge" — and POSTs it to the callback URL (the Gather's action). Call states
 * come through the status callback. Both are signed with X-Twilio-Signature.
 * https://www.twilio.com/docs/voice/api/call-resource, https://www.twilio.com/docs/voice/twiml/gather
 */

/** Twilio refuses a Twiml parameter longer than this many characters. */
export const TWILIO_MAX_TWIML_CHARS = 4000;

const VoiceSchema = z
  .object({
    voice: z
      .string()
      .min(1)
      .max(64)
      .describe('A Twilio <Say> voice: alice, Polly.Zhiyu, Google.cmn-CN-Standard-A…'),
    language: z
      .string()
      .min(2)
      .max(16)
      .describe('Its language code in <Say language> (zh-CN, cmn-CN, en-US…)'),
  })
  .strict();

const DEFAULT_VOICES = {
  'zh-CN': { voice: 'alice', language: 'zh-CN' },
  en: { voice: 'alice', language: 'en-US' },
};

export const TwilioVoiceChannelSchema = z
  .object({
    type: z.literal('twilio-voice'),
    ...twilioAccountFields,
    from: z.string().regex(E164, 'an E.164 number').describe('Caller ID: a Twilio voice number in E.164'),
    callbackUrl: z
      .url({ protocol: /^https?$/ })
      .describe(
        'Public URL of POST /api/notify/callback/<channel>: call states and the key pressed (needed to acknowledge by phone)',
      ),
    ringTimeoutS: z
      .number()
      .int()
      .min(5)
      .max(600)
      .default(45)
      .describe('How long the phone rings before the call counts as not answered'),
    playTimes: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(2)
      .describe('How often the message is read before the call ends without a key pressed'),
    gatherTimeoutS: z
      .number()
      .int()
      .min(1)
      .max(30)
      .default(6)
      .describe('Seconds of silence after each reading before the next one'),
    voices: z
      .object({ 'zh-CN': VoiceSchema, en: VoiceSchema })
      .partial()
      .default({})
      .describe('Voice per language (default alice: zh-CN, en-US)'),
  })
  .strict()
  .superRefine(apiKeyPair);
export type TwilioVoiceChannelConfig = z.infer<typeof TwilioVoiceChannelSchema>;

/** What the call says around the alarm, as a duty officer would say it on the phone. */
const WORDS = {
  'zh-CN': {
    prompt: '收到请按1确认。',
    acknowledged: '已确认收到，请立即处置。',
    notAcknowledged: '未确认，我们会继续通知。',
  },
  en: {
    prompt: 'Press 1 to acknowledge.',
    acknowledged: 'Acknowledged. Please act now.',
    notAcknowledged: 'Not acknowledged. We will keep notifying.',
  },
} as const;

type Lang = keyof typeof WORDS;

/** The Gather's action: the callback URL, marked with the call's language for its answer. */
function actionUrl(callbackUrl: string, lang: Lang): string {
  const u = new URL(callbackUrl);
  u.searchParams.set('lang', lang);
  return u.toString();
}

/** Call states as the contract names them; initiated, ringing and queued say nothing new. */
const CALL_STATUS: Record<string, 'sent' | 'answered' | 'busy' | 'no_answer' | 'failed'> = {
  initiated: 'sent',
  'in-progress': 'answered',
  completed: 'answered',
  busy: 'busy',
  'no-answer': 'no_answer',
  failed: 'failed',
  canceled: 'failed',
};

export function createTwilioVoiceAdapter(
  config: TwilioVoiceChannelConfig,
  deps: ProviderDeps = {},
): ProviderAdapter {
  const name = deps.name ?? 'twilio-voice';
  const clock = deps.clock ?? Date.now;
  const { http, close } = adapterHttp(deps);
  const log = (deps.logger ?? silentLogger).child({ channel: name, type: 'twilio-voice' });
  const voices = { ...DEFAULT_VOICES, ...config.voices };

  /** The call's TwiML: the message and the prompt inside a Gather, `times` over. */
  function twiml(text: string, lang: Lang, times: number): string {
    const v = voices[lang];
    const say = (words: string) =>
      `<Say voice="${xmlEscape(v.voice)}" language="${xmlEscape(v.language)}">${xmlEscape(words)}</Say>`;
    const gather =
      `<Gather input="dtmf" numDigits="1" timeout="${config.gatherTimeoutS}" ` +
      `action="${xmlEscape(actionUrl(config.callbackUrl, lang))}" method="POST">` +
      `${say(text)}${say(WORDS[lang].prompt)}</Gather>`;
    return `${XML_HEAD}<Response>${gather.repeat(times)}</Response>`;
  }

  return {
    name,
    type: 'twilio-voice',
    medium: 'voice',

    async send(message: ProviderMessage) {
      if (!E164.test(message.to)) {
        throw new ProviderError(
          'permanent',
          null,
          'Twilio voice: the number is not in E.164 form (+8613800000000)',
        );
      }
      // Read fewer times rather than not call: the first reading is what matters.
      let times = config.playTimes;
      let doc = twiml(message.text, message.lang, times);
      while (doc.length > TWILIO_MAX_TWIML_CHARS && times > 1)
        doc = twiml(message.text, message.lang, --times);
      if (doc.length > TWILIO_MAX_TWIML_CHARS) {
        throw new ProviderError(
          'permanent',
          null,
          `Twilio voice: the message makes TwiML of ${doc.length} characters (at most ${TWILIO_MAX_TWIML_CHARS})`,
        );
      }
      const form = new URLSearchParams();
      form.set('To', message.to);
      form.set('From', config.from);
      form.set('Twiml', doc);
      form.set('Timeout', String(config.ringTimeoutS));
      form.set('StatusCallback', config.callbackUrl);
      form.set('StatusCallbackMethod', 'POST');
      form.append('StatusCallbackEvent', 'answered');
      form.append('StatusCallbackEvent', 'completed');
      const sid = await twilioCreate(config, 'Calls', form, http, log);
      log.info({ notification: message.id, providerId: sid, readings: times }, 'call placed with Twilio');
      return { providerId: sid };
    },

    async callback(request: CallbackRequest): Promise<ProviderCallback[]> {
      const p = verifyTwilioCallback(config.authToken, request);
      const callSid = p.get('CallSid');
      if (callSid === undefined) throw new CallbackRefused('unreadable', 'no CallSid');
      const digits = p.get('Digits');
      if (digits !== undefined) {
        // The Gather's action. On a call we placed, To (Called) is the person who pressed.
        const from = p.get('To') ?? p.get('Called') ?? '';
        if (from === '') throw new CallbackRefused('unreadable', 'keypress without To');
        return [{ type: 'reply', providerId: callSid, from, text: digits, at: clock() }];
      }
      const status = p.get('CallStatus');
      if (status === undefined)
        throw new CallbackRefused('unreadable', 'neither a keypress nor a call status');
      const mapped = CALL_STATUS[status];
      if (mapped === undefined) return [];
      // Timestamp (RFC 2822) comes with the StatusCallbackEvent callbacks.
      const stamp = Date.parse(p.get('Timestamp') ?? '');
      return [
        {
          type: 'receipt',
          providerId: callSid,
          status: mapped,
          at: Number.isFinite(stamp) ? stamp : clock(),
          ...(mapped === 'failed' ? { detail: status } : {}),
        },
      ];
    },

    // The keypress is answered with what the person hears next; a status callback's answer is
    // ignored by Twilio.
    callbackAnswer(request, callbacks) {
      const reply = callbacks.find((c) => c.type === 'reply');
      if (reply === undefined) return { status: 204, contentType: 'text/plain', body: '' };
      let lang: Lang = 'zh-CN';
      try {
        if (new URL(request.url).searchParams.get('lang') === 'en') lang = 'en';
      } catch {
        // not a URL: Chinese, the default
      }
      const v = voices[lang];
      const words = reply.text === '1' ? WORDS[lang].acknowledged : WORDS[lang].notAcknowledged;
      return {
        status: 200,
        contentType: TWIML_CONTENT_TYPE,
        body:
          `${XML_HEAD}<Response><Say voice="${xmlEscape(v.voice)}" language="${xmlEscape(v.language)}">` +
          `${xmlEscape(words)}</Say><Hangup/></Response>`,
      };
    },

    async stop() {
      close();
    },
  };
}
