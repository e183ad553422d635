import { GasIdSchema, IdSchema } from '@gaswatch/shared';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LIFECYCLE_STATES } from '../alarms/model.js';
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

const SilenceSchema = z
  .object({
    status: z.enum(['held', 'sent', 'send_failed', 'confirmed', 'refused', 'unanswered']),
    command: z.string().nullable().describe('Silence command id (null while held)'),
    at: z.number().describe('Wall clock of the last change, ms since epoch'),
    message: z.string().optional().describe("Why it was held, why sending failed, or the gateway's answer"),
    heldBy: z.array(z.string()).optional().describe('Ids of the alarms that held it back'),
  })
  .describe('What became of silencing the sounder after acknowledgement');

const AlarmSchema = z
  .object({
    id: z.string(),
    gw: IdSchema,
    dev: IdSchema,
    site: z.string().nullable(),
    key: z.string().describe("Condition key, stable per device, e.g. 'CO:dose', 'offline'"),
    rule: z.string(),
    profile: z.string().describe('Alarm profile of SPEC §6 the rule belongs to'),
    gas: GasIdSchema.optional(),
    severity: z.enum(['warning', 'critical']),
    state: z.enum(LIFECYCLE_STATES),
    message: z.string(),
    value: z.number().describe('Value when raised (unit `unit`)'),
    peak: z.number().optional().describe('Highest value seen while the condition held'),
    threshold: z.number(),
    unit: z.string().optional(),
    raisedAt: z.number().describe("Event time of the raise (the reading's ts), ms since epoch"),
    detectedAt: z.number().describe('Wall clock when the engine raised it'),
    late: z.boolean().describe('Raised from readings replayed from a gateway outbox'),
    clearedAt: z.number().nullable(),
    ack: z.object({ actor: z.string(), at: z.number(), note: z.string() }).nullable(),
    tier: z.number().int().describe('Highest contact tier notified (0: none yet)'),
    lastNotifiedAt: z.number().nullable(),
    seq: z.number().int().describe('Events stored for this alarm'),
    episode: z.number().int().optional().describe('Episodes of the condition: +1 per re-raise'),
    silence: SilenceSchema.optional(),
  })
  .describe('Alarm');

const HistoryEntrySchema = z.object({
  id: z.string(),
  seq: z.number().int(),
  ts: z.number(),
  type: z.enum(['raised', 'reraised', 'acknowledged', 'cleared', 'escalated', 'silence', 'silence_result']),
  state: z.enum(LIFECYCLE_STATES),
  actor: z.string().optional(),
  note: z.string().optional(),
  tier: z.number().int().optional(),
  contacts: z.array(z.string()).optional(),
  ok: z.boolean().optional(),
  late: z.boolean().optional(),
  command: z.string().optional(),
  message: z.string().optional(),
  heldBy: z.array(z.string()).optional(),
});

const AckAnswerSchema = z.object({
  alarm: AlarmSchema,
  stored: z.boolean().describe('The acknowledgement reached the store before the answer'),
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

  // Until the alarm state is rebuilt from the store, an empty list would read as "no alarms".
  app.addHook('preHandler', async (_request, reply) => {
    if (engine.ready()) return;
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
          200: z.object({ alarm: AlarmSchema, events: z.array(HistoryEntrySchema) }),
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
