import { z } from 'zod';
import type { ProviderAdapter, ProviderCallback } from '../provider.js';
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
import { beijingTime } from './callback-token.js';
import { aliyunNumber, numberFrom } from './phone.js';

/**
 * Alibaba Cloud SMS (短信服务, dysmsapi 2017-05-25): SendSms with an approved sign name and
 * template, and the HTTP batch push (HTTP批量推送) of delivery reports (SmsReport) and of the
 * replies people send (SmsUp). The MNS queue mode of the same messages is not used.
 * API: https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms
 * Push: https://help.aliyun.com/zh/sms/developer-reference/smsreport-2 and SmsUp beside it.
 */

export const ALIYUN_SMS_ENDPOINT = 'https://dysmsapi.aliyuncs.com/';
const VERSION = '2017-05-25';

/** Alibaba's AccessKey: an AccessKey ID and secret of a RAM user allowed to send. */
export const aliyunKeyShape = {
  accessKeyId: z.string().min(1).max(128).describe('AccessKey ID of a RAM user allowed to call the API'),
  accessKeySecret: z.string().min(1).max(256).describe('AccessKey secret; never logged'),
};

const TemplateSchema = z
  .object({
    code: z.string().min(1).max(64).describe('Approved template code (模板CODE), e.g. SMS_123456789'),
    params: paramNames(
      "Names of the template's variables, filled from the message's parameters of those names",
    ),
  })
  .strict();

export const AliyunSmsChannelSchema = z
  .object({
    type: z.literal('aliyun-sms'),
    ...aliyunKeyShape,
    endpoint: z
      .url({ protocol: /^https?$/ })
      .default(ALIYUN_SMS_ENDPOINT)
      .describe('SendSms endpoint (the mainland one by default; tests point it at a local server)'),
    signName: z.string().min(1).max(64).describe('Approved sign name (签名), shown as 【…】 before the text'),
    templates: z
      .object({ 'zh-CN': TemplateSchema, en: TemplateSchema.optional() })
      .strict()
      .describe('Approved template per language; English falls back to the Chinese one'),
    ...commonShape,
  })
  .strict();
export type AliyunSmsChannelConfig = z.infer<typeof AliyunSmsChannelSchema>;

/** SmsReport: one delivery report of a push. */
const SmsReportSchema = z.looseObject({
  phone_number: z.string(),
  success: z.boolean(),
  biz_id: z.string().min(1),
  err_code: z.string().optional(),
  err_msg: z.string().optional(),
  report_time: z.string().optional(),
});

/** SmsUp: one reply a person sent to our sign. */
const SmsUpSchema = z.looseObject({
  phone_number: z.string().min(1),
  content: z.string(),
  send_time: z.string().optional(),
});

/**
 * Reads one HTTP batch push: a JSON array. SmsReport and SmsUp may be pushed to the same URL;
 * each item is known by its fields (a report has biz_id and success, a reply has content).
 */
export function readAliyunSmsPush(json: unknown, now: number): ProviderCallback[] {
  if (!Array.isArray(json)) throw new Error('push body is not a JSON array');
  return json.map((item): ProviderCallback => {
    const report = SmsReportSchema.safeParse(item);
    if (report.success) {
      const r = report.data;
      return {
        type: 'receipt',
        providerId: r.biz_id,
        status: r.success ? 'delivered' : 'failed',
        at: beijingTime(r.report_time) ?? now,
        ...(r.success ? {} : { detail: [r.err_code, r.err_msg].filter(Boolean).join(' ') }),
      };
    }
    const up = SmsUpSchema.safeParse(item);
    if (up.success) {
      return {
        type: 'reply',
        // SmsUp names no BizId: the chain matches a reply by the number it came from.
        providerId: null,
        from: numberFrom(up.data.phone_number),
        text: up.data.content,
        at: beijingTime(up.data.send_time) ?? now,
      };
    }
    throw new Error('push item is neither an SmsReport nor an SmsUp');
  });
}

export function createAliyunSmsAdapter(
  config: AliyunSmsChannelConfig,
  deps: ProviderDeps = {},
): ProviderAdapter {
  const ctx = adapterContext('aliyun-sms', config, deps);
  const call = aliyunCaller(config, ctx, VERSION);
  return {
    name: ctx.name,
    type: 'aliyun-sms',
    medium: 'sms',
    callbackAnswer: () => ALIYUN_PUSH_ANSWER,
    async send(message) {
      const template = templateFor(config.templates, message.lang);
      const params = paramsByName(message, template.params);
      const query: Record<string, string> = {
        PhoneNumbers: aliyunNumber(message.to),
        SignName: config.signName,
        TemplateCode: template.code,
        // Comes back in the SmsReport as out_id. Alibaba does not dedupe by it.
        OutId: message.id.slice(0, 256),
      };
      if (params.length > 0) query.TemplateParam = JSON.stringify(Object.fromEntries(params));
      const answer = await ctx.retrier.run(message.id, () => call('SendSms', query));
      const bizId = typeof answer.BizId === 'string' && answer.BizId !== '' ? answer.BizId : null;
      ctx.log.info({ notification: message.id, providerId: bizId }, 'SMS accepted by Alibaba Cloud');
      return { providerId: bizId };
    },
    callback: tokenCallback(config.callbackToken, ctx.clock, readAliyunSmsPush),
    async stop() {
      ctx.stop();
    },
  };
}
