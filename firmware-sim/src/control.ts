/**
 * The simulator's control port: HTTP on loopback, so a test or a person at a demo acts on the
 * physical scene while it runs, as a worker would: lower the detector to the bottom of the sewer,
 * open the hatch, let an H2S pocket rise. Each request is one scenario event, applied at once and
 * checked as a scripted one is.
 *
 *   POST /events  {"device":"entry-4gas","zone":"sewer-bottom"}  → 200 {"atS":…,"event":{…}}
 *   GET  /devices                                               → 200 {"atS":…,"devices":[…]} (values, status, relays)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ControlEventError, type ScenarioRunner } from './scenario/runner.js';

/** A control event is a few hundred bytes; anything much larger is no event. */
const MAX_BODY_BYTES = 64 * 1024;

export interface ControlServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  stop(): Promise<void>;
}

export async function startControlServer(opts: {
  runner: ScenarioRunner;
  host?: string;
  port?: number;
  logger?: Logger;
}): Promise<ControlServer> {
  const { runner, logger: log } = opts;
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(`${JSON.stringify(body)}\n`);
  };
  const refuse = (res: ServerResponse, status: number, error: string, message: string, extra = {}) =>
    send(res, status, { error, message, ...extra });

  const readBody = (req: IncomingMessage): Promise<Buffer | null> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          resolve(null);
          req.destroy();
        } else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const atS = () => Math.round(runner.now()) / 1000;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://control').pathname;
    if (path === '/devices') {
      if (req.method !== 'GET') return refuse(res, 405, 'method_not_allowed', 'GET /devices');
      const devices = [...runner.devices.values()].map((d) => d.snapshot());
      return send(res, 200, { atS: atS(), devices });
    }
    if (path !== '/events')
      return refuse(res, 404, 'not_found', 'the control port has POST /events and GET /devices');
    if (req.method !== 'POST')
      return refuse(res, 405, 'method_not_allowed', 'POST /events with a JSON event');
    const body = await readBody(req);
    if (body === null) return refuse(res, 413, 'too_large', `an event is at most ${MAX_BODY_BYTES} bytes`);
    let event: unknown;
    try {
      event = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return refuse(res, 400, 'bad_json', `the body is not JSON: ${(err as Error).message}`);
    }
    try {
      const applied = runner.apply(event);
      log?.info({ atS: atS(), event: applied }, 'control event');
      return send(res, 200, { atS: atS(), event: applied });
    } catch (err) {
      if (err instanceof ControlEventError)
        return refuse(res, 400, 'bad_event', err.message, { issues: err.issues });
      throw err;
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log?.error({ err }, 'control request failed');
      if (!res.headersSent) refuse(res, 500, 'internal', (err as Error).message);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  log?.info({ url }, 'control listening');
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
