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
import { beijingTime, unixSeconds } from './callback-token.js';
import { e164, numberFrom } from './phone.js';
import { scrub } from './provider-http.js';
import { TENCENT_CALLBACK_ANSWER, tencentCaller, tencentErrorKind, tencentKeyShape } from './tencent-api.js';

/**
 * Tencent Cloud SMS (短信, API 3.0 SendSms 2021-01-11), its delivery-status callback
 * (短信下发状态通知) and its reply callback (短信回复).
 * API: https://cloud.tencent.com/document/api/382/55981
 * Callbacks: https://cloud.tencent.com/document/api/382/59178 (status),
 * https://cloud.tencent.com/document/api/382/5809 (reply).
 */

export const TENCENT_SMS_ENDPOINT = 'https://sms.tencentcloudapi.com/';
const VERSION = '2021-01-11';

/** A Tencent template: its ID and the message parameters that fill {1}, {2}, … in that order. */
export const TencentTemplateSchema = z
  .object({
    id: z
      .string()
      .regex(/^\d{1,20}$/)
      .describe('Approved template ID (模板 ID)'),
    params: paramNames('Message parameter names filling the template’s {1}, {2}, … in this order'),
  })
  .strict();

export const TencentSmsChannelSchema = z
  .object({
    type: z.literal('tencent-sms'),
    ...tencentKeyShape,
    endpoint: z
      .url({ protocol: /^https?$/ })
      .default(TENCENT_SMS_ENDPOINT)
      .describe('API endpoint (tests point it at a local server)'),
    smsSdkAppId: z
      .string()
      .regex(/^\d{5,20}$/)
      .describe('SMS application SdkAppId, e.g. 1400006666'),
    signName: z.string().min(1).max(64).describe('Approved sign name (签名内容), shown as 【…】'),
    templates: z
      .object({ 'zh-CN': TencentTemplateSchema, en: TencentTemplateSchema.optional() })
      .strict()
      .describe('Approved template per language; English falls back to the Chinese one'),
    ...commonShape,
  })
  .strict();
export type TencentSmsChannelConfig = z.infer<typeof TencentSmsChannelSchema>;

const StatusSchema = z.looseObject({
  sid: z.string().min(1),
  report_status: z.string(),
  mobile: z.string().optional(),
  nationcode: z.string().optional(),
  user_receive_time: z.string().optional(),
  errmsg: z.string().optional(),
  description: z.string().optional(),
});

const ReplySchema = z.looseObject({
  mobile: z.string().min(1),
  nationcode: z.string().optional(),
  text: z.string(),
  time: z.union([z.number(), z.string()]).optional(),
  sign: z.string().optional(),
});

/**
 * Reads a callback: a JSON array of delivery reports, or one reply object. The two may share the
 * URL; the shape tells them apart.
 */
export function readTencentSmsCallback(json: unknown, now: number): ProviderCallback[] {
  if (Array.isArray(json)) {
    return json.map((item): ProviderCallback => {
      const parsed = StatusSchema.safeParse(item);
      if (!parsed.success) throw new Error('status item lacks sid or report_status');
      const r = parsed.data;
      const delivered = r.report_status.toUpperCase() === 'SUCCESS';
      return {
        type: 'receipt',
        providerId: r.sid,
        status: delivered ? 'delivered' : 'failed',
        at: beijingTime(r.user_receive_time) ?? now,
        ...(delivered ? {} : { detail: [r.errmsg, r.description].filter(Boolean).join(' ') }),
      };
    });
  }
  const reply = ReplySchema.safeParse(json);
  if (!reply.success) throw new Error('callback is neither a status array nor a reply');
  return [
    {
      type: 'reply',
      // The reply names no SerialNo: the chain matches it by the number it came from.
      providerId: null,
      from: numberFrom(reply.data.mobile, reply.data.nationcode),
      text: reply.data.text,
      at: unixSeconds(reply.data.time) ?? now,
    },
  ];
}

export function createTencentSmsAdapter(
  config: TencentSmsChannelConfig,
  deps: ProviderDeps = {},
): ProviderAdapter {
  const ctx = adapterContext('tencent-sms', config, deps);
  const call = tencentCaller(config, ctx, 'sms', VERSION);
  return {
    name: ctx.name,
    type: 'tencent-sms',
    medium: 'sms',
    callbackAnswer: () => TENCENT_CALLBACK_ANSWER,
    async send(message) {
      const template = templateFor(config.templates, message.lang);
      const payload = {
        PhoneNumberSet: [e164(message.to)],
        SmsSdkAppId: config.smsSdkAppId,
        SignName: config.signName,
        TemplateId: template.id,
        TemplateParamSet: paramsByName(message, template.params).map(([, v]) => v),
        // Tencent hands it back unchanged; it does not dedupe by it. Under 512 bytes.
        SessionContext: message.id.slice(0, 200),
      };
      const serialNo = await ctx.retrier.run(message.id, async () => {
        const response = await call('SendSms', payload);
        // The call succeeds as a whole; each number has its own status (Code "Ok" or an error).
        const set = Array.isArray(response.SendStatusSet) ? response.SendStatusSet : [];
        const status = set[0] as { Code?: unknown; Message?: unknown; SerialNo?: unknown } | undefined;
        if (status === undefined) {
          throw new ProviderError(
            'retryable',
            null,
            'Tencent Cloud SendSms answered without a SendStatusSet',
          );
        }
        const code = typeof status.Code === 'string' ? status.Code : 'unknown';
        if (code.toLowerCase() !== 'ok') {
          const words = typeof status.Message === 'string' ? scrub(status.Message, [config.secretKey]) : '';
          throw new ProviderError(
            tencentErrorKind(200, code),
            code,
            `Tencent Cloud SendSms refused (${code}): ${words}`,
          );
        }
        return typeof status.SerialNo === 'string' && status.SerialNo !== '' ? status.SerialNo : null;
      });
      ctx.log.info({ notification: message.id, providerId: serialNo }, 'SMS accepted by Tencent Cloud');
      return { providerId: serialNo };
    },
    callback: tokenCallback(config.callbackToken, ctx.clock, readTencentSmsCallback),
    async stop() {
      ctx.stop();
    },
  };
}
