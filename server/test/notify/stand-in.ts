import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

/** One request the stand-in received, as it came over the wire. */
export interface Seen {
  method: string;
  /** Path and query exactly as sent. */
  url: string;
  path: string;
  /** The query string exactly as sent, without the "?". */
  rawQuery: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface StandIn {
  /** http://127.0.0.1:<port> */
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/**
 * A local HTTP server standing in for a provider on 127.0.0.1 and a free port: it records every
 * request and answers what `respond` says ('hang': never, until closed).
 */
export async function startStandIn(respond: (req: Seen) => Answer | Promise<Answer>): Promise<StandIn> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const rawQuery = q < 0 ? '' : url.slice(q + 1);
      const s: Seen = {
        method: req.method ?? '',
        url,
        path: q < 0 ? url : url.slice(0, q),
        rawQuery,
        query: new URLSearchParams(rawQuery),
        headers: req.headers,
        raw: Buffer.concat(chunks),
      };
      seen.push(s);
      void Promise.resolve(respond(s)).then((a) => {
        if (a === 'hang') return;
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
        res.end(a.body ?? '');
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A JSON answer. */
export const json = (status: number, body: unknown): Answer => ({ status, body: JSON.stringify(body) });

/** A pino logger at debug level whose every line is kept, to check what reaches the logs. */
export function captureLogs(): { logger: Logger; text(): string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), text: () => lines.join('') };
}

/** The rejection of `p` (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}
