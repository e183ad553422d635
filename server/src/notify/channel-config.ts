import { z } from 'zod';
import { AliyunSmsChannelSchema } from './providers/aliyun-sms.js';
import { AliyunVoiceChannelSchema } from './providers/aliyun-voice.js';
import { DingtalkChannelSchema } from './providers/dingtalk.js';
import { FeishuChannelSchema } from './providers/feishu.js';
import { LogChannelSchema } from './providers/log.js';
import { SmtpChannelSchema } from './providers/smtp.js';
import { TencentSmsChannelSchema } from './providers/tencent-sms.js';
import { TencentVoiceChannelSchema } from './providers/tencent-voice.js';
import { TwilioSmsChannelSchema } from './providers/twilio-sms.js';
import { TwilioVoiceChannelSchema } from './providers/twilio-voice.js';
import { WecomChannelSchema } from './providers/wecom.js';

/**
 * Notification channel settings (GASWATCH_CONFIG `channels.<name>`). They belong to notify/, which
 * builds the channels from them; the server's config schema only refers to them.
 */

export const WebhookChannelSchema = z
  .object({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }).describe('Where the JSON notification is POSTed'),
    secret: z
      .string()
      .min(16)
      .max(512)
      .describe('HMAC-SHA256 key; the raw body is signed into X-Gaswatch-Signature: sha256=<hex>'),
    timeoutMs: z.number().int().min(100).max(60_000).default(5_000).describe('Per-attempt HTTP timeout'),
    retries: z.number().int().min(0).max(10).default(3).describe('Extra attempts after a failed POST'),
    backoffMs: z
      .number()
      .int()
      .min(10)
      .max(600_000)
      .default(1_000)
      .describe('Delay before the first retry; doubles on each further retry'),
    headers: z.record(z.string(), z.string().max(1024)).default({}).describe('Extra HTTP headers'),
  })
  .strict();
export type WebhookChannelConfig = z.infer<typeof WebhookChannelSchema>;

/** One union member per channel type (docs/notifications.md describes each). */
export const ChannelConfigSchema = z.discriminatedUnion('type', [
  WebhookChannelSchema,
  LogChannelSchema,
  TwilioSmsChannelSchema,
  TwilioVoiceChannelSchema,
  SmtpChannelSchema,
  WecomChannelSchema,
  DingtalkChannelSchema,
  FeishuChannelSchema,
  AliyunSmsChannelSchema,
  AliyunVoiceChannelSchema,
  TencentSmsChannelSchema,
  TencentVoiceChannelSchema,
]);
export type ChannelConfig = z.infer<typeof ChannelConfigSchema>;
