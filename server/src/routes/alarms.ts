import { IdSchema } from '@gaswatch/shared';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AlarmHistoryEntrySchema, AlarmSchema, LIFECYCLE_STATES } from '../alarms/model.js';
import { ErrorSchema, limitSchema } from './schemas.js';

const ListQuery = z
  .object({
    state: z
      .enum([...LIFECYCLE_STATES, 'open'])
      .optional()
      .describe('active | acknowledged | cleared | cleared_unacked | open (every state but cleared)'),
    device: IdSchema.optional().describe('Only this device'),
    limit: limitSchema(1000, 100, 'alarms, newest first'),
  })
  .strict();

const IdParams = z.object({ id: z.string().min(1).max(200).describe('Alarm id') }).strict();

const AckBody = z
  .object({
    note: z.string().max(2000).default('').describe('What was done or found'),
    actor: z.string().min(1).max(64).optional().describe('Who acknowledges; "api" when absent'),
  })
  .strict()
  .nullish()
  .describe('Optional: a POST without a body acknowledges with an empty note');

const AckAnswerSchema = z.object({
  alarm: AlarmSchema,
  stored: z.boolean().describe('The acknowledgement reached the database before the answer'),
  silence: z.object({
    id: z.string().nullable(),
    sent: z.boolean(),
    error: z.string().optional(),
    held: z.boolean().optional(),
    heldBy: z.array(z.string()).optional(),
  }),
});

/** SPEC §5 alarm routes over the alarm engine (plugins/alarms.ts). */
const alarmRoutes: FastifyPluginAsyncZod = async (app) => {
  const engine = app.alarms;

  // Until the alarm state is rebuilt from the stored events, an empty list would read as "no alarms".
  app.addHook('preHandler', async (_request, reply) => {
    if (engine.ready()) return;
    return reply.code(503).send({
      error: 'alarms_loading',
      message:
        'alarm state is still being loaded from the database (on first start, with the alarm events of the time-series store: is it reachable?); try again shortly',
    });
  });

  app.get(
    '/api/alarms',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Alarms, newest first, optionally by lifecycle state and device',
        querystring: ListQuery,
        response: { 200: z.object({ alarms: z.array(AlarmSchema) }), 400: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => {
      const q = request.query;
      return { alarms: engine.list({ state: q.state, dev: q.device, limit: q.limit }) };
    },
  );

  app.get(
    '/api/alarms/:id',
    {
      schema: {
        tags: ['alarms'],
        summary: 'One alarm and its whole event history',
        params: IdParams,
        response: {
          200: z.object({ alarm: AlarmSchema, events: z.array(AlarmHistoryEntrySchema) }),
          404: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const alarm = engine.get(id);
      if (alarm === undefined)
        return reply.code(404).send({ error: 'alarm_not_found', message: `no alarm with id ${id}` });
      return { alarm, events: await engine.history(id) };
    },
  );

  app.post(
    '/api/alarms/:id/ack',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Acknowledge an alarm: stops escalation and silences the sounder at the gateway',
        params: IdParams,
        body: AckBody,
        response: {
          200: AckAnswerSchema,
          400: ErrorSchema,
          404: ErrorSchema,
          409: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request) =>
      engine.acknowledge(request.params.id, {
        actor: request.body?.actor ?? 'api',
        note: request.body?.note ?? '',
      }),
  );
};

export default alarmRoutes;
