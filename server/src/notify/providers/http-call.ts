import { timingSafeEqual } from 'node:crypto';
import { type Logger, pino } from 'pino';
import { ProviderError } from '../provider.js';

/**
 * What every provider adapter is built with besides its configuration. Adapters do no I/O until
 * they are asked to send or to read a callback.
 */
export interface AdapterDeps {
  /** The channel's name (GASWATCH_CONFIG `channels.<name>`); the type when absent. */
  name?: string;
  /** Wall clock in ms: the timestamps signatures carry, the time of a callback without one. */
  clock?: () => number;
  logger?: Logger;
  /** The HTTP client; Node's global fetch when absent. */
  fetch?: typeof fetch;
}

export const silentLogger: Logger = pino({ level: 'silent' });

/** At most this much of a provider's answer is read; providers answer a few hundred bytes. */
export const MAX_ANSWER_BYTES = 64 * 1024;

export interface HttpAnswer {
  status: number;
  /** The answer's body as text, cut at MAX_ANSWER_BYTES. */
  text: string;
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

async function readCapped(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let read = 0;
  try {
    for (let i = 0; i < 100_000; i++) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      read += value.byteLength;
      if (read > MAX_ANSWER_BYTES) {
        await reader.cancel();
        break;
      }
    }
  } catch {
    // A broken answer body: what was read is all there is; the status still counts.
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}

/** Why a request never got an answer, in words without the URL (it may hold a key). */
function networkWords(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  return code === undefined ? 'request failed' : `request failed (${code})`;
}

/**
 * One HTTP request to a provider: a timeout per attempt, redirects never followed (a 3xx is a
 * wrong endpoint, and fetch would turn the POST into a GET), at most MAX_ANSWER_BYTES read.
 * Network failures and timeouts reject with a retryable ProviderError whose words hold neither
 * the URL nor a secret; every HTTP status resolves, for the caller to classify.
 */
export async function callProvider(opts: {
  fetch: typeof fetch;
  /** Provider's name for messages ("Twilio", "WeCom"). */
  provider: string;
  url: string;
  init: RequestInit;
  timeoutMs: number;
  /** Values that must never appear in an error's words. */
  secrets: readonly string[];
}): Promise<HttpAnswer> {
  let res: Response;
  try {
    res = await opts.fetch(opts.url, {
      ...opts.init,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new ProviderError('retryable', null, `${opts.provider}: no answer within ${opts.timeoutMs} ms`);
    }
    throw new ProviderError(
      'retryable',
      null,
      redact(`${opts.provider}: ${networkWords(err)}`, opts.secrets),
    );
  }
  const text = redact(await readCapped(res), opts.secrets);
  if (res.status >= 300 && res.status < 400) {
    throw new ProviderError(
      'permanent',
      null,
      `${opts.provider}: HTTP ${res.status} redirect not followed (check the configured endpoint)`,
    );
  }
  return { status: res.status, text };
}

/** The answer's JSON, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A ProviderError for an HTTP status that carried no provider code: 5xx and 429 retryable. */
export function statusError(provider: string, status: number, detail = ''): ProviderError {
  const kind = status >= 500 || status === 429 || status === 408 ? 'retryable' : 'permanent';
  const words = detail === '' ? '' : `: ${detail.slice(0, 200)}`;
  return new ProviderError(kind, null, `${provider}: HTTP ${status}${words}`);
}

/**
 * `text` cut to at most `maxBytes` of UTF-8 at a character boundary, ending in "…" when cut:
 * robots refuse an over-long message outright, and most of an alarm beats none of it.
 */
export function cutUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const budget = maxBytes - Buffer.byteLength('…', 'utf8');
  let used = 0;
  let out = '';
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > budget) break;
    out += ch;
    used += n;
  }
  return `${out}…`;
}

/** Compares two strings in time independent of where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A request header's value (the first, if repeated), looked up case-insensitively. */
export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== want) continue;
    return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/**
 * A Chinese mobile number as the chat robots take it for an @-mention (13800000000), from the
 * E.164 form the chain uses (+8613800000000); null when `to` is no phone number (a group message).
 */
export function mentionMobile(to: string): string | null {
  const m = /^\+86(1\d{10})$/.exec(to) ?? /^(1\d{10})$/.exec(to);
  return m?.[1] ?? null;
}

/**
 * Checks a chat robot's answer. Robots answer HTTP 200 with a code in the JSON body (`errcode`,
 * `code`), 0 for success: the HTTP status alone would count a refused message as delivered.
 * Codes in `retryable` (throttling, "system busy") and 5xx are worth another try; every other
 * code (bad key, signature, keyword, content) is permanent.
 */
export function checkRobotAnswer(
  provider: string,
  answer: HttpAnswer,
  fields: { code: string; message: string },
  retryable: ReadonlySet<number>,
): void {
  const body = parseJson(answer.text) as Record<string, unknown> | undefined;
  const code = body?.[fields.code];
  const ok2xx = answer.status >= 200 && answer.status < 300;
  if (code === 0 && ok2xx) return;
  if (typeof code === 'number') {
    const words =
      typeof body?.[fields.message] === 'string' ? (body[fields.message] as string).slice(0, 300) : '';
    throw new ProviderError(
      retryable.has(code) || answer.status >= 500 ? 'retryable' : 'permanent',
      String(code),
      `${provider} ${fields.code} ${code}: ${words}`,
    );
  }
  if (!ok2xx) throw statusError(provider, answer.status);
  throw new ProviderError(
    'retryable',
    null,
    `${provider}: HTTP ${answer.status} answer without ${fields.code}`,
  );
}
