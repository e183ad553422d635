import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pingDatabase } from '../db/database.js';
import { withoutCredentials } from '../urls.js';

const ReadySchema = z.object({
  ready: z.boolean(),
  reasons: z.array(z.string()).describe('Why not ready, one line each; empty when ready'),
  buffered: z.number().int().describe('Readings in the ingest journal waiting for the store'),
  store: z.enum(['influx', 'embedded']),
});

/** /healthz, /readyz and /metrics: what a load balancer, systemd or Prometheus asks. */
const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        description: 'The process is up',
        tags: ['health'],
        response: { 200: z.object({ ok: z.literal(true) }) },
      },
    },
    async () => ({ ok: true as const }),
  );

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        description:
          'Broker, store and database reachable, journal writable, ingest buffer not full, alarm state loaded (503 with reasons otherwise)',
        tags: ['health'],
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const s = app.ingest.status();
      const reasons: string[] = [];
      if (!app.broker.connected())
        reasons.push(`broker unreachable (${app.mqttUrl ? withoutCredentials(app.mqttUrl) : 'not started'})`);
      const storeUp = s.storeHealthy && (await app.store.ping());
      if (!storeUp)
        reasons.push(
          `store unreachable, ${s.buffered} readings buffered${s.lastError ? ` (${s.lastError})` : ''}`,
        );
      const dbError = await pingDatabase(app.db);
      if (dbError !== null) reasons.push(`database unreachable (${dbError})`);
      if (s.journalError !== null)
        reasons.push(`journal write failing, readings not acknowledged (${s.journalError})`);
      if (!app.alarms.ready())
        reasons.push('alarm state not rebuilt from the database yet: readings are not evaluated for alarms');
      if (s.buffered >= app.config.ingest.bufferMax)
        reasons.push(`ingest buffer full (${s.buffered} readings)`);
      const body = { ready: reasons.length === 0, reasons, buffered: s.buffered, store: app.store.kind };
      return reply.code(body.ready ? 200 : 503).send(body);
    },
  );

  app.get(
    '/metrics',
    // Read by Prometheus with an API token (bearer_token in its scrape config): counts of alarms,
    // refused logins and traffic are not for anyone who can reach the port.
    { config: { access: 'viewer' }, schema: { description: 'Prometheus text exposition', tags: ['health'] } },
    async (_request, reply) => {
      const text = await app.metrics.metrics();
      return reply.type(app.metrics.contentType).send(text);
    },
  );
};

export default healthRoutes;
