import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Role } from '@gaswatch/shared';
import { encodePayload, type Reading, topics } from '@gaswatch/shared';
import { type Proc, startTsNode, waitFor } from '@gaswatch/shared/testing';
import type { FastifyInstance } from 'fastify';
import mqtt, { type MqttClient } from 'mqtt';
import pino, { type Logger } from 'pino';
import WebSocket from 'ws';
import { type BuildServerOptions, buildServer } from '../src/app.js';
import { hashPassword } from '../src/auth/passwords.js';
import { loadConfig } from '../src/config.js';
import { createDatabase, type Db, migrateToLatest } from '../src/db/database.js';
import { GatewayExistsError } from '../src/db/gateways.js';
import { insertToken } from '../src/db/tokens.js';
import { insertUser } from '../src/db/users.js';
import { type Actor, createGatewayService, type GatewayService } from '../src/gateways/service.js';

export const SERVER_MAIN = new URL('../src/main.ts', import.meta.url).pathname;

export const quietLogger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A pino logger whose lines a test reads back, parsed, as they are written. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino(sink), lines };
}

export function tempDir(prefix = 'gaswatch-server-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestServer {
  app: FastifyInstance;
  url: string;
  mqttUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * API tokens of the servers the tests started, by origin: getJson, apiFetch, metric and openLive
 * send the server's admin token, so a test reads and acts as an admin unless it says otherwise.
 * Tests of who may do what make their own callers (mintToken, a login).
 */
const bearers = new Map<string, string>();
const originOf = (url: string): string => new URL(url.replace(/^ws/, 'http')).origin;

/** Authorization header of the test admin of the server at `url`; none for another server. */
export function authHeaders(url: string): Record<string, string> {
  const secret = bearers.get(originOf(url));
  return secret === undefined ? {} : { authorization: `Bearer ${secret}` };
}

/** CAs that sign the certificates of test servers speaking HTTPS (TLS_CERT), by origin. */
const cas = new Map<string, Buffer>();

/** Makes apiFetch (and getJson, metric) trust `ca` for the HTTPS server at `url`. */
export function trustCa(url: string, ca: Buffer): void {
  cas.set(originOf(url), ca);
}

/** fetch as the test admin of the server at `url` (headers in `init` win). */
export function apiFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = { ...authHeaders(url), ...(init.headers as Record<string, string>) };
  const ca = cas.get(originOf(url));
  return ca === undefined ? fetch(url, { ...init, headers }) : httpsFetch(url, { ...init, headers }, ca);
}

/** fetch over HTTPS trusting `ca` (Node's fetch takes no CA without undici's Agent). */
function httpsFetch(
  url: string,
  init: RequestInit & { headers: Record<string, string> },
  ca: Buffer,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: init.method ?? 'GET', headers: init.headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status, headers: res.headers as Record<string, string> }));
      });
    });
    req.on('error', reject);
    req.end(typeof init.body === 'string' ? init.body : undefined);
  });
}

/** An area as a test declares it: its id, kind, the area it lies within, and its name (its id if none). */
export type AreaRow = readonly [id: string, kind: string, parent: string | null, name?: string];

/** Builds an area tree through POST /api/areas as the test admin, in the order given (parents first). */
export async function createAreas(url: string, areas: readonly AreaRow[]): Promise<void> {
  for (const [id, kind, parent, name = id] of areas) {
    const r = await apiFetch(`${url}/api/areas`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, name, kind, parent }),
    });
    if (r.status !== 201) throw new Error(`POST /api/areas ${id}: ${r.status} ${await r.text()}`);
  }
}

/** Makes getJson, apiFetch, metric and openLive send `secret` to the server at `url` (one they did not start). */
export function actAs(url: string, secret: string): void {
  bearers.set(originOf(url), secret);
}

/** An API token with `role` over `area` (null: every area), straight into the database. */
export async function mintToken(db: Db, role: Role = 'admin', area: string | null = null): Promise<string> {
  const { secret } = await insertToken(db, {
    name: `test ${role}`,
    role,
    area,
    createdBy: 'test',
    now: Date.now(),
    expiresAt: null,
  });
  return secret;
}

/** The id of the API token whose secret this is: what the server records as the token's actor. */
export function tokenId(secret: string): string {
  const id = /^gwt_(tok_[0-9a-f]+)_/.exec(secret)?.[1];
  if (id === undefined) throw new Error('not an API token secret');
  return id;
}

/** The password of the users the tests make (long enough for the server's rule). */
export const TEST_PASSWORD = 'duty-room-2026';

/** A user who logs in with `password` (TEST_PASSWORD), straight into the database. */
export async function createUser(
  db: Db,
  u: { username: string; role: Role; displayName?: string; area?: string | null; password?: string },
): Promise<void> {
  await insertUser(db, {
    username: u.username,
    displayName: u.displayName ?? u.username,
    role: u.role,
    area: u.area ?? null,
    passwordHash: await hashPassword(u.password ?? TEST_PASSWORD),
    now: Date.now(),
  });
}

/**
 * The database a server started with `env` will open (DATA_DIR's SQLite or DATABASE_URL),
 * migrated, for `fn`, before that server starts: users and tokens for a server run as its own
 * process.
 */
export async function withDatabase<T>(env: Record<string, string>, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = createDatabase(loadConfig(env).database, quietLogger());
  try {
    await migrateToLatest(db);
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

/** A browser's login: the session cookie and the CSRF token a change made with it must carry. */
export interface Login {
  user: { username: string; displayName: string; role: Role; area: string | null };
  cookie: string;
  csrfToken: string;
  /** fetch with the session cookie, and X-CSRF-Token on a change, as the console sends them. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
}

/** Logs in at the server `baseUrl` (POST /api/session) as a browser would; throws unless it answers 200. */
export async function login(baseUrl: string, username: string, password = TEST_PASSWORD): Promise<Login> {
  const res = await fetch(`${baseUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login as ${username}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { user: Login['user']; csrfToken: string };
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return {
    user: body.user,
    cookie,
    csrfToken: body.csrfToken,
    fetch(url, init = {}) {
      const change = (init.method ?? 'GET') !== 'GET';
      return fetch(url, {
        ...init,
        headers: {
          cookie,
          ...(change ? { 'x-csrf-token': body.csrfToken } : {}),
          ...(init.headers as Record<string, string>),
        },
      });
    },
  };
}

/**
 * buildServer in-process on free ports (PORT=0, MQTT_PORT=0), embedded store unless influxUrl;
 * `options` for a test's own clock, alarm engine timings or ledger schedule check.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  dataDir?: string,
  logger: Logger = quietLogger(),
  options: Pick<BuildServerOptions, 'clock' | 'alarms' | 'ledgers' | 'permits'> = {},
): Promise<TestServer> {
  const tmp = dataDir ? null : tempDir();
  const dir = dataDir ?? tmp?.dir ?? '';
  const config = loadConfig({ PORT: '0', MQTT_PORT: '0', DATA_DIR: dir, STORE_FLUSH_MS: '20', ...env });
  const app = await buildServer({ config, logger, ...options });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = addr && typeof addr === 'object' ? addr.port : 0;
  const url = `${config.https === null ? 'http' : 'https'}://127.0.0.1:${port}`;
  bearers.set(url, await mintToken(app.db));
  return {
    app,
    url,
    mqttUrl: app.mqttUrl,
    dataDir: dir,
    async close() {
      await app.close();
      tmp?.remove();
    },
  };
}

/** The server as its own process (for kill -9 tests); resolves once it logged "listening". */
export async function startServerProcess(
  env: Record<string, string>,
): Promise<{ proc: Proc; url: string; mqttUrl: string }> {
  // The token goes into the database the process will open, before it starts.
  const secret = await withDatabase(env, (db) => mintToken(db));
  const proc = startTsNode(SERVER_MAIN, [], {
    env: { LOG_LEVEL: 'info', PORT: '0', MQTT_PORT: '0', ...env },
  });
  const m = await proc.waitForOutput(/"url":"([^"]+)","mqtt":"([^"]+)"[^\n]*"msg":"listening"/, 30_000);
  const url = m[1] as string;
  bearers.set(url, secret);
  return { proc, url, mqttUrl: m[2] as string };
}

export async function connectClient(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 200, connectTimeout: 5_000, ...opts });
}

/** The audit log's actor of what tests provision. */
export const TEST_ACTOR: Actor = { actor: 'test', actorKind: 'system', address: null };

/** A server in this process (its app), or one in its own process over SQLite in `dataDir`. */
export type GatewayHost = { app: FastifyInstance } | { dataDir: string };

const logins = new WeakMap<object, Map<string, string>>();
const processLogins = new Map<string, Map<string, string>>();

async function withService<T>(host: GatewayHost, use: (s: GatewayService) => Promise<T>): Promise<T> {
  if ('app' in host) return use(host.app.gateways);
  // A server process has the SQLite file open too: WAL lets both write.
  return withDatabase({ DATA_DIR: host.dataDir }, (db) => use(createGatewayService({ db, clock: Date.now })));
}

/**
 * MQTT credentials of gateway `gw` on a test server, as a real gateway gets them (provisioned
 * through the gateway service, SPEC §9): the embedded broker lets nobody else in. The same login
 * is handed out again for the same server; a gateway provisioned by an earlier server over the
 * same database gets a new password.
 */
export async function gatewayLogin(
  host: GatewayHost,
  gw: string,
): Promise<{ username: string; password: string }> {
  const known =
    'app' in host
      ? (logins.get(host.app) ?? logins.set(host.app, new Map()).get(host.app))
      : (processLogins.get(host.dataDir) ?? processLogins.set(host.dataDir, new Map()).get(host.dataDir));
  let password = known?.get(gw);
  if (password === undefined) {
    password = await withService(host, async (s) => {
      try {
        return (await s.provision({ id: gw }, TEST_ACTOR)).password;
      } catch (err) {
        if (!(err instanceof GatewayExistsError)) throw err;
        return (await s.rotate(gw, TEST_ACTOR)).password;
      }
    });
    known?.set(gw, password);
  }
  return { username: gw, password };
}

/** An MQTT client logged in as gateway `gw` (client id `gw-<gw>` unless `opts` names one). */
export async function connectGateway(
  host: GatewayHost & { mqttUrl: string },
  gw: string,
  opts: mqtt.IClientOptions = {},
): Promise<MqttClient> {
  return connectClient(host.mqttUrl, { clientId: `gw-${gw}`, ...(await gatewayLogin(host, gw)), ...opts });
}

export function reading(
  seq: number,
  ts: number,
  values: Reading['values'] = { CO: 10 + (seq % 50) },
): Reading {
  return { v: 1, ts: new Date(ts).toISOString(), seq, values, status: 'ok' };
}

export async function publishReading(c: MqttClient, gw: string, dev: string, r: Reading): Promise<void> {
  await c.publishAsync(topics.reading(gw, dev), encodePayload('reading', r), { qos: 1 });
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const res = await apiFetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

/** Value of one Prometheus sample line, e.g. metric('gaswatch_ingest_rejects_total{reason="not_json"}'). */
export async function metric(baseUrl: string, sample: string): Promise<number> {
  const text = await (await apiFetch(`${baseUrl}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return 0;
}

export async function waitForCount(
  count: () => Promise<number>,
  expected: number,
  what: string,
  timeoutMs = 20_000,
) {
  let last = -1;
  await waitFor(
    async () => {
      last = await count();
      return last >= expected;
    },
    `${what} (expected ${expected}, last ${last})`,
    timeoutMs,
    100,
  );
}

/** The /api/live WebSocket URL of a server at `baseUrl` (http://host:port). */
export const liveUrl = (baseUrl: string): string => `${baseUrl.replace(/^http/, 'ws')}/api/live`;

/**
 * Opens a /api/live socket (`url` as liveUrl gives it) and collects what it receives: the frames
 * as sent and, parsed, the messages, as they arrive.
 */
export async function openLive<M = { type: string; data: unknown }>(
  url: string,
): Promise<{ ws: WebSocket; frames: string[]; messages: M[] }> {
  const ws = new WebSocket(url, { headers: authHeaders(url) });
  const frames: string[] = [];
  const messages: M[] = [];
  ws.on('message', (m) => {
    frames.push(String(m));
    messages.push(JSON.parse(String(m)) as M);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, frames, messages };
}
