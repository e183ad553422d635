import type { Logger } from 'pino';
import { realTimers, type Timers } from '../../timers.js';
import { type HttpAnswer, type HttpClient, HttpFailure, type HttpRequest } from '../http-client.js';
import { ProviderError } from '../provider.js';

/**
 * The plumbing every provider adapter shares: one call to a provider over the notifications'
 * HTTP client, turned into a ProviderError when it fails, the retry loop around it, and the
 * scrubbing that keeps a credential out of every message. The wire format and the signature stay
 * in each provider's own module.
 */

/**
 * One HTTP request to a provider. A network failure, a timeout or an answer broken off is a
 * retryable ProviderError whose words hold neither the URL nor a secret (the provider may be
 * briefly unreachable); a 3xx is permanent (a provider API does not redirect: a captive portal or
 * a misconfigured endpoint does, and its 200 would be taken for an accepted message). Every other
 * status resolves, with `secrets` scrubbed from the text, for the caller to classify.
 */
export async function callProvider(
  http: HttpClient,
  opts: {
    /** Provider's name for messages ("Twilio", "Alibaba Cloud"). */
    provider: string;
    request: HttpRequest;
    /** Values that must never appear in an error's words. */
    secrets: readonly string[];
  },
): Promise<HttpAnswer> {
  let answer: HttpAnswer;
  try {
    answer = await http(opts.request);
  } catch (err) {
    const words = err instanceof HttpFailure ? err.message : 'request failed';
    throw new ProviderError('retryable', null, redact(`${opts.provider}: ${words}`, opts.secrets), {
      cause: err,
    });
  }
  if (answer.status >= 300 && answer.status < 400) {
    throw new ProviderError(
      'permanent',
      null,
      `${opts.provider}: HTTP ${answer.status} redirect not followed (configure the provider's endpoint itself)`,
    );
  }
  if (answer.broken) {
    throw new ProviderError('retryable', null, `${opts.provider}: HTTP ${answer.status} answer broken off`);
  }
  return { ...answer, text: redact(answer.text, opts.secrets) };
}

/** The answer's JSON, or undefined when it is not JSON (an HTML error page of a proxy, say). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Replaces every secret (and its URL-encoded form) in `text` with `***`. Provider answers and
 * network errors are quoted in ProviderError messages and logs; a key that rides in the URL
 * (WeCom, DingTalk, Feishu) must never come back out through them.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***');
  }
  return out;
}

/** Provider-supplied words with the secrets scrubbed and cut to a readable length. */
export function scrub(text: string, secrets: readonly string[], max = 300): string {
  const out = redact(text, secrets);
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

/** A ProviderError for an HTTP status that carried no provider code: 5xx, 408 and 429 retryable. */
export function statusError(provider: string, status: number, detail = ''): ProviderError {
  const kind = status >= 500 || status === 429 || status === 408 ? 'retryable' : 'permanent';
  const words = detail === '' ? '' : `: ${detail.slice(0, 200)}`;
  return new ProviderError(kind, null, `${provider}: HTTP ${status}${words}`);
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
