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
} from './twilio.js';

/**
 * Twilio Programmable Messaging: one SMS per message through the Messages API
 * (POST /2010-04-01/Accounts/{AccountSid}/Messages.json), delivery receipts through its status
 * callback, and the person's reply ("1") through the number's incoming-message webhook, both
 * signed with X-Twilio-Signature. https://www.twilio.com/docs/messaging/api/message-resource
 */

/** Twilio takes a Body of at most 1600 characters (it splits it into segments itself). */
export const TWILIO_MAX_BODY_CHARS = 1600;

export const TwilioSmsChannelSchema = z
  .object({
    type: z.literal('twilio-sms'),
    ...twilioAccountFields,
    from: z
      .string()
      .regex(/^(\+[1-9]\d{6,14}|[A-Za-z0-9 ]{1,11})$/, 'an E.164 number or an alphanumeric sender ID')
      .optional()
      .describe(
        'Sender: a Twilio number in E.164, or an alphanumeric sender ID where the country allows it (no replies then)',
      ),
    messagingServiceSid: z
      .string()
      .regex(/^MG[0-9a-fA-F]{32}$/, 'a Messaging Service SID: MG and 32 hex digits')
      .optional()
      .describe('Send through this Messaging Service (MG…) instead of one `from` number'),
    callbackUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'Public URL of POST /api/notify/callback/<channel>: delivery receipts; set it as the number\'s "A message comes in" webhook too, for replies',
      ),
  })
  .strict()
  .superRefine((v, ctx) => {
    apiKeyPair(v, ctx);
    if ((v.from === undefined) === (v.messagingServiceSid === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['from'],
        message: 'set exactly one of from, messagingServiceSid',
      });
    }
  });
export type TwilioSmsChannelConfig = z.infer<typeof TwilioSmsChannelSchema>;

/** At most `max` characters (code points) of `text`, ending in "…" when cut. */
function cutChars(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Twilio's message states that are news to the chain, as the contract names them. */
const MESSAGE_STATUS: Record<string, 'sent' | 'delivered' | 'failed'> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
};

export function createTwilioSmsAdapter(
  config: TwilioSmsChannelConfig,
  deps: ProviderDeps = {},
): ProviderAdapter {
  const name = deps.name ?? 'twilio-sms';
  const clock = deps.clock ?? Date.now;
  const { http, close } = adapterHttp(deps);
  const log = (deps.logger ?? silentLogger).child({ channel: name, type: 'twilio-sms' });

  return {
    name,
    type: 'twilio-sms',
    medium: 'sms',

    async send(message: ProviderMessage) {
      if (!E164.test(message.to)) {
        throw new ProviderError(
          'permanent',
          null,
          'Twilio SMS: the number is not in E.164 form (+8613800000000)',
        );
      }
      const body = cutChars(message.text, TWILIO_MAX_BODY_CHARS);
      if (body !== message.text) {
        log.warn(
          { notification: message.id, chars: [...message.text].length },
          'SMS text cut to 1600 characters',
        );
      }
      const form = new URLSearchParams();
      form.set('To', message.to);
      if (config.messagingServiceSid !== undefined)
        form.set('MessagingServiceSid', config.messagingServiceSid);
      else if (config.from !== undefined) form.set('From', config.from);
      form.set('Body', body);
      if (config.callbackUrl !== undefined) form.set('StatusCallback', config.callbackUrl);
      const sid = await twilioCreate(config, 'Messages', form, http, log);
      log.info({ notification: message.id, providerId: sid }, 'SMS accepted by Twilio');
      return { providerId: sid };
    },

    async callback(request: CallbackRequest): Promise<ProviderCallback[]> {
      const p = verifyTwilioCallback(config.authToken, request);
      const body = p.get('Body');
      if (body !== undefined) {
        // An incoming message: Twilio does not say which message it answers; the chain matches
        // the sender's number to the notifications it sent.
        const from = p.get('From') ?? '';
        if (from === '') throw new CallbackRefused('unreadable', 'incoming message without From');
        return [{ type: 'reply', providerId: null, from, text: body.trim(), at: clock() }];
      }
      const status = p.get('MessageStatus');
      const sid = p.get('MessageSid');
      if (status === undefined || sid === undefined) {
        throw new CallbackRefused('unreadable', 'neither a status callback nor an incoming message');
      }
      const mapped = MESSAGE_STATUS[status];
      // queued, accepted, sending, scheduled: nothing the chain does not know yet.
      if (mapped === undefined) return [];
      const code = p.get('ErrorCode');
      const detail = mapped === 'failed' ? `${status}${code ? ` (error ${code})` : ''}` : undefined;
      return [
        {
          type: 'receipt',
          providerId: sid,
          status: mapped,
          // Twilio's message status callbacks carry no time: the receipt's is when it arrived.
          at: clock(),
          ...(detail === undefined ? {} : { detail }),
        },
      ];
    },

    // An empty TwiML answer: Twilio sends no automatic reply to the person (an answer that is
    // not TwiML would be logged at Twilio as error 12300).
    callbackAnswer() {
      return { status: 200, contentType: TWIML_CONTENT_TYPE, body: `${XML_HEAD}<Response/>` };
    },

    async stop() {
      close();
    },
  };
}
