import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AlarmDetailSchema } from '../alarms/detail-schema.js';
import type { AlarmEngine } from '../alarms/engine.js';
import { AlarmError } from '../alarms/errors.js';
import {
  type Alarm,
  AlarmSchema,
  CALL_OUTCOMES,
  RESOLUTION_REASONS,
} from '../alarms/model.js';
import { auditActor, principalOf } from '../auth/principal.js';
import { AlarmFilterFields, alarmFilterOf } from './alarm-query.js';
import { ErrorSchema, limitSchema } from './schemas.js';

const ListQuery = z
  .object({
    ...AlarmFilterFields,
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

const ResolveBody = z
  .object({
    reason: z
      .enum(RESOLUTION_REASONS)
      .describe('real_event | false_alarm | test | maintenance | device_fault'),
    note: z.string().max(2000).default('').describe('What was found and done'),
  })
  .strict()
  .describe('Who resolves is the logged-in user (or the token)');

const ResponseBody = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('call'),
        contact: z
          .object({ name: z.string().min(1).max(128), phone: z.string().max(64).optional() })
          .strict()
          .describe('Who was called'),
        outcome: z.enum(CALL_OUTCOMES).describe('reached | no_answer | wrong_number'),
        note: z.string().max(2000).default(''),
      })
      .strict(),
    z.object({ kind: z.enum(['on_my_way', 'on_site']), note: z.string().max(2000).default('') }).strict(),
  ])
  .describe('A phone call and what came of it, or a responder on the way to / at the door');

const BulkAckBody = z
  .object({
    ids: z.array(z.string().min(1).max(200)).min(1).max(1000).describe('Alarm ids'),
    note: z.string().max(2000).default(''),
  })
  .strict();

const SilenceAnswerSchema = z.object({
  id: z.string().nullable(),
  sent: z.boolean(),
  error: z.string().optional(),
  held: z.boolean().optional(),
  heldBy: z.array(z.string()).optional(),
});

const ActionAnswerSchema = z.object({
  alarm: AlarmSchema,
  stored: z.boolean().describe('It reached the database before the answer'),
  silence: SilenceAnswerSchema.nullable().describe('The sounder silence, when this acknowledged the alarm'),
});

const AckAnswerSchema = z.object({
  alarm: AlarmSchema,
  stored: z.boolean().describe('The acknowledgement reached the database before the answer'),
  silence: SilenceAnswerSchema,
});

/**
 * A preHandler answering 503 `alarms_loading` until the alarm state is rebuilt from the stored
 * events: meanwhile an empty list, or a report of no alarms, would read as "no alarms".
 */
export function alarmsReady(engine: AlarmEngine) {
  return async (_request: FastifyRequest, reply: FastifyReply) => {
    if (engine.ready()) return;
    return reply.code(503).send({
      error: 'alarms_loading',
      message:
        'alarm state is still being loaded from the database (on first start, with the alarm events of the time-series store: is it reachable?); try again shortly',
    });
  };
}

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

  /** Queued, not awaited: an acknowledgement is answered while the database is down too. */
  function auditAck(by: ReturnType<typeof auditActor>, before: Alarm, after: Alarm): void {
    auth.auditLater.append({
      ts: app.clock(),
      ...by,
      action: 'alarm.acknowledge',
      target: { kind: 'alarm', id: before.id },
      before: { state: before.state },
      after: { state: after.state, note: after.ack?.note ?? '' },
    });
  }

  app.addHook('preHandler', alarmsReady(engine));

  app.get(
    '/api/alarms',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['alarms'],
        summary: 'Alarms, newest raise first, filtered (the history) and paged',
        description:
          'Every filter narrows; all must hold. Only alarms in your area are listed and counted in `total`.',
        querystring: ListQuery,
        response: {
          200: z.object({
            alarms: z.array(AlarmSchema),
            total: z.number(),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema.describe('bad_request, bad_range (from after to), unknown_area'),
          503: ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const page = engine.page({
        ...alarmFilterOf(app, principalOf(request), q),
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
          200: AlarmDetailSchema,
          404: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request) => {
      const alarm = visibleAlarm(request, request.params.id);
      return { alarm, events: await engine.history(alarm.id), ...engine.responseInfo(alarm) };
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
      auditAck(by, before, answer.alarm);
      return answer;
    },
  );

  app.post(
    '/api/alarms/ack',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['alarms'],
        summary: 'Acknowledge many alarms with one note (an offline storm)',
        description:
          'Each alarm is acknowledged as by POST /api/alarms/:id/ack. One that cannot be (not found, outside your area, acknowledged already) is listed with why; the others are acknowledged all the same.',
        body: BulkAckBody,
        response: {
          200: z.object({
            acknowledged: z.array(AlarmSchema),
            refused: z.array(ErrorSchema.extend({ id: z.string() })),
            stored: z.boolean(),
          }),
          400: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request) => {
      const by = auditActor(request);
      const { note } = request.body;
      const acknowledged: Alarm[] = [];
      const refused: { id: string; error: string; message: string }[] = [];
      let stored = true;
      for (const id of new Set(request.body.ids)) {
        try {
          const before = visibleAlarm(request, id);
          const answer = await engine.acknowledge(id, { actor: by.actor, note });
          acknowledged.push(answer.alarm);
          stored &&= answer.stored;
          auditAck(by, before, answer.alarm);
        } catch (err) {
          if (!(err instanceof AlarmError) || err.statusCode === 503) throw err;
          refused.push({ id, error: err.code, message: err.message });
        }
      }
      return { acknowledged, refused, stored };
    },
  );

  app.post(
    '/api/alarms/:id/resolve',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['alarms'],
        summary: 'Resolve an alarm with a reason code',
        description:
          'Acknowledges it first if nobody has. An alarm whose condition still holds stays open (acknowledged, resolved) until the reading clears.',
        params: IdParams,
        body: ResolveBody,
        response: {
          200: ActionAnswerSchema,
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
      const answer = await engine.resolve(before.id, { actor: by.actor, ...request.body });
      auth.auditLater.append({
        ts: app.clock(),
        ...by,
        action: 'alarm.resolve',
        target: { kind: 'alarm', id: before.id },
        before: { state: before.state },
        after: { state: answer.alarm.state, reason: request.body.reason, note: request.body.note },
      });
      return answer;
    },
  );

  app.post(
    '/api/alarms/:id/responses',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['alarms'],
        summary: 'Log a call to a contact, or "on my way" / "on site"',
        description:
          '"on my way" and "on site" acknowledge an alarm nobody has acknowledged yet (someone is handling it).',
        params: IdParams,
        body: ResponseBody,
        response: {
          200: ActionAnswerSchema,
          400: ErrorSchema,
          404: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request) => {
      const before = visibleAlarm(request, request.params.id);
      const by = auditActor(request);
      const answer = await engine.respond(before.id, { ...request.body, actor: by.actor });
      auth.auditLater.append({
        ts: app.clock(),
        ...by,
        action: `alarm.${request.body.kind}`,
        target: { kind: 'alarm', id: before.id },
        before: { state: before.state },
        after: { state: answer.alarm.state, ...request.body },
      });
      return answer;
    },
  );
};

export default alarmRoutes;
