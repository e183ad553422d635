/**
 * A local HTTP server standing in for a provider's API (127.0.0.1, a free port): it records every
 * request as it arrived (method, path and raw query, lower-case headers, body) and answers what
 * the test says. Tests check the recorded requests against the provider's documentation.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { CallbackRequest } from '../../src/notify/provider.js';

export interface Recorded {
  method: string;
  path: string;
  /** The raw query string, without `?`. */
  query: string;
  headers: Record<string, string>;
  body: string;
}

export interface StubAnswer {
  status?: number;
  /** An object is sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** `hang`: read the request and never answer (a provider that stalls). */
export type StubHandler = (req: Recorded, index: number) => StubAnswer | 'hang';

export interface Stub {
  url: string;
  requests: Recorded[];
  /** Replaces the handler for the next requests. */
  answer(handler: StubHandler): void;
  close(): Promise<void>;
}

async function record(req: IncomingMessage): Promise<Recorded> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const [path = '', query = ''] = (req.url ?? '').split(/\?(.*)/s);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : (v ?? '');
  return { method: req.method ?? '', path, query, headers, body: Buffer.concat(chunks).toString('utf8') };
}

export async function startStub(handler: StubHandler): Promise<Stub> {
  let current = handler;
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    void record(req).then((r) => {
      const index = requests.push(r) - 1;
      const a = current(r, index);
      if (a === 'hang') return;
      const body = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      res.writeHead(a.status ?? 200, {
        'content-type': typeof a.body === 'string' ? 'text/plain' : 'application/json;charset=utf-8',
        ...a.headers,
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    answer(h) {
      current = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A stub for the tests of one describe block: started before them, closed after, its record
 * cleared and its answer reset to `ok` after each test.
 */
export function useStub(ok: StubAnswer): Stub {
  let s: Stub | undefined;
  const current = () => {
    if (s === undefined) throw new Error('the stub starts in beforeAll');
    return s;
  };
  beforeAll(async () => {
    s = await startStub(() => ok);
  });
  afterAll(async () => {
    await s?.close();
  });
  afterEach(() => {
    current().requests.length = 0;
    current().answer(() => ok);
  });
  return {
    get url() {
      return current().url;
    },
    get requests() {
      return current().requests;
    },
    answer: (h) => current().answer(h),
    close: () => current().close(),
  };
}

/** A port nothing listens on: a server is opened and closed on it. */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A callback as the route will hand it over. */
export function callbackRequest(url: string, body: unknown, method = 'POST'): CallbackRequest {
  return {
    method,
    url,
    headers: { 'content-type': 'application/json' },
    rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8'),
  };
}

/** The query as the provider would read it: names to decoded values. */
export function queryParams(query: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const [k = '', v = ''] = pair.split('=');
    out[decodeURIComponent(k)] = decodeURIComponent(v);
  }
  return out;
}
