import { createHmac } from 'node:crypto';
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
 * DingTalk (钉钉) custom group robot with the 加签 security setting: each request carries
 * `timestamp` (ms) and `sign` in its URL, sign = urlEncode(base64(HMAC-SHA256 keyed with the
 * secret over "timestamp\nsecret")); DingTalk refuses a timestamp more than an hour off. It
 * answers `{"errcode":0,"errmsg":"ok"}`; 130101/410100 are its throttling (20 messages a minute
 * per robot). A robot only speaks: there are no receipts and no replies to read.
 * https://open.dingtalk.com/document/robots/customize-robot-security-settings,
 * https://open.dingtalk.com/document/robots/custom-robot-access
 */

export const DINGTALK_WEBHOOK = 'https://oapi.dingtalk.com/robot/send';

/** DingTalk refuses a message over 20000 bytes (errcode 460101). */
export const DINGTALK_MAX_BYTES = 20_000;

/** System busy (-1), "send too fast, exceed 20 times per minute" (130101), throttled (410100). */
const RETRYABLE = new Set([-1, 130101, 410100]);

/** The `sign` query value for `timestampMs`, URL-encoded as DingTalk's documentation makes it. */
export function dingtalkSign(secret: string, timestampMs: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
  return encodeURIComponent(mac);
}

export const DingtalkChannelSchema = z
  .object({
    type: z.literal('dingtalk'),
    accessToken: z
      .string()
      .regex(/^[A-Za-z0-9]{16,128}$/, "the access_token= part of the robot's webhook address")
      .describe("The access_token= part of the robot's webhook address (a secret)"),
    secret: z
      .string()
      .min(8)
      .max(256)
      .describe(
        "The robot's 加签 secret (SEC…), from its security settings; unsigned robots are not supported",
      ),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .default(DINGTALK_WEBHOOK)
      .describe('Webhook address without its query'),
    msgtype: z
      .enum(['markdown', 'text'])
      .default('markdown')
      .describe('markdown (a title line and the text) or text'),
    timeoutMs: z.number().int().min(500).max(60_000).default(5_000).describe('Per-request HTTP timeout'),
  })
  .strict();
export type DingtalkChannelConfig = z.infer<typeof DingtalkChannelSchema>;

export function createDingtalkAdapter(
  config: DingtalkChannelConfig,
  deps: ProviderDeps = {},
): ProviderAdapter {
  const name = deps.name ?? 'dingtalk';
  const clock = deps.clock ?? Date.now;
  const { http, close } = adapterHttp(deps);
  const log = (deps.logger ?? silentLogger).child({ channel: name, type: 'dingtalk' });
  const sep = config.endpoint.includes('?') ? '&' : '?';

  function body(message: ProviderMessage): unknown {
    // DingTalk shows an @-mention only when the text names the mobile number too.
    const mobile = mentionMobile(message.to);
    const at = { atMobiles: mobile === null ? [] : [mobile], isAtAll: false };
    const mention = mobile === null ? '' : ` @${mobile}`;
    const title = message.subject ?? [...message.text].slice(0, 30).join('');
    if (config.msgtype === 'markdown') {
      // A blank line between lines: DingTalk's markdown joins single newlines.
      const md = `### ${title}\n\n${message.text.split('\n').join('\n\n')}${mention}`;
      return { msgtype: 'markdown', markdown: { title, text: cutUtf8(md, DINGTALK_MAX_BYTES - 1_000) }, at };
    }
    const text = `${message.subject === undefined ? '' : `${message.subject}\n`}${message.text}${mention}`;
    return { msgtype: 'text', text: { content: cutUtf8(text, DINGTALK_MAX_BYTES - 1_000) }, at };
  }

  return {
    name,
    type: 'dingtalk',
    medium: 'chat',
    async send(message) {
      const timestamp = clock();
      const url =
        `${config.endpoint}${sep}access_token=${encodeURIComponent(config.accessToken)}` +
        `&timestamp=${timestamp}&sign=${dingtalkSign(config.secret, timestamp)}`;
      const answer = await callProvider(http, {
        provider: 'DingTalk',
        request: {
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(body(message)),
          timeoutMs: config.timeoutMs,
        },
        secrets: [config.accessToken, config.secret],
      });
      try {
        checkRobotAnswer('DingTalk', answer, { code: 'errcode', message: 'errmsg' }, RETRYABLE);
      } catch (err) {
        log.warn({ err, notification: message.id }, 'DingTalk refused');
        throw err;
      }
      log.info({ notification: message.id }, 'DingTalk robot posted');
      return { providerId: null };
    },
    async stop() {
      close();
    },
  };
}
