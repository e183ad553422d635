import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { ProviderAdapter, ProviderMessage } from '../provider.js';
import { adapterHttp, checkRobotAnswer, cutUtf8, type ProviderDeps, silentLogger } from './adapter-kit.js';
import { callProvider } from './provider-http.js';

/**
 * Feishu (飞书) / Lark custom bot with 签名校验: the JSON body carries `timestamp` (seconds) and
 * `sign` = base64(HMAC-SHA256 keyed with "timestamp\nsecret" over an empty message); Feishu
 * refuses a timestamp more than an hour off (19021). It answers `{"code":0,"msg":"success"}`;
 * 11232 is its throttling (100 a minute, 5 a second per bot). A custom bot only speaks: it
 * cannot receive messages, and there are no receipts.
 * https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
 */

export const FEISHU_HOOK = 'https://open.feishu.cn/open-apis/bot/v2/hook/';
export const LARK_HOOK = 'https://open.larksuite.com/open-apis/bot/v2/hook/';

/** Feishu refuses a request body over 20 KB; the text is cut to leave room for the rest. */
const MAX_TEXT_BYTES = 18_000;

/** Feishu's throttling (11232); -1 for its "system busy" should it answer one. */
const RETRYABLE = new Set([-1, 11232]);

/** The `sign` field for `timestampS` (seconds), as Feishu's documentation makes it. */
export function feishuSign(secret: string, timestampS: number): string {
  return createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}

export const FeishuChannelSchema = z
  .object({
    type: z.literal('feishu'),
    hookId: z
      .string()
      .regex(/^[A-Za-z0-9-]{8,128}$/, "the last part of the bot's webhook address")
      .describe("The last part of the bot's webhook address …/bot/v2/hook/<hookId> (a secret)"),
    secret: z
      .string()
      .min(8)
      .max(256)
      .describe("The bot's 签名校验 secret, from its security settings; unsigned bots are not supported"),
    region: z
      .enum(['feishu', 'lark'])
      .default('feishu')
      .describe('feishu (open.feishu.cn, China) or lark (open.larksuite.com, elsewhere)'),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe("Webhook address up to the hookId; the region's when absent"),
    msgType: z
      .enum(['interactive', 'text'])
      .default('interactive')
      .describe('interactive (a card with a coloured title) or text'),
    cardTemplate: z
      .enum(['red', 'orange', 'yellow', 'blue', 'green', 'grey'])
      .default('red')
      .describe("The card title's colour"),
    timeoutMs: z.number().int().min(500).max(60_000).default(5_000).describe('Per-request HTTP timeout'),
  })
  .strict();
export type FeishuChannelConfig = z.infer<typeof FeishuChannelSchema>;

export function createFeishuAdapter(config: FeishuChannelConfig, deps: ProviderDeps = {}): ProviderAdapter {
  const name = deps.name ?? 'feishu';
  const clock = deps.clock ?? Date.now;
  const { http, close } = adapterHttp(deps);
  const log = (deps.logger ?? silentLogger).child({ channel: name, type: 'feishu' });
  const base = config.endpoint ?? (config.region === 'lark' ? LARK_HOOK : FEISHU_HOOK);
  const url = `${base.endsWith('/') ? base : `${base}/`}${encodeURIComponent(config.hookId)}`;

  function content(message: ProviderMessage): Record<string, unknown> {
    const text = cutUtf8(message.text, MAX_TEXT_BYTES);
    if (config.msgType === 'text') {
      return {
        msg_type: 'text',
        content: { text: message.subject === undefined ? text : `${message.subject}\n${text}` },
      };
    }
    return {
      msg_type: 'interactive',
      card: {
        schema: '2.0',
        header: {
          title: { tag: 'plain_text', content: message.subject ?? [...message.text].slice(0, 30).join('') },
          template: config.cardTemplate,
        },
        body: { elements: [{ tag: 'markdown', content: text }] },
      },
    };
  }

  return {
    name,
    type: 'feishu',
    medium: 'chat',
    async send(message) {
      const timestamp = Math.floor(clock() / 1000);
      const payload = {
        timestamp: String(timestamp),
        sign: feishuSign(config.secret, timestamp),
        ...content(message),
      };
      const answer = await callProvider(http, {
        provider: 'Feishu',
        request: {
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(payload),
          timeoutMs: config.timeoutMs,
        },
        secrets: [config.hookId, config.secret],
      });
      try {
        checkRobotAnswer('Feishu', answer, { code: 'code', message: 'msg' }, RETRYABLE);
      } catch (err) {
        log.warn({ err, notification: message.id }, 'Feishu refused');
        throw err;
      }
      log.info({ notification: message.id }, 'Feishu bot posted');
      return { providerId: null };
    },
    async stop() {
      close();
    },
  };
}
