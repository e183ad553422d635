import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CONTENT_TYPES, EXPORT_FORMATS, exportFileName, exportStream } from '../alarm-export/export.js';
import { EXPORT_LANGS } from '../alarm-export/labels.js';
import { AlarmDetailSchema, AlarmRowSchema, alarmRow } from '../alarms/detail-schema.js';
import type { AlarmEngine } from '../alarms/engine.js';
import { AlarmError } from '../alarms/errors.js';
import { type Alarm, CALL_OUTCOMES, RESOLUTION_REASONS } from '../alarms/model.js';
import { responseMilestones } from '../alarms/response.js';
import { own } from '../alarms/select.js';
import { auditActor, principalOf } from '../auth/principal.js';
import { getHousehold } from '../db/households.js';
import { latestNotificationsOfAlarm, notificationsOfAlarm, notifiedMilestones } from '../db/notifications.js';
import { tokenNames } from '../db/tokens.js';
import { displayNames } from '../db/users.js';
import { HttpError } from '../errors.js';
import { toRecord } from '../notify/record.js';
import { withTimeout } from '../timers.js';
import { canonicalZone, DEFAULT_TZ, ZoneClock } from '../zone.js';
import { AlarmFilterFields, alarmFilterOf, rangeOf } from './alarm-query.js';
import { ErrorSchema, limitSchema, NotificationsPageSchema, NotificationsQuery } from './schemas.js';

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

const ExportQuery = z
  .object({
    ...AlarmFilterFields,
    format: z.enum(EXPORT_FORMATS).default('xlsx').describe('xlsx (Excel) | csv (UTF-8 with BOM)'),
    lang: z
      .enum(EXPORT_LANGS)
      .default('zh-CN')
      .describe('Language of the headers and of kind, gas, severity, state and reason: zh-CN | en'),
    tz: z
      .string()
      .min(1)
      .max(64)
      .default(DEFAULT_TZ)
      .describe(
        'IANA time zone the times are written in (XLSX: Excel dates of its wall clock; CSV: ISO 8601 with its offset)',
      ),
  })
  .strict();

/** Exports written at once: each is seconds of CPU at the row cap, on a machine that runs the alarms. */
const EXPORTS_AT_ONCE = 2;

const IdParams = z.object({ id: z.string().min(1).max(200).describe('Alarm id') }).strict();

/** The response card's notifications panel shows this many, the latest. */
const CARD_NOTIFICATIONS = 100;

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
  alarm: AlarmRowSchema,
  stored: z.boolean().describe('It reached the database before the answer'),
  silence: SilenceAnswerSchema.nullable().describe('The sounder silence, when this acknowledged the alarm'),
});

const AckAnswerSchema = z.object({
  alarm: AlarmRowSchema,
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

  /** An alarm as answered: with its household's summary. */
  const row = (a: Alarm) => alarmRow(a, app.households.ofDevice);

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
            alarms: z.array(AlarmRowSchema),
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
        alarms: page.alarms.map(row),
        total: page.total,
        nextCursor: page.next === null ? null : `${page.next.raisedAt}_${page.next.id}`,
      };
    },
  );

  let exporting = 0;
  app.get(
    '/api/alarms/export',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['alarms'],
        summary: 'The alarm history as an XLSX or CSV file, filtered as the list is',
        description:
          'Every alarm the filters match in your area, oldest raise first, as an attachment. A filter matching more alarms than EXPORT_MAX_ROWS (100 000) is refused: narrow it.',
        querystring: ExportQuery,
        response: {
          200: {
            description:
              'The file (Content-Disposition: attachment; filename="gaswatch-alarms-<from>-<to>.<format>")',
            content: {
              [CONTENT_TYPES.xlsx]: { schema: z.string().describe('XLSX workbook (binary)') },
              [CONTENT_TYPES.csv]: { schema: z.string().describe('RFC 4180 CSV, UTF-8 with BOM') },
            },
          },
          400: ErrorSchema.describe(
            'bad_request, bad_range (from after to), unknown_area, unknown_time_zone, export_too_large',
          ),
          503: ErrorSchema.describe('alarms_loading, export_busy'),
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const caller = principalOf(request);
      const tz = canonicalZone(q.tz);
      if (tz === null)
        throw new HttpError(
          400,
          'unknown_time_zone',
          `no time zone ${q.tz} (an IANA name, e.g. Asia/Shanghai)`,
        );
      const filter = alarmFilterOf(app, caller, q);
      const max = app.config.exportMaxRows;
      const selection = engine.select({ ...filter, limit: max });
      if (selection.total > max)
        throw new HttpError(
          400,
          'export_too_large',
          `${selection.total} alarms match; one export holds at most ${max}: narrow the filter (a shorter time range, an area, a kind, an outcome)`,
        );
      const names = await actorNames(request);
      if (exporting >= EXPORTS_AT_ONCE)
        return reply
          .code(503)
          .header('retry-after', '10')
          .send({
            error: 'export_busy',
            message: `${exporting} exports are being written; try again in a few seconds`,
          });
      const zone = new ZoneClock(tz);
      const now = app.clock();
      const sites = app.config.gaswatch.sites;
      const areaName = (id: string) => auth.areas.nameOf(id) ?? id;
      const stream = exportStream(
        {
          format: q.format,
          lang: q.lang,
          zone,
          // The book's order is newest first; a ledger reads down the week.
          alarms: selection.alarms.reverse(),
          names: {
            area: (a) => {
              const id = auth.areaOf(a);
              return id === null ? '' : areaName(id);
            },
            areaName,
            site: (id) => (id === null ? '' : (own(sites, id)?.name ?? id)),
            actor: names,
          },
          exportedAt: now,
          exportedBy: caller.name,
          filter: q,
        },
        request.log,
      );
      exporting++;
      stream.once('close', () => exporting--);
      request.log.info({ rows: selection.total, format: q.format, lang: q.lang }, 'alarm history export');
      const file = exportFileName(q.format, zone, rangeOf(q), now);
      return reply
        .type(CONTENT_TYPES[q.format])
        .header('content-disposition', `attachment; filename="${file}"`)
        .header('cache-control', 'no-store')
        .send(stream as unknown as string); // a stream: Fastify pipes it, no serialiser runs
    },
  );

  /** Display names of users and names of tokens, for an export's "acknowledged by"; ids if the database fails. */
  async function actorNames(request: FastifyRequest): Promise<(id: string) => string> {
    try {
      const [users, tokens] = await Promise.all([displayNames(app.db), tokenNames(app.db)]);
      return (id) => users.get(id) ?? tokens.get(id) ?? id;
    } catch (err) {
      request.log.warn({ err }, 'names of users unavailable: the export shows the recorded ids');
      return (id) => id;
    }
  }

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
      const home = app.households.ofDevice(alarm.dev);
      // The card answers while the database is down (the alarm lives in memory): without its
      // notifications then, rather than not at all.
      const sent = await withTimeout(
        Promise.all([
          latestNotificationsOfAlarm(app.db, alarm.id, CARD_NOTIFICATIONS),
          notifiedMilestones(app.db, [alarm.id]),
        ]),
        2_000,
        'reading the notifications',
      )
        .then(([latest, milestones]) => ({
          ...latest,
          response: responseMilestones(alarm, milestones.get(alarm.id)),
        }))
        .catch((err: unknown) => {
          request.log.warn({ err, alarmId: alarm.id }, 'notifications unavailable: the card shows none');
          return { rows: [], total: 0, response: null };
        });
      return {
        alarm: row(alarm),
        events: await engine.history(alarm.id),
        ...engine.responseInfo(alarm),
        household: home === undefined ? null : ((await getHousehold(app.db, home.id)) ?? null),
        notifications: sent.rows.map(toRecord),
        notificationsTotal: sent.total,
        response: sent.response,
      };
    },
  );

  app.get(
    '/api/alarms/:id/notifications',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['alarms'],
        summary: 'Every notification of an alarm: who was told, how, and what became of it',
        description:
          'In the order they were queued. Each is one message to one contact: its step of the chain, channel, the text, when it was queued, sent, delivered, answered or failed, the provider id, and its outcome.',
        params: IdParams,
        querystring: NotificationsQuery,
        response: {
          200: NotificationsPageSchema,
          400: ErrorSchema,
          404: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request) => {
      const alarm = visibleAlarm(request, request.params.id);
      const page = await notificationsOfAlarm(app.db, alarm.id, request.query);
      return { notifications: page.rows.map(toRecord), total: page.total, nextCursor: page.nextCursor };
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
      return { ...answer, alarm: row(answer.alarm) };
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
            acknowledged: z.array(AlarmRowSchema),
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
          acknowledged.push(row(answer.alarm));
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
      return { ...answer, alarm: row(answer.alarm) };
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
      return { ...answer, alarm: row(answer.alarm) };
    },
  );
};

export default alarmRoutes;
