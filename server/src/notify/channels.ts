import type { Logger } from 'pino';
import type { Timers } from '../timers.js';
import type { NotificationChannel } from './channel.js';
import type { ChannelConfig } from './channel-config.js';
import type { Medium, ProviderAdapter } from './provider.js';
import { createAliyunSmsAdapter } from './providers/aliyun-sms.js';
import { createAliyunVoiceAdapter } from './providers/aliyun-voice.js';
import { createDingtalkAdapter } from './providers/dingtalk.js';
import { createFeishuAdapter } from './providers/feishu.js';
import { createLogAdapter } from './providers/log.js';
import { createSmtpAdapter } from './providers/smtp.js';
import { createTencentSmsAdapter } from './providers/tencent-sms.js';
import { createTencentVoiceAdapter } from './providers/tencent-voice.js';
import { createTwilioSmsAdapter } from './providers/twilio-sms.js';
import { createTwilioVoiceAdapter } from './providers/twilio-voice.js';
import { createWecomAdapter } from './providers/wecom.js';
import { createWebhookChannel } from './webhook.js';

/**
 * A configured channel as the chain uses it: the signed webhook, which carries the alarm as JSON
 * to another system, or a provider adapter, which carries a rendered message to a person.
 */
export type Channel =
  | { name: string; kind: 'webhook'; medium: 'webhook'; webhook: NotificationChannel }
  | {
      name: string;
      kind: 'provider';
      medium: Medium;
      adapter: ProviderAdapter;
      /**
       * The SMS sign as the text shows it: `provider`, the channel's approved signName that the
       * provider puts in front (Alibaba Cloud, Tencent Cloud); `text`, notify.smsSign written into
       * the text (Twilio, the log channel); null, none.
       */
      sign: { kind: 'provider'; name: string } | { kind: 'text' } | null;
      /** Template parameters are cut to this many characters. */
      paramMaxChars?: number;
      /** The public callback URL configured at the provider (Twilio signs it). */
      callbackUrl?: string;
    };

export interface ChannelHooks {
  retried?(channel: string): void;
}

/** Builds every configured channel (GASWATCH_CONFIG `channels`); no I/O until one sends. */
export function createChannels(
  configs: Record<string, ChannelConfig>,
  deps: {
    logger: Logger;
    timers?: Timers | undefined;
    clock?: () => number;
    hooks?: ChannelHooks;
    /** Connections each channel keeps to its provider at most: notify.maxInFlight. */
    maxSockets?: number;
  },
): Map<string, Channel> {
  const out = new Map<string, Channel>();
  const common = {
    logger: deps.logger,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    ...(deps.maxSockets === undefined ? {} : { maxSockets: deps.maxSockets }),
  };
  const withTimers = { ...common, ...(deps.timers === undefined ? {} : { timers: deps.timers }) };
  for (const [name, config] of Object.entries(configs)) {
    const provider = (
      adapter: ProviderAdapter,
      extra: Partial<Extract<Channel, { kind: 'provider' }>> = {},
    ): Channel => ({ name, kind: 'provider', medium: adapter.medium, adapter, sign: null, ...extra });
    switch (config.type) {
      case 'webhook':
        out.set(name, {
          name,
          kind: 'webhook',
          medium: 'webhook',
          webhook: createWebhookChannel({
            name,
            config,
            logger: deps.logger,
            timers: deps.timers,
            onRetry: () => deps.hooks?.retried?.(name),
            ...(deps.maxSockets === undefined ? {} : { maxSockets: deps.maxSockets }),
          }),
        });
        break;
      case 'log':
        out.set(
          name,
          provider(createLogAdapter(config, { name, ...common }), {
            sign: config.medium === 'sms' ? { kind: 'text' } : null,
          }),
        );
        break;
      case 'aliyun-sms':
        out.set(
          name,
          provider(createAliyunSmsAdapter(config, { name, ...withTimers }), {
            sign: { kind: 'provider', name: config.signName },
            paramMaxChars: config.paramMaxChars,
          }),
        );
        break;
      case 'aliyun-voice':
        out.set(
          name,
          provider(createAliyunVoiceAdapter(config, { name, ...withTimers }), {
            paramMaxChars: config.paramMaxChars,
          }),
        );
        break;
      case 'tencent-sms':
        out.set(
          name,
          provider(createTencentSmsAdapter(config, { name, ...withTimers }), {
            sign: { kind: 'provider', name: config.signName },
            paramMaxChars: config.paramMaxChars,
          }),
        );
        break;
      case 'tencent-voice':
        out.set(
          name,
          provider(createTencentVoiceAdapter(config, { name, ...withTimers }), {
            paramMaxChars: config.paramMaxChars,
          }),
        );
        break;
      case 'twilio-sms':
        out.set(
          name,
          provider(createTwilioSmsAdapter(config, { name, ...common }), {
            sign: { kind: 'text' },
            ...(config.callbackUrl === undefined ? {} : { callbackUrl: config.callbackUrl }),
          }),
        );
        break;
      case 'twilio-voice':
        out.set(
          name,
          provider(createTwilioVoiceAdapter(config, { name, ...common }), {
            callbackUrl: config.callbackUrl,
          }),
        );
        break;
      case 'smtp':
        out.set(name, provider(createSmtpAdapter(config, { name, ...common })));
        break;
      case 'wecom':
        out.set(name, provider(createWecomAdapter(config, { name, ...common })));
        break;
      case 'dingtalk':
        out.set(name, provider(createDingtalkAdapter(config, { name, ...common })));
        break;
      case 'feishu':
        out.set(name, provider(createFeishuAdapter(config, { name, ...common })));
        break;
    }
  }
  return out;
}

/** Stops every channel's pending retries and connections. */
export async function stopChannels(channels: Map<string, Channel>): Promise<void> {
  await Promise.allSettled(
    [...channels.values()].map((c) => (c.kind === 'webhook' ? c.webhook.stop?.() : c.adapter.stop?.())),
  );
}
