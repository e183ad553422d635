import type { Logger } from 'pino';
import { realTimers, type Timers } from '../../timers.js';
import { ProviderError } from '../provider.js';

/**
 * The plumbing the Chinese cloud adapters share: one HTTP exchange with a timeout and a capped
 * answer, the retry loop around it, and the scrubbing that keeps a credential out of every
 * message. The wire format and the signature stay in each provider's own module.
 */

/** At most this much of a provider's answer is read; their JSON answers are a few hundred bytes. */
export const MAX_ANSWER_BYTES = 64 * 1024;

export interface HttpAnswer {
  status: number;
  text: string;
}

/** Reads the body as UTF-8 text, cut off after MAX_ANSWER_BYTES (a broken proxy may stream forever). */
async function readCapped(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let read = 0;
  for (let i = 0; i < 100_000; i++) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    read += value.byteLength;
    if (read > MAX_ANSWER_BYTES) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER_BYTES);
}

/**
 * One request. A network failure or a timeout is a retryable ProviderError: the provider may be
 * briefly unreachable. Redirects are never followed (a provider API does not redirect; a captive
 * portal or a misconfigured endpoint does, and its 200 would be taken for an accepted message).
 */
export async function exchange(
  fetchFn: typeof fetch,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  timeoutMs: number,
): Promise<HttpAnswer> {
  let res: Response;
  try {
    res = await fetchFn(url, {
      method: init.method,
      headers: init.headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError';
    throw new ProviderError(
      'retryable',
      null,
      timedOut ? `no answer within ${timeoutMs} ms` : `request failed: ${causeOf(err)}`,
      { cause: err },
    );
  }
  let text: string;
  try {
    text = await readCapped(res);
  } catch (err) {
    throw new ProviderError('retryable', null, `answer broken off: ${causeOf(err)}`, { cause: err });
  }
  if (res.status >= 300 && res.status < 400) {
    throw new ProviderError(
      'permanent',
      null,
      `HTTP ${res.status} redirect not followed (configure the provider's endpoint itself)`,
    );
  }
  return { status: res.status, text };
}

/** The innermost reason of a fetch failure (undici wraps ECONNREFUSED in "fetch failed"). */
function causeOf(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** Parses a JSON answer; null when it is not JSON (an HTML error page of a proxy, say). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * Replaces every occurrence of the given secrets in provider-supplied text (an error message may
 * echo a request, and with it a key) and cuts it to a readable length.
 */
export function scrub(text: string, secrets: readonly string[], max = 300): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

export interface RetryOptions {
  retries: number;
  backoffMs: number;
  timers?: Timers;
  log: Logger;
}

/**
 * Runs `attempt` until it succeeds, fails permanently, or `retries` extra attempts are spent,
 * with doubling backoff. Only retryable ProviderErrors are tried again; `stop()` cuts the wait
 * short and ends the loop with a retryable error (the chain may still try elsewhere).
 */
export function createRetrier(opts: RetryOptions) {
  const timers = opts.timers ?? realTimers;
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

  return {
    async run<T>(messageId: string, attempt: () => Promise<T>): Promise<T> {
      const attempts = opts.retries + 1;
      for (let i = 0; i < attempts; i++) {
        if (stopped) throw new ProviderError('retryable', null, 'channel stopped');
        try {
          return await attempt();
        } catch (err) {
          const e =
            err instanceof ProviderError
              ? err
              : new ProviderError('retryable', null, `unexpected: ${(err as Error).message}`, { cause: err });
          // Object first, then words; the error carries the provider's code and scrubbed text only.
          opts.log.warn(
            {
              notification: messageId,
              attempt: i + 1,
              of: attempts,
              kind: e.kind,
              code: e.providerCode,
              reason: e.message,
            },
            'provider attempt failed',
          );
          if (e.kind === 'permanent' || i === attempts - 1) throw e;
          await wait(opts.backoffMs * 2 ** i);
        }
      }
      throw new ProviderError('retryable', null, 'not attempted');
    },
    stop() {
      stopped = true;
      for (const s of [...sleeping]) {
        timers.clearTimeout(s.handle);
        s.resolve();
      }
    },
  };
}
