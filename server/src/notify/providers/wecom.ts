import { z } from 'zod';
import type { ProviderAdapter, ProviderMessage } from '../provider.js';
import {
  adapterHttp,
  checkRobotAnswer,
  cutUtf8,
  mentionMobile,
  type ProviderDeps,
  silentLogger,
} from './adapter-kit.js';
import { callProvider } from './provider-http.js';

/**
 * WeCom (企业微信) group robot: a message to the group the robot was added to, POSTed as JSON to
 * its webhook, whose `key` is the whole credential (no signature). WeCom answers
 * `{"errcode":0,"errmsg":"ok"}`; 45009 is its throttling (20 messages a minute per robot).
 * A robot only speaks: there are no receipts and no replies to read.
 * https://developer.work.weixin.qq.com/document/path/91770 (群机器人配置说明),
 * https://developer.work.weixin.qq.com/document/path/90313 (全局错误码)
 */

export const WECOM_WEBHOOK = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send';

/** WeCom's limits on `content`, in UTF-8 bytes. */
export const WECOM_MAX_BYTES = { markdown: 4096, text: 2048 } as const;

/** System busy, API calls over the limit (45009), concurrent calls over the limit (45033). */
const RETRYABLE = new Set([-1, 45009, 45033]);

export const WecomChannelSchema = z
  .object({
    type: z.literal('wecom'),
    key: z
      .string()
      .regex(/^[A-Za-z0-9-]{8,64}$/, "the key= part of the robot's webhook address")
      .describe("The robot's key: the key= part of its webhook address (a secret: whoever has it can post)"),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .default(WECOM_WEBHOOK)
      .describe('Webhook address without the key'),
    msgtype: z
      .enum(['markdown', 'text'])
      .default('markdown')
      .describe('markdown (a bold title), or text (plain, and @-mentions the contact by mobile number)'),
    timeoutMs: z.number().int().min(500).max(60_000).default(5_000).describe('Per-request HTTP timeout'),
  })
  .strict();
export type WecomChannelConfig = z.infer<typeof WecomChannelSchema>;

export function createWecomAdapter(config: WecomChannelConfig, deps: ProviderDeps = {}): ProviderAdapter {
  const name = deps.name ?? 'wecom';
  const { http, close } = adapterHttp(deps);
  const log = (deps.logger ?? silentLogger).child({ channel: name, type: 'wecom' });
  const sep = config.endpoint.includes('?') ? '&' : '?';
  const url = `${config.endpoint}${sep}key=${encodeURIComponent(config.key)}`;

  function body(message: ProviderMessage): unknown {
    const title = message.subject ?? '';
    if (config.msgtype === 'markdown') {
      // WeCom markdown has no @-by-mobile; a heading and the text as lines.
      const md = `${title === '' ? '' : `### ${title}\n`}${message.text}`;
      return { msgtype: 'markdown', markdown: { content: cutUtf8(md, WECOM_MAX_BYTES.markdown) } };
    }
    const mobile = mentionMobile(message.to);
    const text = `${title === '' ? '' : `${title}\n`}${message.text}`;
    return {
      msgtype: 'text',
      text: {
        content: cutUtf8(text, WECOM_MAX_BYTES.text),
        ...(mobile === null ? {} : { mentioned_mobile_list: [mobile] }),
      },
    };
  }

  return {
    name,
    type: 'wecom',
    medium: 'chat',
    async send(message) {
      const answer = await callProvider(http, {
        provider: 'WeCom',
        request: {
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(body(message)),
          timeoutMs: config.timeoutMs,
        },
        secrets: [config.key],
      });
      try {
        checkRobotAnswer('WeCom', answer, { code: 'errcode', message: 'errmsg' }, RETRYABLE);
      } catch (err) {
        log.warn({ err, notification: message.id }, 'WeCom refused');
        throw err;
      }
      log.info({ notification: message.id }, 'WeCom robot posted');
      return { providerId: null };
    },
    async stop() {
      close();
    },
  };
}
