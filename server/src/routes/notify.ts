import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NoCallbacksError } from '../alarms/dispatcher.js';
import { CallbackRefused } from '../notify/provider.js';
import { MAX_CALLBACK_BYTES } from '../notify/providers/callback-token.js';
import { ErrorSchema } from './schemas.js';

const ChannelParams = z
  .object({
    channel: z
      .string()
      .min(1)
      .max(64)
      .describe('The configured channel (GASWATCH_CONFIG channels.<name>) the provider calls back for'),
  })
  .strict();

/** A refusal's HTTP status: no proof at all 401, a wrong proof 403, a body that cannot be read 400. */
const REFUSED_STATUS: Record<CallbackRefused['reason'], 400 | 401 | 403> = {
  unsigned: 401,
  bad_signature: 403,
  stale: 403,
  unreadable: 400,
};

/**
 * Provider callbacks (issue 15, SPEC §12): delivery receipts, SMS replies and keys pressed on
 * calls. SPEC §12 writes the route as `/api/notify/callback/:provider`; it takes the configured
 * channel's name instead, because the channel is what names the provider *and* holds the secret or
 * token its callbacks are checked with (two Alibaba accounts are two channels of one provider).
 * Public — providers do not log in — and proven instead by the provider's own signature (Twilio)
 * or the channel's callbackToken in the URL (Alibaba Cloud, Tencent Cloud, which sign nothing),
 * checked on the raw body before anything is read.
 */
const notifyRoutes: FastifyPluginAsyncZod = async (app) => {
  // The raw bytes, whatever the type: Twilio's signature covers the form as sent, and a JSON
  // parse first would lose what the adapters check. Within this plugin only.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: MAX_CALLBACK_BYTES },
    (_request, body, done) => done(null, body),
  );

  app.post(
    '/api/notify/callback/:channel',
    {
      config: { access: 'public' },
      schema: {
        tags: ['notifications'],
        summary: "A provider's callback: delivery receipts, SMS replies, keys pressed on calls",
        description:
          'Configure it at the provider as https://<server>/api/notify/callback/<channel> (Alibaba Cloud and Tencent Cloud: with ?token=<callbackToken>). A receipt updates the notification; a failed one falls over to the contact\u2019s next channel; a reply "1" or key 1 acknowledges the alarm as that contact. Answers what the provider expects (Twilio: TwiML; Alibaba: {"code":0}; Tencent: {"result":0}; else 204). Unsigned or wrongly signed callbacks are refused and counted (gaswatch_notify_callbacks_refused_total).',
        params: ChannelParams,
        response: {
          400: ErrorSchema.describe('callback_unreadable'),
          401: ErrorSchema.describe('callback_unsigned: no signature or token'),
          403: ErrorSchema.describe('callback_refused: a wrong signature or token, or a stale one'),
          404: ErrorSchema.describe('unknown_channel, no_callbacks'),
        },
      },
    },
    async (request, reply) => {
      const { channel } = request.params;
      try {
        const { answer, acknowledged } = await app.alarms.notify.callback(channel, {
          method: request.method,
          url: request.url,
          origin: `${request.protocol}://${request.host}`,
          headers: request.headers,
          rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        });
        // A contact's "1" changed an alarm as an operator's acknowledgement does: audited alike,
        // the contact (by number and name) as the actor.
        for (const a of acknowledged)
          app.auth.auditLater.append({
            ts: app.clock(),
            actor: a.actor,
            actorKind: 'system',
            address: request.ip,
            action: 'alarm.acknowledge',
            target: { kind: 'alarm', id: a.alarmId },
            before: { state: a.before },
            after: { state: a.after, note: a.note },
          });
        // The provider's own answer (TwiML, Alibaba's or Tencent's JSON), as the adapter wrote it:
        // sent as text, no schema of ours in between.
        const raw = reply as unknown as FastifyReply;
        if (answer.status === 204) return raw.code(204).send();
        return raw.code(answer.status).type(answer.contentType).send(answer.body);
      } catch (err) {
        if (err instanceof CallbackRefused) {
          request.log.warn({ channel, reason: err.reason, why: err.message }, 'provider callback refused');
          const status = REFUSED_STATUS[err.reason];
          return reply.code(status).send({
            error:
              status === 401
                ? 'callback_unsigned'
                : status === 403
                  ? 'callback_refused'
                  : 'callback_unreadable',
            message: err.message,
          });
        }
        if (err instanceof NoCallbacksError)
          return reply.code(404).send({ error: err.reason, message: err.message });
        throw err;
      }
    },
  );
};

export default notifyRoutes;
