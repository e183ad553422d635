import type { FastifyInstance } from 'fastify';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', { schema: { description: 'The process is up', tags: ['health'] } }, async () => ({
    ok: true,
  }));

  app.get(
    '/readyz',
    {
      schema: {
        description:
          'Broker and store reachable, journal writable, ingest buffer not full, alarm state loaded (503 with reasons otherwise)',
        tags: ['health'],
      },
    },
    async (_request, reply) => {
      const s = app.ingestStatus();
      const reasons: string[] = [];
      if (!s.brokerConnected) reasons.push(`broker unreachable (${app.mqttUrl || 'not started'})`);
      const storeUp = s.storeHealthy && (await app.store.ping());
      if (!storeUp)
        reasons.push(
          `store unreachable, ${s.buffered} readings buffered${s.lastError ? ` (${s.lastError})` : ''}`,
        );
      if (s.journalError !== null)
        reasons.push(`journal write failing, readings not acknowledged (${s.journalError})`);
      if (app.hasDecorator('alarms') && !app.alarms.ready())
        reasons.push('alarm state not rebuilt from the store yet: readings are not evaluated for alarms');
      if (s.buffered >= app.config.ingest.bufferMax)
        reasons.push(`ingest buffer full (${s.buffered} readings)`);
      const body = { ready: reasons.length === 0, reasons, buffered: s.buffered, store: app.store.kind };
      return reply.code(body.ready ? 200 : 503).send(body);
    },
  );

  app.get(
    '/metrics',
    { schema: { description: 'Prometheus text exposition', tags: ['health'] } },
    async (_request, reply) => {
      const text = await app.metrics.metrics();
      return reply.type(app.metrics.contentType).send(text);
    },
  );
}
