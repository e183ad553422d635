import { IdSchema } from '@gaswatch/shared';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AlarmError } from '../alarms/errors.js';
import { type Alarm, AlarmHistoryEntrySchema, AlarmSchema, LIFECYCLE_STATES } from '../alarms/model.js';
import { auditActor, principalOf } from '../auth/principal.js';
import { ErrorSchema, limitSchema } from './schemas.js';

const ListQuery = z
  .object({
    state: z
      .enum([...LIFECYCLE_STATES, 'open'])
      .optional()
      .describe('active | acknowledged | cleared | cleared_unacked | open (every state but cleared)'),
    device: IdSchema.optional().describe('Only this device'),
    limit: limitSchema(1000, 100, 'alarms, newest first'),
    cursor: z
      .string()
      .regex(/^\d{1,15}_.{1,200}$/, 'must be a nextCursor of this list')
      .optional()
      .describe('nextCursor of the previous page'),
  })
  .strict();

const IdParams = z.object({ id: z.string().min(1).max(200).describe('Alarm id') }).strict();

const AckBody = z
  .object({
    note: z.string().max(2000).default('').describe('What was done or found'),
  })
  .strict()
  .nullish()
  .describe(
    'Optional: a POST without a body acknowledges with an empty note. Who acknowledges is the logged-in user (or the token), never a name in the body',
  );

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

/** A nextCursor (`<raisedAt>_<id>`) back to the position it names. */
function fromCursor(cursor: string): { raisedAt: number; id: string } {
  const cut = cursor.indexOf('_');
  return { raisedAt: Number(cursor.slice(0, cut)), id: cursor.slice(cut + 1) };
}

/** SPEC §5 alarm routes over the alarm engine (plugins/alarms.ts). */
const alarmRoutes: FastifyPluginAsyncZod = async (app) => {
  const engine = app.alarms;
  const { auth } = app;

  /** The caller's area filter (SPEC §9): an alarm's area is its device's. */
  const visibleTo = (request: FastifyRequest) => {
    const p = principalOf(request);
    return (a: Alarm) => auth.canSee(p, auth.areaOf(a));
  };

  /** The alarm, or 404 when there is none or it lies outside the caller's area (the same answer). */
  function visibleAlarm(request: FastifyRequest, id: string): Alarm {
    const alarm = engine.get(id);
    if (alarm === undefined || !visibleTo(request)(alarm))
      throw new AlarmError('alarm_not_found', `no alarm with id ${id}`, 404, id);
    return alarm;
  }

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
      config: { access: 'viewer' },
      schema: {
        tags: ['alarms'],
        summary: 'Alarms, newest first, optionally by lifecycle state and device',
        querystring: ListQuery,
        response: {
          200: z.object({
            alarms: z.array(AlarmSchema),
            total: z.number(),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const page = engine.page({
        state: q.state,
        dev: q.device,
        visible: visibleTo(request),
        limit: q.limit,
        ...(q.cursor === undefined ? {} : { after: fromCursor(q.cursor) }),
      });
      return {
        alarms: page.alarms,
        total: page.total,
        nextCursor: page.next === null ? null : `${page.next.raisedAt}_${page.next.id}`,
      };
    },
  );

  app.get(
    '/api/alarms/:id',
    {
      config: { access: 'viewer' },
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
    async (request) => {
      const alarm = visibleAlarm(request, request.params.id);
      return { alarm, events: await engine.history(alarm.id) };
    },
  );

  app.post(
    '/api/alarms/:id/ack',
    {
      config: { access: 'operator' },
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
    async (request) => {
      const before = visibleAlarm(request, request.params.id);
      const by = auditActor(request);
      const answer = await engine.acknowledge(before.id, { actor: by.actor, note: request.body?.note ?? '' });
      // Queued, not awaited: the acknowledgement is answered while the database is down too.
      auth.auditLater.append({
        ts: app.clock(),
        ...by,
        action: 'alarm.acknowledge',
        target: { kind: 'alarm', id: before.id },
        before: { state: before.state },
        after: { state: answer.alarm.state, note: answer.alarm.ack?.note ?? '' },
      });
      return answer;
    },
  );
};

export default alarmRoutes;
