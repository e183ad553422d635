import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Alarm } from '../alarms/model.js';
import { auditActor, type Principal, principalOf } from '../auth/principal.js';
import { visibleAreas } from '../auth/scope.js';
import { appendAudit } from '../db/audit.js';
import {
  confirmShift,
  findShift,
  insertShift,
  lastShift,
  listShifts,
  ShiftNotFoundError,
  shiftStart,
} from '../db/shifts.js';
import { ServerError } from '../errors.js';
import { concernsShift, shiftReport, shiftWindow } from '../reports/shift-report.js';
import {
  CurrentShiftSchema,
  type Shift,
  ShiftPageSchema,
  ShiftSchema,
  toShift,
} from '../reports/shift-schema.js';
import { alarmsReady } from './alarms.js';
import { ErrorSchema, limitSchema } from './schemas.js';

const NoteBody = (what: string) =>
  z
    .object({ note: z.string().max(4000).default('').describe(what) })
    .strict()
    .nullish()
    .describe(
      'Optional: a POST without a body has an empty note. Who it is is the logged-in user (or the token)',
    );

const IdParams = z.object({ id: z.string().min(1).max(64).describe('Shift id') }).strict();

const ListQuery = z
  .object({
    limit: limitSchema(100, 20, 'handovers, newest first (each with its report)'),
    cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
  })
  .strict();

class ShiftConflictError extends ServerError {
  constructor(code: string, message: string) {
    super(code, message, { statusCode: 409 });
  }
}

/**
 * The alarms `p` may see (SPEC §9) that `keep` accepts, newest raise first. Filtered before the
 * engine copies them, so a report copies only what it counts.
 */
export function alarmsSeenBy(app: FastifyInstance, p: Principal, keep: (a: Alarm) => boolean): Alarm[] {
  return app.alarms.list({
    visible: (a) => keep(a) && app.auth.canSee(p, app.auth.areaOf(a)),
    limit: Number.MAX_SAFE_INTEGER,
  });
}

const head = (s: Shift) => {
  const { report: _, ...rest } = s;
  return rest;
};

/**
 * Shift handover of a duty room (issue 12, SPEC §13): the report of the shift in progress, the
 * outgoing operator's handover (the report kept as it stood), the incoming one's confirmation.
 * Each area's duty room hands over on its own: a shift belongs to its outgoing operator's area
 * and runs from that area's previous handover.
 */
const shiftRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, clock } = app;
  const ready = alarmsReady(app.alarms);

  const report = (p: Principal, startedAt: number, endedAt: number) => {
    const w = shiftWindow(startedAt, endedAt);
    return shiftReport(
      alarmsSeenBy(app, p, (a) => concernsShift(a, w)),
      startedAt,
      endedAt,
    );
  };

  /** The shift, or 404 when there is none or it lies outside the caller's area (the same answer). */
  async function visibleShift(p: Principal, id: string) {
    const row = await findShift(db, id);
    if (row === undefined || !app.auth.areas.within(row.area, p.area)) throw new ShiftNotFoundError(id);
    return row;
  }

  app.get(
    '/api/shifts/current',
    {
      config: { access: 'viewer' },
      preHandler: ready,
      schema: {
        tags: ['shifts'],
        summary: 'The report of the shift in progress in your area, as of now',
        response: {
          200: CurrentShiftSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const now = clock();
      const last = await lastShift(db, p.area);
      const startedAt = shiftStart(last, now);
      return {
        area: p.area,
        startedAt: new Date(startedAt).toISOString(),
        previous: last === undefined ? null : head(toShift(last)),
        report: report(p, startedAt, now),
      };
    },
  );

  app.post(
    '/api/shifts/handover',
    {
      config: { access: 'operator' },
      preHandler: ready,
      schema: {
        tags: ['shifts'],
        summary: 'Hands over the shift in progress in your area, keeping its report as it stands now',
        body: NoteBody(
          'What the incoming operator must know: alarms to follow up, calls promised, devices to check',
        ),
        response: { 201: z.object({ shift: ShiftSchema }), 400: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const by = auditActor(request);
      const note = request.body?.note ?? '';
      const row = await db.transaction().execute(async (tx) => {
        const now = clock();
        const startedAt = shiftStart(await lastShift(tx, p.area), now);
        const r = await insertShift(tx, {
          area: p.area,
          startedAt,
          endedAt: now,
          handedOverBy: p.id,
          note,
          report: report(p, startedAt, now),
        });
        const s = toShift(r);
        await appendAudit(tx, {
          ts: now,
          ...by,
          action: 'shift.handover',
          target: { kind: 'shift', id: r.id },
          after: {
            area: s.area,
            startedAt: s.startedAt,
            endedAt: s.endedAt,
            note,
            raised: s.report.raised,
            acknowledged: s.report.acknowledged,
            resolved: s.report.resolved,
            open: s.report.open,
          },
        });
        return r;
      });
      return reply.code(201).send({ shift: toShift(row) });
    },
  );

  app.post(
    '/api/shifts/:id/confirm',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['shifts'],
        summary: 'The incoming operator confirms taking over a handed-over shift',
        description:
          'By someone other than who handed it over, once. 409 shift_already_confirmed, 409 own_handover; 404 outside your area.',
        params: IdParams,
        body: NoteBody('Anything the incoming operator found missing or wants on record'),
        response: {
          200: z.object({ shift: ShiftSchema }),
          400: ErrorSchema,
          404: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const by = auditActor(request);
      const note = request.body?.note ?? '';
      const before = await visibleShift(p, request.params.id);
      const confirmed = () =>
        new ShiftConflictError(
          'shift_already_confirmed',
          `shift ${before.id} was confirmed already by ${before.confirmed_by ?? 'someone else'}`,
        );
      if (before.confirmed_at !== null) throw confirmed();
      if (before.handed_over_by === p.id)
        throw new ShiftConflictError(
          'own_handover',
          'you handed this shift over: the incoming operator confirms it, logged in as themselves',
        );
      const row = await db.transaction().execute(async (tx) => {
        const now = clock();
        const r = await confirmShift(tx, before.id, { by: p.id, at: now, note });
        if (r === undefined) {
          const latest = await findShift(tx, before.id);
          throw new ShiftConflictError(
            'shift_already_confirmed',
            `shift ${before.id} was confirmed already by ${latest?.confirmed_by ?? 'someone else'}`,
          );
        }
        await appendAudit(tx, {
          ts: now,
          ...by,
          action: 'shift.confirm',
          target: { kind: 'shift', id: before.id },
          before: { confirmation: null },
          after: { confirmation: { by: p.id, note } },
        });
        return r;
      });
      return { shift: toShift(row) };
    },
  );

  app.get(
    '/api/shifts',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['shifts'],
        summary: 'Handovers in your area, newest first, each with its report',
        querystring: ListQuery,
        response: {
          200: ShiftPageSchema,
          400: ErrorSchema,
        },
      },
    },
    async (request) => {
      const page = await listShifts(db, {
        ...request.query,
        areas: visibleAreas(app, principalOf(request)),
      });
      return { shifts: page.rows.map(toShift), total: page.total, nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/shifts/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['shifts'],
        summary: 'One handover and its report',
        params: IdParams,
        response: { 200: z.object({ shift: ShiftSchema }), 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => ({ shift: toShift(await visibleShift(principalOf(request), request.params.id)) }),
  );
};

export default shiftRoutes;
