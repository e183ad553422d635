import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { HttpClient } from '../http-client.js';
import { CallbackRefused, type CallbackRequest, ProviderError } from '../provider.js';
import { headerValue, sameSecret } from './adapter-kit.js';
import { callProvider, parseJson, statusError } from './provider-http.js';

/**
 * What Twilio's SMS and voice adapters share: the account, the REST call (form-encoded POST,
 * basic auth, JSON answer) and the check of the X-Twilio-Signature Twilio puts on every callback.
 * https://www.twilio.com/docs/usage/security, https://www.twilio.com/docs/usage/api
 */

export const TWILIO_API = 'https://api.twilio.com';

/** E.164: "+" and up to 15 digits, the form Twilio takes and reports numbers in. */
export const E164 = /^\+[1-9]\d{6,14}$/;

/** Fields of every Twilio channel; the adapters add theirs and check `apiKeyPair`. */
export const twilioAccountFields = {
  accountSid: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'an Account SID: AC and 32 hex digits')
    .describe('Account SID (AC…), from the Twilio Console'),
  authToken: z
    .string()
    .min(16)
    .max(128)
    .describe(
      'Auth Token: Twilio signs its callbacks with it (X-Twilio-Signature); also the API password unless an API key is set',
    ),
  apiKeySid: z
    .string()
    .regex(/^SK[0-9a-fA-F]{32}$/, 'an API key SID: SK and 32 hex digits')
    .optional()
    .describe('API key SID (SK…) for the REST calls; Twilio recommends keys over the Auth Token'),
  apiKeySecret: z.string().min(16).max(128).optional().describe("The API key's secret"),
  endpoint: z
    .url({ protocol: /^https?$/ })
    .default(TWILIO_API)
    .describe('REST API base URL; a regional one such as https://api.dublin.ie1.twilio.com'),
  timeoutMs: z.number().int().min(500).max(60_000).default(10_000).describe('Per-request HTTP timeout'),
};

/** `apiKeySid` and `apiKeySecret` come together or not at all. */
export function apiKeyPair(v: { apiKeySid?: string; apiKeySecret?: string }, ctx: z.RefinementCtx): void {
  if ((v.apiKeySid === undefined) !== (v.apiKeySecret === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [v.apiKeySid === undefined ? 'apiKeySid' : 'apiKeySecret'],
      message: 'apiKeySid and apiKeySecret go together',
    });
  }
}

export interface TwilioAccount {
  accountSid: string;
  authToken: string;
  apiKeySid?: string;
  apiKeySecret?: string;
  endpoint: string;
  timeoutMs: number;
}

/**
 * X-Twilio-Signature: base64 of HMAC-SHA1, keyed with the Auth Token, over the full URL Twilio
 * called followed by every POST parameter's name and value, sorted by name (case-sensitive, no
 * separators); a repeated name contributes each value, sorted.
 */
export function twilioSignature(authToken: string, url: string, params: Iterable<[string, string]>): string {
  const sorted = [...params].sort(([ka, va], [kb, vb]) =>
    ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0,
  );
  let data = url;
  for (const [k, v] of sorted) data += k + v;
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * The forms of `url` Twilio may have signed: as configured, without its port and with the
 * scheme's default port. Twilio signs the URL as it called it, and its own validators accept
 * these (a proxy in front of the server may add or drop the port).
 */
export function twilioUrlVariants(url: string): string[] {
  const m = /^(https?:\/\/)([^/?#]*)(.*)$/i.exec(url);
  if (m === null) return [url];
  const [, scheme = '', authority = '', rest = ''] = m;
  const bare = authority.replace(/:\d+$/, '');
  const port = scheme.toLowerCase() === 'https://' ? '443' : '80';
  return [...new Set([url, `${scheme}${bare}${rest}`, `${scheme}${bare}:${port}${rest}`])];
}

/**
 * Checks a callback's X-Twilio-Signature against the URL it was sent to and its form body, and
 * returns the parameters (the first value of each name). Twilio signs no timestamp: a replayed
 * callback passes, which is harmless here (a receipt or a reply counts once per message).
 */
export function verifyTwilioCallback(authToken: string, request: CallbackRequest): Map<string, string> {
  if (request.method.toUpperCase() !== 'POST') {
    throw new CallbackRefused('unreadable', `Twilio callbacks are POSTed, not ${request.method}`);
  }
  const signature = headerValue(request.headers, 'x-twilio-signature');
  if (signature === undefined || signature === '') {
    throw new CallbackRefused('unsigned', 'no X-Twilio-Signature header');
  }
  const pairs = [...new URLSearchParams(request.rawBody.toString('utf8'))];
  const ok = twilioUrlVariants(request.url).some((u) =>
    sameSecret(twilioSignature(authToken, u, pairs), signature),
  );
  if (!ok) throw new CallbackRefused('bad_signature', 'X-Twilio-Signature does not match');
  const params = new Map<string, string>();
  for (const [k, v] of pairs) if (!params.has(k)) params.set(k, v);
  return params;
}

/** Twilio error codes after which the same request may well succeed later. */
const RETRYABLE_CODES = new Set([
  20429, // Too Many Requests
  21611, // the From number's queue of unsent messages is full
]);

/** A ProviderError from a Twilio error answer: `{code, message, more_info, status}`. */
export function twilioError(status: number, text: string): ProviderError {
  const body = parseJson(text) as { code?: unknown; message?: unknown } | undefined;
  const code = typeof body?.code === 'number' ? body.code : null;
  if (code === null) return statusError('Twilio', status);
  const words = typeof body?.message === 'string' ? body.message.slice(0, 300) : '';
  const retryable = RETRYABLE_CODES.has(code) || status >= 500 || status === 429;
  return new ProviderError(
    retryable ? 'retryable' : 'permanent',
    String(code),
    `Twilio ${code} (HTTP ${status}): ${words}`,
  );
}

/**
 * Creates a Twilio resource (`Messages`, `Calls`) and returns its SID: one POST, never retried
 * here (Twilio takes no idempotency key for these, so a retry after a timeout may send twice;
 * the chain decides).
 */
export async function twilioCreate(
  account: TwilioAccount,
  resource: 'Messages' | 'Calls',
  form: URLSearchParams,
  http: HttpClient,
  log: Logger,
): Promise<string> {
  const user = account.apiKeySid ?? account.accountSid;
  const pass = account.apiKeySecret ?? account.authToken;
  const basic = Buffer.from(`${user}:${pass}`).toString('base64');
  const base = account.endpoint.replace(/\/+$/, '');
  const answer = await callProvider(http, {
    provider: 'Twilio',
    request: {
      method: 'POST',
      url: `${base}/2010-04-01/Accounts/${account.accountSid}/${resource}.json`,
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      timeoutMs: account.timeoutMs,
    },
    // The basic credential too: an answer echoing the request's headers must not leak it.
    secrets: [pass, account.authToken, basic],
  });
  if (answer.status !== 200 && answer.status !== 201) {
    const err = twilioError(answer.status, answer.text);
    log.warn({ status: answer.status, providerCode: err.providerCode, kind: err.kind }, 'Twilio refused');
    throw err;
  }
  const sid = (parseJson(answer.text) as { sid?: unknown } | undefined)?.sid;
  if (typeof sid !== 'string') {
    throw new ProviderError('retryable', null, `Twilio: HTTP ${answer.status} without a sid`);
  }
  return sid;
}

/** `text` safe inside XML (TwiML) character data and attribute values. */
export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export const TWIML_CONTENT_TYPE = 'text/xml; charset=utf-8';
export const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>';
