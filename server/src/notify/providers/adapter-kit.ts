import { timingSafeEqual } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import type { Timers } from '../../timers.js';
import { createHttpClient, type HttpAnswer, type HttpClient } from '../http-client.js';
import {
  CallbackRefused,
  type CallbackRequest,
  type ProviderCallback,
  ProviderError,
  type ProviderMessage,
} from '../provider.js';
import { callbackJson, checkCallbackToken } from './callback-token.js';
import { createRetrier, parseJson, statusError } from './provider-http.js';

/**
 * What every adapter factory takes besides its config; all optional, so production passes few.
 * Adapters do no I/O until they are asked to send or to read a callback.
 */
export interface ProviderDeps {
  /** The channel's name (GASWATCH_CONFIG `channels.<name>`); the type when not given. */
  name?: string;
  /** Wall clock in ms: signature dates, and the time of a callback that carries none. */
  clock?: () => number;
  logger?: Logger;
  /** The HTTP client (tests); the adapter's own, closed by its stop(), when absent. */
  http?: HttpClient;
  /** Connections the adapter's own client keeps to its provider at most (notify.maxInFlight). */
  maxSockets?: number;
  /** Timers for the backoff between attempts. */
  timers?: Timers;
}

export const silentLogger: Logger = pino({ level: 'silent' });

/** The HTTP client an adapter sends with, and how to let go of its connections at stop(). */
export function adapterHttp(deps: ProviderDeps): { http: HttpClient; close(): void } {
  if (deps.http !== undefined) return { http: deps.http, close: () => {} };
  const own = createHttpClient(deps.maxSockets === undefined ? {} : { maxSockets: deps.maxSockets });
  return { http: own, close: own.close };
}

/** Config fields every one of these adapters has: callback token, timeout and retries. */
export const commonShape = {
  callbackToken: z
    .string()
    .min(24)
    .max(256)
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional()
    .describe(
      'Random token the callback URL carries (?token=…); callbacks without it are refused. Unset: all are',
    ),
  paramMaxChars: z
    .number()
    .int()
    .min(4)
    .max(500)
    .default(35)
    .describe(
      "Longest value of a template variable: each message parameter is cut to it, ending in …. Set it to what your templates' variable attributes allow (Alibaba's 其他: 35; Tencent's older accounts: 12)",
    ),
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000).describe('Per-attempt HTTP timeout'),
  retries: z.number().int().min(0).max(5).default(2).describe('Extra attempts after a retryable failure'),
  backoffMs: z
    .number()
    .int()
    .min(10)
    .max(60_000)
    .default(1_000)
    .describe('Delay before the first retry; doubles on each further retry'),
};

/** Names of message parameters, each a template variable; the order matters where the provider numbers them. */
export const paramNames = (words: string) =>
  z
    .array(z.string().regex(/^[A-Za-z0-9_]{1,64}$/))
    .max(20)
    .describe(words);

/** The template for the message's language; English falls back to the Chinese one. */
export function templateFor<T>(
  templates: { 'zh-CN': T; en?: T | undefined },
  lang: ProviderMessage['lang'],
): T {
  return (lang === 'en' ? templates.en : undefined) ?? templates['zh-CN'];
}

/**
 * The message's template parameters, by the configured names in that order. A name the message
 * does not give is a permanent error: the provider would refuse the template, or send it with a
 * hole where the gas reading should be.
 */
export function paramsByName(message: ProviderMessage, names: readonly string[]): [string, string][] {
  return names.map((name) => {
    const value = message.params[name];
    if (value === undefined) {
      throw new ProviderError('permanent', null, `message ${message.id} lacks template parameter "${name}"`);
    }
    return [name, value];
  });
}

/** Reads a callback body with `read`; whatever `read` cannot make sense of is refused as unreadable. */
function readCallback(
  request: CallbackRequest,
  now: number,
  read: (json: unknown, now: number) => ProviderCallback[],
): ProviderCallback[] {
  const json = callbackJson(request);
  try {
    return read(json, now);
  } catch (err) {
    throw new CallbackRefused('unreadable', (err as Error).message);
  }
}

/**
 * What every adapter with a retry loop builds from its deps: name, clock, HTTP client, a child
 * logger and the retry loop. Its stop() calls `stop()` here.
 */
export function adapterContext(
  type: string,
  config: { retries: number; backoffMs: number },
  deps: ProviderDeps,
) {
  const name = deps.name ?? type;
  const log = (deps.logger ?? silentLogger).child({ channel: name, type });
  const { http, close } = adapterHttp(deps);
  const retrier = createRetrier({
    retries: config.retries,
    backoffMs: config.backoffMs,
    timers: deps.timers,
    log,
  });
  return {
    name,
    clock: deps.clock ?? Date.now,
    http,
    log,
    retrier,
    /** Ends pending retries and the idle connections. */
    stop() {
      retrier.stop();
      close();
    },
  };
}

/** A `callback` that checks the URL token, then reads the JSON body with `read`. */
export function tokenCallback(
  token: string | undefined,
  clock: () => number,
  read: (json: unknown, now: number) => ProviderCallback[],
): (request: CallbackRequest) => Promise<ProviderCallback[]> {
  return async (request) => {
    checkCallbackToken(request, token);
    return readCallback(request, clock(), read);
  };
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
