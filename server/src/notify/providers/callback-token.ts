import { createHash, timingSafeEqual } from 'node:crypto';
import { CallbackRefused, type CallbackRequest } from '../provider.js';

/**
 * Alibaba Cloud's HTTP batch push and Tencent Cloud's SMS and voice callbacks are not signed:
 * their documentation offers nothing but the URL you configure (and, for Tencent, a list of source
 * IPs to allow). So the URL itself carries the proof: a long random token of ours in its query,
 * `…/api/notify/callback/<channel>?token=<callbackToken>`, which only the provider's console and
 * our configuration know. Anything without it, or with another, is refused. Use HTTPS, so the
 * token is not readable on the way.
 */

/** The query parameter that carries the token. */
export const TOKEN_PARAM = 'token';

/** Largest callback body read: Tencent pushes at most 100 reports at once, a few KiB. */
export const MAX_CALLBACK_BYTES = 1024 * 1024;

/** Compares digests, so neither the token's length nor its content leaks through timing. */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Refuses a callback whose URL lacks the configured token or carries another. */
export function checkCallbackToken(request: CallbackRequest, expected: string | undefined): void {
  if (expected === undefined) {
    throw new CallbackRefused(
      'unsigned',
      'this channel has no callbackToken configured, so no callback can be trusted',
    );
  }
  let given: string | null;
  try {
    given = new URL(request.url, 'http://callback.invalid').searchParams.get(TOKEN_PARAM);
  } catch {
    throw new CallbackRefused('unreadable', 'callback URL cannot be parsed');
  }
  if (given === null || given === '') {
    throw new CallbackRefused('unsigned', `callback URL has no ${TOKEN_PARAM} parameter`);
  }
  if (!sameToken(given, expected)) {
    throw new CallbackRefused('bad_signature', `callback URL carries a wrong ${TOKEN_PARAM}`);
  }
  if (request.method.toUpperCase() !== 'POST') {
    throw new CallbackRefused('unreadable', `callbacks are POSTed, not ${request.method}`);
  }
}

/** The callback's JSON body, or a refusal saying why it cannot be read. */
export function callbackJson(request: CallbackRequest): unknown {
  if (request.rawBody.byteLength > MAX_CALLBACK_BYTES) {
    throw new CallbackRefused('unreadable', `callback body over ${MAX_CALLBACK_BYTES} bytes`);
  }
  try {
    return JSON.parse(request.rawBody.toString('utf8')) as unknown;
  } catch {
    throw new CallbackRefused('unreadable', 'callback body is not JSON');
  }
}

/**
 * "2017-01-01 08:03:04" as Alibaba and Tencent write times in their callbacks: Beijing time
 * (UTC+8, no daylight saving). Null when the text is not such a time.
 */
export function beijingTime(text: string | undefined): number | null {
  if (text === undefined) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(text.trim());
  if (m === null) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}+08:00`);
  return Number.isFinite(ms) ? ms : null;
}

/** A UNIX time in seconds, as a number or a numeric string; null when absent or not a time. */
export function unixSeconds(value: string | number | undefined): number | null {
  if (value === undefined || value === '') return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) && n > 0 ? n * 1000 : null;
}
