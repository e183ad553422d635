import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import type { HttpClient } from '../http-client.js';
import { type CallbackAnswer, ProviderError } from '../provider.js';
import { callProvider, parseJson, scrub } from './provider-http.js';

/**
 * Tencent Cloud API 3.0 (SMS `sms`, voice messages `vms`) called over plain HTTPS: a JSON POST
 * signed with TC3-HMAC-SHA256, "签名方法 v3":
 * https://cloud.tencent.com/document/api/213/30654 (English: tencentcloud.com/document/api/382/40467)
 */

export const TC3 = 'TC3-HMAC-SHA256';
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** Tencent's accounts and the settings every API 3.0 adapter has. */
export const tencentKeyShape = {
  secretId: z.string().min(1).max(128).describe('SecretId of a CAM key allowed to call the API'),
  secretKey: z.string().min(1).max(256).describe('SecretKey; never logged'),
  region: z
    .string()
    .regex(/^[a-z]{2,}-[a-z]+(-\d+)?$/)
    .default('ap-guangzhou')
    .describe('X-TC-Region (SMS: ap-guangzhou, ap-beijing or ap-nanjing; voice: ap-guangzhou)'),
};

export interface Tc3Input {
  secretId: string;
  secretKey: string;
  /** Product in the credential scope: `sms`, `vms`, `cvm`… */
  service: string;
  /** Seconds since the epoch; its UTC date goes into the scope. */
  timestamp: number;
  /** Headers to sign, lower-case names (content-type and host at least; the SDKs add x-tc-action). */
  headers: Record<string, string>;
  body: string;
  method?: string;
  query?: string;
}

export interface Tc3Signed {
  authorization: string;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

/**
 * CanonicalRequest = method, `/`, query, canonical headers (`name:value\n`, lower-case names and
 * values trimmed, sorted), signed header names, hex SHA-256 of the body, joined by newlines;
 * StringToSign = algorithm, timestamp, `date/service/tc3_request`, hex SHA-256 of the canonical
 * request; the key is derived as HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request").
 */
export function signTc3(input: Tc3Input): Tc3Signed {
  const date = new Date(input.timestamp * 1000).toISOString().slice(0, 10);
  // Names and values lower-cased and trimmed, as the v3 document says (x-tc-action's value
  // becomes e.g. "sendsms"; content-type and host are lower-case already).
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers)) lower[k.toLowerCase()] = v.trim().toLowerCase();
  const names = Object.keys(lower).sort();
  const canonicalHeaders = names.map((k) => `${k}:${lower[k]}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    (input.method ?? 'POST').toUpperCase(),
    '/',
    input.query ?? '',
    canonicalHeaders,
    signedHeaders,
    sha256Hex(input.body),
  ].join('\n');
  const scope = `${date}/${input.service}/tc3_request`;
  const stringToSign = [TC3, String(input.timestamp), scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(`TC3${input.secretKey}`, date), input.service), 'tc3_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  return {
    authorization: `${TC3} Credential=${input.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    canonicalRequest,
    stringToSign,
    signature,
  };
}

/**
 * Codes worth another try: Tencent's own trouble (InternalError.*, an upstream timeout), API rate
 * limits, and the per-number sending-frequency limits (30 s, 1 h, the console's policy). Daily
 * caps, auth, a bad number, template or signature, an empty balance: permanent.
 */
const RETRYABLE_CODES = [
  /^InternalError/,
  /^RequestLimitExceeded/,
  /^FailedOperation\.AccessUpstreamTimeout$/,
  /^LimitExceeded\.(PhoneNumberThirtySecondLimit|PhoneNumberOneHourLimit|DeliveryFrequencyLimit)$/,
];

export function tencentErrorKind(status: number, code: string | null): 'retryable' | 'permanent' {
  if (code !== null && RETRYABLE_CODES.some((re) => re.test(code))) return 'retryable';
  if (status >= 500 || status === 429 || status === 408) return 'retryable';
  return 'permanent';
}

export interface TencentCall {
  http: HttpClient;
  endpoint: string;
  service: string;
  action: string;
  version: string;
  region: string;
  payload: unknown;
  secretId: string;
  secretKey: string;
  timeoutMs: number;
  /** Wall clock (ms) for X-TC-Timestamp. */
  now: number;
}

/**
 * One API call. Resolves with `Response` of the answer when it holds no Error; otherwise rejects
 * with a ProviderError carrying Tencent's code (Response.Error.Code).
 */
export async function callTencentApi(call: TencentCall): Promise<Record<string, unknown>> {
  const url = new URL(call.endpoint);
  const body = JSON.stringify(call.payload);
  const timestamp = Math.floor(call.now / 1000);
  const signed = signTc3({
    secretId: call.secretId,
    secretKey: call.secretKey,
    service: call.service,
    timestamp,
    headers: { 'content-type': JSON_CONTENT_TYPE, host: url.host, 'x-tc-action': call.action },
    body,
  });
  const secrets = [call.secretKey, call.secretId];
  const answer = await callProvider(call.http, {
    provider: 'Tencent Cloud',
    request: {
      method: 'POST',
      url: `${url.origin}/`,
      headers: {
        authorization: signed.authorization,
        'content-type': JSON_CONTENT_TYPE,
        'x-tc-action': call.action,
        'x-tc-timestamp': String(timestamp),
        'x-tc-version': call.version,
        'x-tc-region': call.region,
      },
      body,
      timeoutMs: call.timeoutMs,
    },
    secrets,
  });
  const json = parseJson(answer.text) as { Response?: Record<string, unknown> } | undefined;
  const response = json !== null && typeof json === 'object' ? json.Response : undefined;
  const error = response?.Error as { Code?: unknown; Message?: unknown } | undefined;
  if (answer.status === 200 && response !== undefined && error === undefined) return response;
  const code = typeof error?.Code === 'string' ? error.Code : null;
  const words = typeof error?.Message === 'string' ? scrub(error.Message, secrets) : `HTTP ${answer.status}`;
  throw new ProviderError(
    tencentErrorKind(answer.status, code),
    code,
    `Tencent Cloud ${call.action} refused${code === null ? '' : ` (${code})`}: ${words}`,
  );
}

/** What Tencent's SMS and voice callbacks expect back. */
export const TENCENT_CALLBACK_ANSWER: CallbackAnswer = {
  status: 200,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify({ result: 0, errmsg: 'OK' }),
};

/** A channel's way to call one API: its key, endpoint, region and timeout bound. */
export function tencentCaller(
  config: { endpoint: string; secretId: string; secretKey: string; region: string; timeoutMs: number },
  ctx: { http: HttpClient; clock: () => number },
  service: string,
  version: string,
) {
  return (action: string, payload: unknown) =>
    callTencentApi({
      http: ctx.http,
      endpoint: config.endpoint,
      service,
      action,
      version,
      region: config.region,
      payload,
      secretId: config.secretId,
      secretKey: config.secretKey,
      timeoutMs: config.timeoutMs,
      now: ctx.clock(),
    });
}
