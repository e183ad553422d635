import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCa } from '@gaswatch/shared/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, HttpFailure, type OwnedHttpClient } from '../../src/notify/http-client.js';

/** A local server that counts connections and lets each test answer as it likes. */
async function serve(
  server: Server & { closeAllConnections?: () => void },
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ url: (scheme: string) => string; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('the notifications HTTP client', () => {
  let client: OwnedHttpClient | undefined;
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  afterEach(async () => {
    client?.close();
    await server?.close();
    client = undefined;
    server = undefined;
  });

  it('sends the body with its length in UTF-8 bytes, keeps one connection for requests in turn', async () => {
    const seen: string[] = [];
    server = await serve(createHttpServer(), (req, res, body) => {
      seen.push(`${req.method} ${req.url} ${req.headers['content-length']} ${body}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    client = createHttpClient();
    for (const n of [1, 2, 3]) {
      const answer = await client({
        method: 'POST',
        url: `${server.url('http')}/send?n=${n}`,
        headers: { 'content-type': 'application/json' },
        body: '{"text":"燃气报警"}',
        timeoutMs: 5_000,
      });
      expect(answer).toMatchObject({ status: 200, text: '{"ok":true}', broken: false });
    }
    expect(seen).toEqual([1, 2, 3].map((n) => `POST /send?n=${n} 23 {"text":"燃气报警"}`));
    expect(server.connections()).toBe(1);
  });

  it('opens at most maxSockets connections; the other requests wait their turn', async () => {
    const held: ServerResponse[] = [];
    server = await serve(createHttpServer(), (_req, res) => {
      held.push(res);
      // Answered together once four are in: more than two at once would need a third connection.
      if (held.length % 2 === 0) for (const r of held.splice(0)) r.writeHead(204).end();
    });
    client = createHttpClient({ maxSockets: 2 });
    const url = server.url('http');
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => client!({ method: 'POST', url, headers: {}, timeoutMs: 10_000 })),
    );
    expect(answers.map((a) => a.status)).toEqual([204, 204, 204, 204, 204, 204]);
    expect(server.connections()).toBe(2);
  });

  it('tries once more on a new connection when a kept-alive one turns out closed', async () => {
    let requests = 0;
    server = await serve(createHttpServer(), (req, res) => {
      requests += 1;
      // The second request on the first connection: the server had closed it while it sat idle.
      if (requests === 2) return void req.socket.destroy();
      res.writeHead(200).end(`answer ${requests}`);
    });
    client = createHttpClient();
    const url = server.url('http');
    expect((await client({ method: 'POST', url, headers: {}, timeoutMs: 5_000 })).text).toBe('answer 1');
    expect((await client({ method: 'POST', url, headers: {}, timeoutMs: 5_000 })).text).toBe('answer 3');
    expect(server.connections()).toBe(2);
  });

  it('does not try again when a new connection breaks: the caller decides', async () => {
    let requests = 0;
    server = await serve(createHttpServer(), (req) => {
      requests += 1;
      req.socket.destroy();
    });
    client = createHttpClient();
    const url = `${server.url('http')}/hook?key=s3cret-key`;
    const err = await client({ method: 'POST', url, headers: {}, timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpFailure);
    expect(err).toMatchObject({
      reason: 'network',
      code: 'ECONNRESET',
      message: 'request failed (ECONNRESET)',
    });
    expect(requests).toBe(1);
  });

  it('returns a redirect as its status, never following it', async () => {
    const seen: string[] = [];
    server = await serve(createHttpServer(), (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(302, { location: '/login' }).end();
    });
    client = createHttpClient();
    const answer = await client({
      method: 'POST',
      url: `${server.url('http')}/api`,
      headers: {},
      timeoutMs: 5_000,
    });
    expect(answer).toMatchObject({ status: 302, headers: { location: '/login' } });
    expect(seen).toEqual(['POST /api']);
  });

  it('says when the answer broke off after its status line', async () => {
    server = await serve(createHttpServer(), (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"Code":');
      setTimeout(() => res.destroy(), 20);
    });
    client = createHttpClient();
    const answer = await client({ method: 'POST', url: server.url('http'), headers: {}, timeoutMs: 5_000 });
    expect(answer).toMatchObject({ status: 200, text: '{"Code":', broken: true });
  });
});

describe('the notifications HTTP client over HTTPS', () => {
  let dir: string;
  let ca: string;
  let cert: { cert: string; key: string };
  let client: OwnedHttpClient | undefined;
  let server: Awaited<ReturnType<typeof serve>> | undefined;

  beforeAll(() => {
    // A private CA and a certificate for 127.0.0.1, made for this test with openssl.
    dir = mkdtempSync(join(tmpdir(), 'gaswatch-http-'));
    const testCa = createTestCa(dir, 'provider');
    const issued = testCa.issue('provider', 'server');
    ca = readFileSync(testCa.cert, 'utf8');
    cert = { cert: readFileSync(issued.cert, 'utf8'), key: readFileSync(issued.key, 'utf8') };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    client?.close();
    await server?.close();
    client = undefined;
    server = undefined;
  });

  it('talks TLS to a server whose certificate it trusts, over one connection', async () => {
    server = await serve(createHttpsServer(cert), (req, res, body) => {
      res.writeHead(200).end(`${req.headers.host} ${body}`);
    });
    client = createHttpClient({ ca });
    const url = `${server.url('https')}/sms`;
    for (const text of ['一', '二']) {
      const answer = await client({ method: 'POST', url, headers: {}, body: text, timeoutMs: 5_000 });
      expect(answer).toMatchObject({ status: 200, text: `${new URL(url).host} ${text}` });
    }
    expect(server.connections()).toBe(1);
  });

  it("refuses a certificate that Node's CAs do not vouch for, in words without the URL", async () => {
    let requests = 0;
    server = await serve(createHttpsServer(cert), (_req, res) => {
      requests += 1;
      res.writeHead(200).end('{}');
    });
    client = createHttpClient();
    const url = `${server.url('https')}/hook?access_token=s3cret-token`;
    const err = await client({ method: 'POST', url, headers: {}, timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpFailure);
    expect(err).toMatchObject({ reason: 'network', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect((err as Error).message).not.toContain('s3cret');
    expect((err as Error).message).not.toContain('127.0.0.1');
    expect(requests).toBe(0);
  });
});
