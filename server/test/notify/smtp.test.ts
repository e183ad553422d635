import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCa, freePort } from '@gaswatch/shared/testing';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChannelConfigSchema } from '../../src/notify/channel-config.js';
import type { ProviderAdapter } from '../../src/notify/provider.js';
import { createSmtpAdapter, SmtpChannelSchema } from '../../src/notify/providers/smtp.js';
import { captureLogs, rejection } from './stand-in.js';

const USER = 'alarm@example.cn';
const PASS = 'c0rrect-h0rse-battery-staple';

const message = {
  id: 'a9.t1.c3',
  to: 'duty@township.example.cn',
  lang: 'zh-CN' as const,
  subject: '【燃气报警】大埔镇上村12号 厨房甲烷32%LEL',
  text: '大埔镇上村12号（王秀英，独居老人）\n厨房 甲烷 32%LEL，已关阀、开风机。\n请立即联系住户并上门处置。',
  params: {},
};

/** What the real SMTP server saw of one session. */
interface Received {
  authMethod?: string;
  authUser?: string;
  /** Whether the session was already encrypted when AUTH came. */
  tlsAtAuth?: boolean;
  mailFrom?: string;
  rcptTo: string[];
  raw?: string;
}

// --- A small MIME reader, written here so the message is checked independently of nodemailer.

/** Unfolded header fields of a message or part, names lower-cased. */
function headers(block: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  return out;
}

/** RFC 2047 encoded words (=?UTF-8?B?…?= and =?UTF-8?Q?…?=), decoded and joined. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi, (_, enc: string, data: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : qp(data.replace(/_/g, ' ')),
    );
}

function qp(s: string): string {
  const bytes: number[] = [];
  const text = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=' && /^[0-9A-F]{2}$/i.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeBody(h: Map<string, string>, body: string): string {
  const enc = (h.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') return qp(body);
  return body;
}

/** The message's headers and its text and HTML parts, decoded. */
function readMessage(raw: string): { head: Map<string, string>; text: string; html: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = headers(raw.slice(0, split));
  const boundary = /boundary="?([^";]+)"?/.exec(head.get('content-type') ?? '')?.[1];
  if (boundary === undefined) throw new Error('not multipart');
  const parts = raw
    .slice(split + 4)
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((p) => {
      const s = p.replace(/^\r\n/, '');
      const at = s.indexOf('\r\n\r\n');
      const h = headers(s.slice(0, at));
      return { type: h.get('content-type') ?? '', body: decodeBody(h, s.slice(at + 4).replace(/\r\n$/, '')) };
    });
  const text = parts.find((p) => p.type.startsWith('text/plain'))?.body ?? '';
  const html = parts.find((p) => p.type.startsWith('text/html'))?.body ?? '';
  return { head, text: text.replace(/\r\n/g, '\n'), html };
}

describe('smtp adapter against a real SMTP server (smtp-server) with STARTTLS', () => {
  let dir: string;
  let ca: string;
  let serverCert: { cert: string; key: string };
  let server: SMTPServer | undefined;
  let adapter: ProviderAdapter | undefined;
  let sessions: Received[];

  beforeAll(() => {
    // A private CA and a certificate for 127.0.0.1 made for this test with openssl: the
    // adapter trusts it only when told to.
    dir = mkdtempSync(join(tmpdir(), 'gaswatch-smtp-'));
    const testCa = createTestCa(dir, 'smtp');
    const issued = testCa.issue('smtp-server', 'server');
    ca = readFileSync(testCa.cert, 'utf8');
    serverCert = { cert: readFileSync(issued.cert, 'utf8'), key: readFileSync(issued.key, 'utf8') };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await adapter?.stop?.();
    adapter = undefined;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** Starts the SMTP server: STARTTLS offered, AUTH PLAIN and LOGIN only over TLS. */
  async function startServer(opts: Partial<SMTPServerOptions> = {}): Promise<number> {
    sessions = [];
    const port = await freePort();
    const byId = new Map<string, Received>();
    const of = (id: string) => {
      let r = byId.get(id);
      if (r === undefined) {
        r = { rcptTo: [] };
        byId.set(id, r);
        sessions.push(r);
      }
      return r;
    };
    server = new SMTPServer({
      ...serverCert,
      secure: false,
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: false,
      logger: false,
      onAuth(auth, session, cb) {
        const r = of(session.id);
        r.authMethod = auth.method;
        r.authUser = auth.username;
        r.tlsAtAuth = session.secure;
        if (auth.username === USER && auth.password === PASS) cb(null, { user: auth.username });
        else cb(new Error('Authentication failed'));
      },
      onMailFrom(address, session, cb) {
        of(session.id).mailFrom = address.address;
        cb();
      },
      onRcptTo(address, session, cb) {
        of(session.id).rcptTo.push(address.address);
        cb();
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          of(session.id).raw = Buffer.concat(chunks).toString('utf8');
          cb();
        });
      },
      ...opts,
    });
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    return port;
  }

  const config = (port: number, extra: Record<string, unknown> = {}) =>
    SmtpChannelSchema.parse({
      type: 'smtp',
      host: '127.0.0.1',
      port,
      ca,
      auth: { user: USER, pass: PASS },
      from: USER,
      fromName: '燃气报警平台',
      clientName: 'gaswatch.test',
      timeoutMs: 5_000,
      ...extra,
    });

  for (const method of ['PLAIN', 'LOGIN'] as const) {
    it(`upgrades with STARTTLS, logs in with AUTH ${method} and delivers the Chinese subject and body intact`, async () => {
      const port = await startServer();
      adapter = createSmtpAdapter(config(port, { auth: { user: USER, pass: PASS, method } }), {
        name: 'mail',
      });
      expect(adapter).toMatchObject({ name: 'mail', type: 'smtp', medium: 'email' });

      const accepted = await adapter.send(message);

      expect(accepted).toEqual({ providerId: '<gaswatch.a9.t1.c3@example.cn>' });
      expect(sessions).toHaveLength(1);
      const s = sessions[0] as Received;
      expect(s).toMatchObject({ authMethod: method, authUser: USER, tlsAtAuth: true, mailFrom: USER });
      expect(s.rcptTo).toEqual(['duty@township.example.cn']);
      const { head, text, html } = readMessage(s.raw ?? '');
      expect(decodeWords(head.get('from') ?? '')).toBe('燃气报警平台 <alarm@example.cn>');
      expect(head.get('to')).toBe('duty@township.example.cn');
      expect(decodeWords(head.get('subject') ?? '')).toBe(message.subject);
      expect(head.get('message-id')).toBe('<gaswatch.a9.t1.c3@example.cn>');
      expect(head.get('x-gaswatch-notification')).toBe('a9.t1.c3');
      expect(head.get('x-priority')).toMatch(/^1/);
      expect(head.get('mime-version')).toBe('1.0');
      expect(head.get('content-type')).toMatch(/^multipart\/alternative;/);
      expect(text).toBe(message.text);
      expect(html).toContain('<html lang="zh-CN">');
      expect(html).toContain(`<h2 style="color:#b91c1c">${message.subject}</h2>`);
      expect(html).toContain('大埔镇上村12号（王秀英，独居老人）<br>');
    });
  }

  it('a wrong password is permanent (535), nothing is sent, and the password is in no log line or error', async () => {
    const logs = captureLogs();
    const port = await startServer();
    adapter = createSmtpAdapter(config(port, { auth: { user: USER, pass: `${PASS}-old` } }), {
      logger: logs.logger,
    });
    const err = await rejection(adapter.send(message));
    expect(err).toMatchObject({ kind: 'permanent', providerCode: '535' });
    expect(sessions[0]?.raw).toBeUndefined();
    expect(logs.text()).toContain('SMTP refused');
    const everything = `${logs.text()}${err.message}`;
    for (const secret of [PASS, `${PASS}-old`, Buffer.from(`\0${USER}\0${PASS}-old`).toString('base64')]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('a server that does not offer STARTTLS gets neither the password nor the message', async () => {
    // A server that cannot do STARTTLS at all and would take AUTH in the clear.
    const port = await startServer({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
    adapter = createSmtpAdapter(config(port));
    const err = await rejection(adapter.send(message));
    expect(err).toMatchObject({ kind: 'permanent' });
    expect(sessions.filter((s) => s.authUser !== undefined || s.raw !== undefined)).toEqual([]);
  });

  it('a certificate the adapter does not trust stops it before AUTH: permanent, it is configuration', async () => {
    const port = await startServer();
    adapter = createSmtpAdapter(config(port, { ca: undefined }));
    const err = await rejection(adapter.send(message));
    expect(err).toMatchObject({ kind: 'permanent' });
    expect(sessions.filter((s) => s.authUser !== undefined)).toEqual([]);
  });

  it("the server's 4xx is retryable, its 5xx permanent, with the reply code", async () => {
    let reply = 451;
    const port = await startServer({
      onRcptTo(_address, _session, cb) {
        const e = Object.assign(new Error(reply === 451 ? 'Try again later' : 'Mailbox unavailable'), {
          responseCode: reply,
        });
        cb(e);
      },
    });
    adapter = createSmtpAdapter(config(port));
    expect(await rejection(adapter.send(message))).toMatchObject({ kind: 'retryable', providerCode: '451' });
    reply = 550;
    expect(await rejection(adapter.send(message))).toMatchObject({ kind: 'permanent', providerCode: '550' });
  });

  it('nobody listening is retryable; a recipient that is no e-mail address is refused at once', async () => {
    adapter = createSmtpAdapter(config(await freePort(), { timeoutMs: 2_000 }));
    expect(await rejection(adapter.send(message))).toMatchObject({ kind: 'retryable' });
    expect(await rejection(adapter.send({ ...message, to: '+8613800138000' }))).toMatchObject({
      kind: 'permanent',
    });
  });

  it('config: a sender address is required, unknown keys refused', () => {
    const base = { type: 'smtp', host: 'smtp.example.cn', from: USER };
    expect(ChannelConfigSchema.safeParse(base).success).toBe(true);
    expect(ChannelConfigSchema.safeParse({ ...base, from: 'not-an-address' }).success).toBe(false);
    expect(ChannelConfigSchema.safeParse({ ...base, rejectUnauthorized: false }).success).toBe(false);
  });
});
