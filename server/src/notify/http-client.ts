import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * The one HTTP client of notifications: every provider adapter and the signed webhook send
 * through it. It is node:http(s) `request` on a keep-alive agent rather than the global fetch:
 * in a 1 000-alarm storm fetch (undici) cost about 0.75 ms of CPU per request in Request and
 * Response objects, header lists, streams and an AbortSignal with its timer (BENCHMARKS.md,
 * Notifications), which is more than half of what the server spends on an alarm and its SMS.
 *
 * What it does, and what it leaves to the caller:
 * - one deadline per request, from the connection to the answer's last byte;
 * - redirects are never followed (no HTTP client here follows them: the status comes back);
 * - at most MAX_ANSWER_BYTES of an answer is read, then the connection is dropped;
 * - a request that never got an answer rejects with an HttpFailure whose words hold neither the
 *   URL nor anything else from the request (a key may ride in the URL); every status resolves.
 */

/** At most this much of an answer is read; providers answer a few hundred bytes. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * How long a kept-alive connection may sit unused before it is closed. Below the 5 s many
 * servers keep an idle connection (Node's default), so the server rarely closes one just as a
 * request is written on it; a server's `Keep-Alive: timeout=` hint shortens it further.
 */
export const IDLE_SOCKET_MS = 4_000;

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string | URL;
  /** Names in lower case; content-length is added for a body. */
  headers: Record<string, string>;
  body?: string;
  /** Deadline for the whole exchange, connection to the answer's last byte. */
  timeoutMs: number;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The answer's body as UTF-8 text, cut at MAX_ANSWER_BYTES. */
  text: string;
  /**
   * The body did not arrive whole: the connection broke or the deadline passed after the status
   * line. The status still tells what the server made of the request.
   */
  broken: boolean;
}

/** A request that got no answer: refused, reset, unresolvable, or no status before the deadline. */
export class HttpFailure extends Error {
  constructor(
    readonly reason: 'timeout' | 'network',
    /** The system's error code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED…), when there is one. */
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

/** Sends one request; the injection point for tests that must not leave the machine. */
export type HttpClient = (request: HttpRequest) => Promise<HttpAnswer>;

export interface HttpClientOptions {
  /** Connections at once to one origin (host and port); more requests wait for one to free up. */
  maxSockets?: number;
  /** Certificates to trust instead of Node's bundled CAs (tests with a self-signed server). */
  ca?: string | Buffer;
}

/** An HttpClient that owns its connections; `close()` ends the idle ones and keeps no more. */
export type OwnedHttpClient = HttpClient & { close(): void };

/** Codes of a kept-alive connection the server had closed just as the request went out. */
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE']);

/** Sent unless the caller names another: some gateways refuse a request without one. */
const USER_AGENT = 'gaswatch';

export function createHttpClient(opts: HttpClientOptions = {}): OwnedHttpClient {
  const maxSockets = opts.maxSockets ?? 256;
  const agentOptions = {
    keepAlive: true,
    maxSockets,
    maxFreeSockets: maxSockets,
    // The idle timeout of pooled connections (see IDLE_SOCKET_MS); requests have their deadline.
    timeout: IDLE_SOCKET_MS,
    scheduling: 'lifo' as const,
  };
  let http: HttpAgent | undefined;
  let https: HttpsAgent | undefined;
  let closed = false;

  const agentFor = (protocol: string): HttpAgent => {
    if (protocol === 'https:') {
      https ??= new HttpsAgent({ ...agentOptions, ...(opts.ca === undefined ? {} : { ca: opts.ca }) });
      if (closed) https.maxFreeSockets = 0;
      return https;
    }
    http ??= new HttpAgent(agentOptions);
    if (closed) http.maxFreeSockets = 0;
    return http;
  };

  function once(req: HttpRequest, url: URL, deadline: number): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...req.headers };
      if (body !== undefined) headers['content-length'] = String(body.byteLength);
      let answer: IncomingMessage | undefined;
      let settled = false;
      const chunks: Buffer[] = [];
      let read = 0;

      const finish = (broken: boolean) => {
        if (settled || answer === undefined) return;
        settled = true;
        clearTimeout(timer);
        const text = Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
        resolve({ status: answer.statusCode ?? 0, headers: answer.headers, text, broken });
      };

      const out = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        {
          protocol: url.protocol,
          // URL keeps an IPv6 host in brackets; request wants it bare (and writes Host with them).
          hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
          port: url.port === '' ? undefined : url.port,
          path: `${url.pathname}${url.search}`,
          method: req.method,
          headers,
          agent: agentFor(url.protocol),
        },
        (res) => {
          answer = res;
          res.on('data', (chunk: Buffer) => {
            if (settled) return;
            chunks.push(chunk);
            read += chunk.byteLength;
            if (read > MAX_ANSWER_BYTES) {
              // Enough: a server gone wrong may stream forever. The connection goes with it.
              finish(false);
              res.destroy();
            }
          });
          res.on('end', () => finish(false));
          // The connection broke, or the deadline ended it, after the status line.
          res.on('error', () => finish(true));
          res.on('close', () => finish(!res.complete));
        },
      );

      // One timer for the whole exchange (no AbortSignal: that was part of fetch's cost).
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        out.destroy(new Error('deadline passed'));
      }, deadline - Date.now());

      out.on('error', (err: NodeJS.ErrnoException) => {
        if (answer !== undefined) return finish(true);
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (timedOut) {
          reject(new HttpFailure('timeout', undefined, `no answer within ${req.timeoutMs} ms`));
          return;
        }
        const failure = new HttpFailure(
          'network',
          err.code,
          err.code === undefined ? 'request failed' : `request failed (${err.code})`,
        );
        // See STALE_SOCKET: the caller tries once more on a new connection.
        reject(
          out.reusedSocket && STALE_SOCKET.has(err.code ?? '')
            ? Object.assign(failure, { stale: true })
            : failure,
        );
      });
      out.end(body);
    });
  }

  const client: HttpClient = async (req) => {
    const url = typeof req.url === 'string' ? new URL(req.url) : req.url;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new HttpFailure('network', undefined, `request failed (unsupported scheme ${url.protocol})`);
    }
    const deadline = Date.now() + req.timeoutMs;
    try {
      return await once(req, url, deadline);
    } catch (err) {
      // A kept-alive connection the server closed while it sat idle, found out on writing to
      // it: the server never read the request (Node's documentation advises this retry), so
      // one more try on a new connection, not a retryable failure with a backoff of seconds.
      if ((err as { stale?: boolean }).stale !== true || Date.now() >= deadline) throw err;
      return once(req, url, deadline);
    }
  };

  return Object.assign(client, {
    close() {
      closed = true;
      for (const agent of [http, https]) {
        if (agent === undefined) continue;
        agent.maxFreeSockets = 0;
        for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
      }
    },
  });
}
