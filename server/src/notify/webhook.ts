import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { realTimers, type Timers } from '../timers.js';
import { type Notification, type NotificationChannel, NotifyError } from './channel.js';
import type { WebhookChannelConfig } from './channel-config.js';

export const SIGNATURE_HEADER = 'x-gaswatch-signature';

/** `sha256=<hex>` of the raw body under the channel's secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** At most this much of a receiver's answer is read (and thrown away). */
export const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Reads the answer so the connection can be reused, but never more than MAX_ANSWER_BYTES: a
 * receiver gone wrong that streams a huge body is cut off rather than buffered in memory.
 */
async function drain(res: Response): Promise<void> {
  const reader = res.body?.getReader();
  if (reader === undefined) return;
  let read = 0;
  try {
    for (let i = 0; i < 100_000; i++) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > MAX_ANSWER_BYTES) break;
    }
    await reader.cancel();
  } catch {
    // The answer's status is what counts; a broken body changes nothing.
  }
}

export interface WebhookChannelOptions {
  name: string;
  config: WebhookChannelConfig;
  logger: Logger;
  timers?: Timers;
  /** Called for every failed attempt that will be retried (metrics). */
  onRetry?: (attempt: number, err: Error) => void;
}

/**
 * POSTs the notification as JSON, signed with HMAC-SHA256 of the raw body. Each attempt has a
 * timeout; failures (network, timeout, non-2xx, including a 3xx: redirects are not followed)
 * are retried `retries` times with doubling backoff. A 4xx other than 408/429 is the receiver
 * refusing the message: not retried.
 */
export function createWebhookChannel(opts: WebhookChannelOptions): NotificationChannel {
  const { name, config } = opts;
  const timers = opts.timers ?? realTimers;
  const log = opts.logger.child({ channel: name, type: 'webhook' });
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
    const res = await fetch(config.url, {
      method: 'POST',
      headers: {
        ...config.headers,
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signature,
        'x-gaswatch-delivery': deliveryId,
      },
      body,
      // A redirect is never followed: fetch would turn the POST into an empty GET on a 301/302
      // and its 200 would count as delivered although the receiver never got the alarm.
      redirect: 'manual',
      signal: AbortSignal.timeout(config.timeoutMs),
    });
    await drain(res);
    if (res.status >= 300 && res.status < 400) {
      const to = res.headers.get('location');
      throw new NotifyError(
        'webhook_failed',
        `HTTP ${res.status} redirect${to === null ? '' : ` to ${to.slice(0, 200)}`} not followed (configure the final URL)`,
        0,
        res.status,
      );
    }
    if (!res.ok) throw new NotifyError('webhook_failed', `HTTP ${res.status}`, 0, res.status);
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
      for (const s of [...sleeping]) {
        timers.clearTimeout(s.handle);
        s.resolve();
      }
    },
  };
}
