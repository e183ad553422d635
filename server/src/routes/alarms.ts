import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { AlarmEngine } from '../alarms/engine.js';
import { AlarmError } from '../alarms/errors.js';
import { LIFECYCLE_STATES } from '../alarms/model.js';

const StateFilter = z
  .enum([...LIFECYCLE_STATES, 'open'])
  .describe('active | acknowledged | cleared | cleared_unacked | open (every state but cleared)');

const ListQuery = z
  .object({
    state: StateFilter.optional(),
    device: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'not a device id')
      .optional()
      .describe('Only this device'),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(100)
      .describe('Most alarms returned, newest first'),
  })
  .strict();

const IdParams = z.object({ id: z.string().min(1).max(200).describe('Alarm id') }).strict();

const AckBody = z
  .object({
    note: z.string().max(2000).default('').describe('What was done or found'),
    actor: z.string().min(1).max(64).optional().describe('Who acknowledges; "api" when absent'),
  })
  .strict();

function badRequest(reply: FastifyReply, err: z.ZodError) {
  const message = err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  return reply.code(400).send({ error: 'bad_request', message });
}

function alarmError(reply: FastifyReply, err: unknown) {
  if (err instanceof AlarmError)
    return reply.code(err.statusCode).send({ error: err.code, message: err.message });
  throw err;
}

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

/** SPEC §5 alarm routes. Validation is zod (answers `{"error","message"}` 400). */
export default async function alarmRoutes(
  app: FastifyInstance,
  opts: { engine: AlarmEngine },
): Promise<void> {
  const { engine } = opts;

  // Until the alarm state is rebuilt from the store, an empty list would read as "no alarms".
  app.addHook('preHandler', async (req, reply) => {
    if (!req.url.startsWith('/api/alarms') || engine.ready()) return;
    return reply.code(503).send({
      error: 'alarms_loading',
      message: 'alarm state is still being loaded from the store (is it reachable?); try again shortly',
    });
  });

  app.get(
    '/api/alarms',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Alarms, newest first, optionally by lifecycle state and device',
        querystring: {
          type: 'object',
          properties: {
            state: { type: 'string', enum: [...LIFECYCLE_STATES, 'open'] },
            device: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
        response: { 400: errorSchema },
      },
      // zod does the validation so every error has the same shape.
      validatorCompiler: () => () => true,
    },
    async (req, reply) => {
      const q = ListQuery.safeParse(req.query);
      if (!q.success) return badRequest(reply, q.error);
      return { alarms: engine.list({ state: q.data.state, dev: q.data.device, limit: q.data.limit }) };
    },
  );

  app.get(
    '/api/alarms/:id',
    {
      schema: {
        tags: ['alarms'],
        summary: 'One alarm and its whole event history',
        params: { type: 'object', properties: { id: { type: 'string' } } },
        response: { 404: errorSchema },
      },
      validatorCompiler: () => () => true,
    },
    async (req, reply) => {
      const p = IdParams.safeParse(req.params);
      if (!p.success) return badRequest(reply, p.error);
      const alarm = engine.get(p.data.id);
      if (alarm === undefined)
        return reply.code(404).send({ error: 'alarm_not_found', message: `no alarm with id ${p.data.id}` });
      return { alarm, events: await engine.history(p.data.id) };
    },
  );

  app.post(
    '/api/alarms/:id/ack',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Acknowledge an alarm: stops escalation and silences the sounder at the gateway',
        params: { type: 'object', properties: { id: { type: 'string' } } },
        body: {
          type: 'object',
          properties: { note: { type: 'string', maxLength: 2000 }, actor: { type: 'string', maxLength: 64 } },
        },
        response: { 400: errorSchema, 404: errorSchema, 409: errorSchema },
      },
      validatorCompiler: () => () => true,
    },
    async (req, reply) => {
      const p = IdParams.safeParse(req.params);
      if (!p.success) return badRequest(reply, p.error);
      const b = AckBody.safeParse(req.body ?? {});
      if (!b.success) return badRequest(reply, b.error);
      try {
        return await engine.acknowledge(p.data.id, { actor: b.data.actor ?? 'api', note: b.data.note });
      } catch (err) {
        return alarmError(reply, err);
      }
    },
  );
}
