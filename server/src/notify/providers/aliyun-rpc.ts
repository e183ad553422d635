import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { HttpClient } from '../http-client.js';
import { type CallbackAnswer, ProviderError } from '../provider.js';
import { callProvider, parseJson, scrub } from './provider-http.js';

/**
 * Alibaba Cloud's OpenAPI (SMS `dysmsapi`, voice `dyvmsapi`: RPC-style APIs) called over plain
 * HTTPS with the V3 request signature, ACS3-HMAC-SHA256:
 * https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature
 *
 * Why V3 and not the older RPC signature (HMAC-SHA1, SignatureVersion 1.0, "V2" in Alibaba's
 * words): Alibaba documents V3 as the current mechanism and marks V2 as deprecated ("this
 * signature version is deprecated; use V3", the RPC V2 page), its SDKs sign with V3, and V3 uses
 * SHA-256 and covers the request's headers and a hash of its body, not only the query.
 */

export const ACS3 = 'ACS3-HMAC-SHA256';

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

/**
 * Percent-encoding as Alibaba specifies it (RFC 3986): everything but A–Z a–z 0–9 - _ . ~ is
 * encoded from its UTF-8 bytes, a space as %20 (never +), `*` as %2A.
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The query in canonical form: encoded names and values, sorted by encoded name, joined by &. */
export function canonicalQuery(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export interface Acs3Input {
  method: string;
  /** Host as sent in the Host header (with a port when it is not the scheme's default). */
  host: string;
  path: string;
  query: Record<string, string>;
  /** x-acs-* headers and content-type; host and x-acs-content-sha256 are added here. */
  headers: Record<string, string>;
  body: string;
  accessKeyId: string;
  accessKeySecret: string;
}

export interface Acs3Signed {
  /** Every header to send, Authorization included. */
  headers: Record<string, string>;
  /** The query as signed and as it is to be sent (canonical form). */
  query: string;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

/**
 * Signs a request: CanonicalRequest = method, URI, canonical query, canonical headers (each
 * `name:value\n`), signed header names, hex SHA-256 of the body, joined by newlines;
 * StringToSign = `ACS3-HMAC-SHA256\n` + hex SHA-256 of it; Signature = hex HMAC-SHA256 under the
 * AccessKey secret. Every x-acs-* header, host and content-type are signed.
 */
export function signAcs3(input: Acs3Input): Acs3Signed {
  const hashedPayload = sha256Hex(input.body);
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers)) all[k.toLowerCase()] = v;
  all.host = input.host;
  all['x-acs-content-sha256'] = hashedPayload;
  const names = Object.keys(all)
    .filter((k) => k === 'host' || k === 'content-type' || k.startsWith('x-acs-'))
    .sort();
  const canonicalHeaders = names.map((k) => `${k}:${(all[k] ?? '').trim()}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalURI = input.path
    .split('/')
    .map((seg) => percentEncode(decodeURIComponent(seg)))
    .join('/');
  const query = canonicalQuery(input.query);
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalURI === '' ? '/' : canonicalURI,
    query,
    canonicalHeaders,
    signedHeaders,
    hashedPayload,
  ].join('\n');
  const stringToSign = `${ACS3}\n${sha256Hex(canonicalRequest)}`;
  const signature = createHmac('sha256', input.accessKeySecret).update(stringToSign, 'utf8').digest('hex');
  all.authorization = `${ACS3} Credential=${input.accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`;
  return { headers: all, query, canonicalRequest, stringToSign, signature };
}

/** x-acs-date: UTC, ISO 8601 to the second. */
export const acsDate = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Codes worth another try: Alibaba's own trouble (isp.SYSTEM_ERROR, InternalError,
 * ServiceUnavailable), throttling of the API, and isv.BUSINESS_LIMIT_CONTROL, the per-number
 * flow control (for SMS notifications a few a minute/hour/day to one number; a later attempt may
 * pass). Everything else Alibaba answers is about the request itself, the account or its balance
 * (a bad number, template or signature, a wrong key, no money): trying again cannot help.
 */
const RETRYABLE_CODES = [
  /^isp\.SYSTEM_ERROR$/,
  /^isv\.BUSINESS_LIMIT_CONTROL$/,
  /^Throttling/,
  /^ServiceUnavailable/,
  /^InternalError/,
];

export function aliyunErrorKind(status: number, code: string | null): 'retryable' | 'permanent' {
  if (code !== null && RETRYABLE_CODES.some((re) => re.test(code))) return 'retryable';
  if (status >= 500 || status === 429 || status === 408) return 'retryable';
  return 'permanent';
}

export interface AliyunCall {
  http: HttpClient;
  endpoint: URL;
  action: string;
  version: string;
  params: Record<string, string>;
  accessKeyId: string;
  accessKeySecret: string;
  timeoutMs: number;
  /** Wall clock (ms) for x-acs-date. */
  now: number;
  /** x-acs-signature-nonce (32 hex digits); random per request unless a test gives one. */
  nonce?: string;
}

/**
 * One RPC call: POST to the endpoint with the parameters in the query (as Alibaba's metadata for
 * these APIs places them, and as its SDKs send them) and an empty body. Resolves with the JSON
 * answer when its Code is "OK"; otherwise rejects with a ProviderError carrying Alibaba's code.
 */
export async function callAliyunRpc(call: AliyunCall): Promise<Record<string, unknown>> {
  const url = call.endpoint;
  const path = url.pathname === '' ? '/' : url.pathname;
  const signed = signAcs3({
    method: 'POST',
    host: url.host,
    path,
    query: call.params,
    headers: {
      'x-acs-action': call.action,
      'x-acs-version': call.version,
      'x-acs-date': acsDate(call.now),
      // randomUUID draws from a cached pool: randomBytes asked the system on every call.
      'x-acs-signature-nonce': call.nonce ?? randomUUID().replaceAll('-', ''),
    },
    body: '',
    accessKeyId: call.accessKeyId,
    accessKeySecret: call.accessKeySecret,
  });
  // The client writes Host itself from the URL (the same url.host that was signed).
  const { host: _host, ...headers } = signed.headers;
  const secrets = [call.accessKeySecret, call.accessKeyId];
  const answer = await callProvider(call.http, {
    provider: 'Alibaba Cloud',
    request: {
      method: 'POST',
      url: `${url.origin}${path}?${signed.query}`,
      headers,
      timeoutMs: call.timeoutMs,
    },
    secrets,
  });
  const json = parseJson(answer.text);
  const body = json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : null;
  const code = typeof body?.Code === 'string' ? body.Code : null;
  if (answer.status === 200 && code === 'OK' && body !== null) return body;
  const words = typeof body?.Message === 'string' ? scrub(body.Message, secrets) : `HTTP ${answer.status}`;
  throw new ProviderError(
    aliyunErrorKind(answer.status, code),
    code,
    `Alibaba Cloud ${call.action} refused${code === null ? '' : ` (${code})`}: ${words}`,
  );
}

/**
 * What Alibaba's HTTP batch push expects back: HTTP 200 and a JSON object whose `code` is a
 * number (0), or it pushes again after 1, 5 and 10 minutes.
 */
export const ALIYUN_PUSH_ANSWER: CallbackAnswer = {
  status: 200,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify({ code: 0, msg: '接收成功' }),
};

/** A channel's way to call one API: its key, endpoint and timeout bound, the clock read per call. */
export function aliyunCaller(
  config: { endpoint: string; accessKeyId: string; accessKeySecret: string; timeoutMs: number },
  ctx: { http: HttpClient; clock: () => number },
  version: string,
) {
  const endpoint = new URL(config.endpoint);
  return (action: string, params: Record<string, string>) =>
    callAliyunRpc({
      http: ctx.http,
      endpoint,
      action,
      version,
      params,
      accessKeyId: config.accessKeyId,
      accessKeySecret: config.accessKeySecret,
      timeoutMs: config.timeoutMs,
      now: ctx.clock(),
    });
}
