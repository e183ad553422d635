import nodemailer from 'nodemailer';
import { z } from 'zod';
import { type ProviderAdapter, ProviderError, type ProviderMessage } from '../provider.js';
import { type ProviderDeps, silentLogger } from './adapter-kit.js';
import { redact } from './provider-http.js';

/**
 * E-mail over SMTP with nodemailer: STARTTLS (required, not opportunistic) or TLS from the first
 * byte, AUTH PLAIN/LOGIN, a plain-text body with a simple HTML twin. SMTP has no callbacks: an
 * accepted message is "sent"; bounces go to the sender's mailbox.
 */

export const SmtpChannelSchema = z
  .object({
    type: z.literal('smtp'),
    host: z
      .string()
      .min(1)
      .max(253)
      .describe('SMTP server (submission service of the mail provider or relay)'),
    port: z.number().int().min(1).max(65_535).default(587).describe('587 for STARTTLS, 465 for TLS'),
    tls: z
      .enum(['starttls', 'implicit', 'none'])
      .default('starttls')
      .describe(
        'starttls: upgrade or refuse to send; implicit: TLS from the start (port 465); none: only for a relay on this host',
      ),
    ca: z
      .string()
      .min(1)
      .optional()
      .describe(
        "PEM certificate(s) to trust for the server's certificate (a private CA), besides the system's",
      ),
    auth: z
      .object({
        user: z.string().min(1).max(256).describe('Login'),
        pass: z.string().min(1).max(1024).describe('Password or app password (a secret)'),
        method: z
          .enum(['PLAIN', 'LOGIN'])
          .optional()
          .describe("Force an AUTH mechanism; the server's choice otherwise"),
      })
      .strict()
      .optional()
      .describe('SMTP AUTH; sent only over TLS unless tls is none'),
    from: z.email().describe('Sender address (envelope and From header)'),
    fromName: z.string().max(128).optional().describe('Sender display name, e.g. 燃气报警平台'),
    clientName: z
      .string()
      .max(253)
      .optional()
      .describe('Name this host gives in EHLO; the OS hostname when absent'),
    timeoutMs: z
      .number()
      .int()
      .min(1_000)
      .max(120_000)
      .default(15_000)
      .describe('Connection, greeting and socket timeout'),
    maxConnections: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(3)
      .describe('Connections kept open to the server'),
  })
  .strict();
export type SmtpChannelConfig = z.infer<typeof SmtpChannelSchema>;

/** Node's codes for a certificate the server showed but we do not trust: configuration, not luck. */
const CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME/;

/** What an SMTP failure means for another try: 4xx replies and lost connections may pass later. */
export function smtpError(err: unknown, secrets: readonly string[]): ProviderError {
  const e = err as { code?: string; responseCode?: number; message?: string; cause?: { code?: string } };
  const words = redact(String(e.message ?? err).slice(0, 300), secrets);
  if (typeof e.responseCode === 'number') {
    const kind = e.responseCode >= 400 && e.responseCode < 500 ? 'retryable' : 'permanent';
    return new ProviderError(kind, String(e.responseCode), `SMTP ${e.responseCode}: ${words}`);
  }
  const code = e.code ?? '';
  const causeCode = e.cause?.code ?? '';
  const permanent =
    ['EAUTH', 'ETLS', 'EENVELOPE', 'EMESSAGE', 'ENOAUTH'].includes(code) ||
    CERT_CODES.test(causeCode) ||
    /certificate/i.test(words);
  return new ProviderError(
    permanent ? 'permanent' : 'retryable',
    code === '' ? null : code,
    `SMTP: ${words}`,
  );
}

const SIMPLE_EMAIL = /^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$/;

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The plain text as a small HTML page: the subject as a red heading, the lines kept. */
export function alarmHtml(subject: string, text: string, lang: string): string {
  const lines = htmlEscape(text).split('\n').join('<br>\n');
  return (
    `<!DOCTYPE html>\n<html lang="${lang}"><head><meta charset="utf-8"><title>${htmlEscape(subject)}</title></head>\n` +
    `<body style="font-family:sans-serif"><h2 style="color:#b91c1c">${htmlEscape(subject)}</h2>\n` +
    `<p style="font-size:16px;line-height:1.6">${lines}</p></body></html>\n`
  );
}

export function createSmtpAdapter(config: SmtpChannelConfig, deps: ProviderDeps = {}): ProviderAdapter {
  const name = deps.name ?? 'smtp';
  const log = (deps.logger ?? silentLogger).child({ channel: name, type: 'smtp' });
  const secrets = config.auth === undefined ? [] : [config.auth.pass];
  const domain = config.from.split('@')[1] ?? 'gaswatch.invalid';
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.tls === 'implicit',
    requireTLS: config.tls === 'starttls',
    ignoreTLS: config.tls === 'none',
    ...(config.auth === undefined
      ? {}
      : {
          auth: { user: config.auth.user, pass: config.auth.pass },
          ...(config.auth.method === undefined ? {} : { authMethod: config.auth.method }),
        }),
    tls: {
      minVersion: 'TLSv1.2',
      ...(config.ca === undefined ? {} : { ca: [config.ca] }),
    },
    ...(config.clientName === undefined ? {} : { name: config.clientName }),
    connectionTimeout: config.timeoutMs,
    greetingTimeout: config.timeoutMs,
    socketTimeout: config.timeoutMs,
    pool: true,
    maxConnections: config.maxConnections,
    maxMessages: 100,
    // nodemailer's own logging would print the AUTH exchange; ours says what matters.
    logger: false,
    debug: false,
  });

  return {
    name,
    type: 'smtp',
    medium: 'email',
    async send(message: ProviderMessage) {
      if (!SIMPLE_EMAIL.test(message.to)) {
        throw new ProviderError('permanent', null, 'SMTP: the recipient is not an e-mail address');
      }
      const subject = message.subject ?? message.text.split('\n')[0]?.slice(0, 120) ?? '';
      // The same Message-ID for every attempt of one notification: a mailbox that got it
      // already shows one message, not two.
      const messageId = `<gaswatch.${message.id.replace(/[^A-Za-z0-9._-]/g, '_')}@${domain}>`;
      try {
        const info = await transport.sendMail({
          from: config.fromName === undefined ? config.from : { name: config.fromName, address: config.from },
          to: message.to,
          subject,
          text: message.text,
          html: alarmHtml(subject, message.text, message.lang),
          messageId,
          priority: 'high',
          headers: { 'X-Gaswatch-Notification': message.id },
        });
        log.info(
          { notification: message.id, providerId: info.messageId },
          'e-mail accepted by the SMTP server',
        );
        return { providerId: info.messageId };
      } catch (err) {
        const pe = smtpError(err, secrets);
        log.warn(
          { notification: message.id, kind: pe.kind, providerCode: pe.providerCode, reason: pe.message },
          'SMTP refused',
        );
        throw pe;
      }
    },
    async stop() {
      transport.close();
    },
  };
}
