import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { realTimers, type Timers } from '../timers.js';
import { type Notification, type NotificationChannel, NotifyError } from './channel.js';
import type { WebhookChannelConfig } from './channel-config.js';
import { createHttpClient, type HttpClient } from './http-client.js';

export const SIGNATURE_HEADER = 'x-gaswatch-signature';

/** `sha256=<hex>` of the raw body under the channel's secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookChannelOptions {
  name: string;
  config: WebhookChannelConfig;
  logger: Logger;
  timers?: Timers;
  /** Called for every failed attempt that will be retried (metrics). */
  onRetry?: (attempt: number, err: Error) => void;
  /** The HTTP client (tests); the channel's own, closed by stop(), when absent. */
  http?: HttpClient;
  /** Connections the channel's own client keeps to the receiver at most (notify.maxInFlight). */
  maxSockets?: number;
}

/**
 * POSTs the notification as JSON, signed with HMAC-SHA256 of the raw body. Each attempt has a
 * timeout; failures (network, timeout, non-2xx, including a 3xx: redirects are not followed)
 * are retried `retries` times with doubling backoff. A 4xx other than 408/429 is the receiver
 * refusing the message: not retried. The answer's body is read (at most 64 KiB, so the
 * connection can be reused) and thrown away: only the status counts.
 */
export function createWebhookChannel(opts: WebhookChannelOptions): NotificationChannel {
  const { name, config } = opts;
  const timers = opts.timers ?? realTimers;
  const log = opts.logger.child({ channel: name, type: 'webhook' });
  const own =
    opts.http === undefined
      ? createHttpClient(opts.maxSockets === undefined ? {} : { maxSockets: opts.maxSockets })
      : undefined;
  const http = opts.http ?? (own as HttpClient);
  let stopped = false;
  const sleeping = new Set<{ handle: unknown; resolve: () => void }>();

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = {
        handle: undefined as unknown,
        resolve: () => {
          sleeping.delete(entry);
          resolve();
        },
      };
      entry.handle = timers.setTimeout(entry.resolve, ms);
      sleeping.add(entry);
    });

  async function attempt(body: string, signature: string, deliveryId: string): Promise<void> {
    let res: Awaited<ReturnType<HttpClient>>;
    try {
      res = await http({
        method: 'POST',
        url: config.url,
        headers: {
          ...lowerCaseNames(config.headers),
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signature,
          'x-gaswatch-delivery': deliveryId,
        },
        body,
        timeoutMs: config.timeoutMs,
      });
    } catch (err) {
      // Words without the URL: a receiver's token may ride in it.
      throw new NotifyError('webhook_failed', (err as Error).message, 0, undefined, { cause: err });
    }
    if (res.status >= 300 && res.status < 400) {
      // Never followed: fetch-style clients turn the POST into an empty GET on a 301/302, and
      // its 200 would count as delivered although the receiver never got the alarm.
      const to = res.headers.location;
      throw new NotifyError(
        'webhook_failed',
        `HTTP ${res.status} redirect${to === undefined ? '' : ` to ${to.slice(0, 200)}`} not followed (configure the final URL)`,
        0,
        res.status,
      );
    }
    if (res.status < 200 || res.status >= 300) {
      throw new NotifyError('webhook_failed', `HTTP ${res.status}`, 0, res.status);
    }
  }

  return {
    name,
    type: 'webhook',
    async send(n: Notification) {
      const body = JSON.stringify({ v: 1, ...n });
      const signature = signBody(config.secret, body);
      let lastErr: Error = new Error('not attempted');
      const attempts = config.retries + 1;
      for (let i = 0; i < attempts; i++) {
        if (stopped) throw new NotifyError('channel_stopped', `channel ${name} stopped`, i);
        try {
          await attempt(body, signature, n.id);
          if (i > 0) log.info({ notification: n.id, attempt: i + 1 }, 'webhook delivered after retry');
          return;
        } catch (err) {
          lastErr = err as Error;
          const status = err instanceof NotifyError ? err.status : undefined;
          const permanent =
            status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
          log.warn(
            { err: lastErr, notification: n.id, attempt: i + 1, of: attempts },
            'webhook attempt failed',
          );
          if (permanent || i === attempts - 1) break;
          opts.onRetry?.(i + 1, lastErr);
          await wait(config.backoffMs * 2 ** i);
        }
      }
      throw new NotifyError(
        'webhook_failed',
        `webhook ${name} failed: ${lastErr.message}`,
        attempts,
        lastErr instanceof NotifyError ? lastErr.status : undefined,
        { cause: lastErr },
      );
    },
    async stop() {
      stopped = true;
      own?.close();
      for (const s of [...sleeping]) {
        timers.clearTimeout(s.handle);
        s.resolve();
      }
    },
  };
}

/**
 * The configured extra headers with lower-case names, so that one written `Content-Type` cannot
 * stand beside ours as a second content-type.
 */
function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}
