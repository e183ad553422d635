import pino, { type Logger } from 'pino';
import { z } from 'zod';
import type { Timers } from '../../timers.js';
import {
  CallbackRefused,
  type CallbackRequest,
  type ProviderCallback,
  ProviderError,
  type ProviderMessage,
} from '../provider.js';
import { callbackJson, checkCallbackToken } from './callback-token.js';
import { createRetrier } from './provider-http.js';

/** What every adapter factory takes besides its config; all optional, so production passes few. */
export interface ProviderDeps {
  /** The channel's name (GASWATCH_CONFIG `channels.<name>`); the type when not given. */
  name?: string;
  /** Wall clock in ms: signature dates, and the time of a callback that carries none. */
  clock?: () => number;
  logger?: Logger;
  fetch?: typeof fetch;
  /** Timers for the backoff between attempts. */
  timers?: Timers;
}

const silentLogger = (): Logger => pino({ level: 'silent' });

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

/** What every adapter builds from its deps: name, clock, fetch, a child logger and the retry loop. */
export function adapterContext(
  type: string,
  config: { retries: number; backoffMs: number },
  deps: ProviderDeps,
) {
  const name = deps.name ?? type;
  const log = (deps.logger ?? silentLogger()).child({ channel: name, type });
  return {
    name,
    clock: deps.clock ?? Date.now,
    fetch: deps.fetch ?? fetch,
    log,
    retrier: createRetrier({
      retries: config.retries,
      backoffMs: config.backoffMs,
      timers: deps.timers,
      log,
    }),
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
