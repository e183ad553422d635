import {
  AreaIdSchema,
  EvacuationAckInputSchema,
  GasTestInputSchema,
  GasTestSchema,
  IdSchema,
  MonitoringInputSchema,
  PERMIT_ACTIONS,
  PERMIT_KINDS,
  PERMIT_STATES,
  type PermitAction,
  PermitDetailSchema,
  PermitInputSchema,
  PermitPatchSchema,
  PermitSchema,
  PlacementInputSchema,
  TERMINAL_PERMIT_STATES,
  TestReadingInputSchema,
} from '@gaswatch/shared';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../auth/principal.js';
import { visibleAreas } from '../auth/scope.js';
import { appendAudit } from '../db/audit.js';
import { notificationsOfAlarm } from '../db/notifications.js';
import { deletePermit, getPermit, listPermits, PermitNotFoundError } from '../db/permits.js';
import type { PermitsTable } from '../db/schema.js';
import { getSpace, SpaceNotFoundError } from '../db/spaces.js';
import { HttpError } from '../errors.js';
import { toRecord } from '../notify/record.js';
import { permitRecord } from '../permits/evacuation-notice.js';
import { permitPdf } from '../permits/pdf.js';
import type { Caller } from '../permits/service.js';
import { ZoneClock } from '../zone.js';
import { AreaOutsideError } from './household-query.js';
import {
  ErrorSchema,
  IsoTimeSchema,
  limitSchema,
  NotificationsPageSchema,
  NotificationsQuery,
} from './schemas.js';

const ListQuery = z
  .object({
    space: IdSchema.optional().describe('Permits of that confined space'),
    area: AreaIdSchema.optional().describe('Permits in that area and the areas within it'),
    state: z
      .enum([...PERMIT_STATES, 'open'])
      .optional()
      .describe('One state, or open: every state but closed, cancelled and expired'),
    kind: z.enum(PERMIT_KINDS).optional(),
    from: IsoTimeSchema.optional().describe('Planned window ending at or after this'),
    to: IsoTimeSchema.optional().describe('Planned window starting before this'),
    person: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .optional()
      .describe('Part of a name (or username) on the permit: applicant, crew, attendant, signers'),
    limit: limitSchema(200, 50, 'permits'),
    cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
  })
  .strict();

const IdParams = z.object({ id: IdSchema }).strict();
const TestParams = z.object({ id: IdSchema, testId: IdSchema }).strict();
const MeasureParams = z.object({ id: IdSchema, n: z.coerce.number().int().min(1).max(60) }).strict();
const ActionParams = z
  .object({ id: IdSchema, action: z.enum(PERMIT_ACTIONS as unknown as [PermitAction, ...PermitAction[]]) })
  .strict();
const ActionBody = z
  .object({
    note: z.string().trim().max(1000).default('').describe('Opinion, reason, or for close the acceptance'),
    monitor: z
      .union([
        z.object({ device: IdSchema }).strict(),
        z.object({ instrument: z.string().trim().min(1).max(64) }).strict(),
      ])
      .optional()
      .describe("start: what watches the work, if not the last passed test's detector"),
  })
  .strict();
const PdfQuery = z.object({ lang: z.enum(['zh-CN', 'en']).default('zh-CN') }).strict();

const PermitAnswer = z.object({ permit: PermitSchema });
const TestAnswer = z.object({ permit: PermitSchema, test: GasTestSchema });

/**
 * Confined-space entry and hot-work permits (SPEC §7, issue 14; docs/permits.md "Workflow"):
 * drawn up by an operator, approved by a supervisor, tested, started, watched, closed. Every state
 * change is an action route recorded as a signed, timed record of the caller; GET /api/permits/:id
 * answers the permit with its tests, records and the caller's next actions with reasons. Scoped
 * like households: a permit outside the caller's area is 404.
 */
const permitRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, auth, permits } = app;
  const zone = new ZoneClock(app.config.timeZone);
  const caller = (request: FastifyRequest): Caller => ({
    principal: principalOf(request),
    address: request.ip,
  });

  async function visible(request: FastifyRequest, id: string): Promise<PermitsTable> {
    const p = await getPermit(db, id);
    if (p === undefined || !auth.canSee(principalOf(request), p.area)) throw new PermitNotFoundError(id);
    return p;
  }

  app.get(
    '/api/permits',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['permits'],
        summary: 'Permits of your area, newest drawn up first, by space, state, kind, window and person',
        querystring: ListQuery,
        response: {
          200: z.object({
            permits: z.array(PermitSchema),
            total: z.number(),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const who = principalOf(request);
      let areas = visibleAreas(app, who);
      if (q.area !== undefined) {
        if (!auth.areas.has(q.area) || !auth.areas.within(q.area, who.area))
          throw new AreaOutsideError(q.area);
        areas = auth.areas.subtree(q.area);
      }
      if (q.space !== undefined) {
        const s = await getSpace(db, q.space);
        if (s === undefined || !auth.canSee(who, s.area)) throw new SpaceNotFoundError(q.space);
      }
      const from = q.from === undefined ? undefined : Date.parse(q.from);
      const to = q.to === undefined ? undefined : Date.parse(q.to);
      if (from !== undefined && to !== undefined && from > to)
        throw new HttpError(400, 'bad_range', `from ${q.from} is after to ${q.to}`);
      const states =
        q.state === undefined
          ? undefined
          : q.state === 'open'
            ? PERMIT_STATES.filter((s) => !(TERMINAL_PERMIT_STATES as readonly string[]).includes(s))
            : [q.state];
      const page = await listPermits(db, {
        areas,
        space: q.space,
        states,
        kind: q.kind,
        from,
        to,
        person: q.person,
        limit: q.limit,
        cursor: q.cursor,
      });
      return {
        permits: await permits.views(page.rows),
        total: page.total,
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/api/permits/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['permits'],
        summary: 'A permit with its signed records, gas tests, monitoring and what you may do next',
        params: IdParams,
        response: { 200: PermitDetailSchema, 404: ErrorSchema },
      },
    },
    async (request) => permits.detail(await visible(request, request.params.id), caller(request)),
  );

  app.get(
    '/api/permits/:id/notifications',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['permits'],
        summary: "The permit's evacuation alerts by message: who was told, how, and what became of each",
        description:
          'In the order they were queued: each stop of the work told its attendant, applicant and the first step of its site\u2019s chain (notify.evacuation). Each is one message to one person, as an alarm\u2019s notifications are.',
        params: IdParams,
        querystring: NotificationsQuery,
        response: { 200: NotificationsPageSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const row = await visible(request, request.params.id);
      const page = await notificationsOfAlarm(app.db, permitRecord(row.id), request.query);
      return { notifications: page.rows.map(toRecord), total: page.total, nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/permits',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['permits'],
        summary: 'Draw up a permit (a draft): the form of GB 30871-2022 annex A',
        body: PermitInputSchema,
        response: { 201: PermitAnswer, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const row = await permits.create(request.body, caller(request));
      return reply.code(201).send({ permit: await permits.view(row) });
    },
  );

  app.patch(
    '/api/permits/:id',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['permits'],
        summary: 'Change a draft (changed safety measures must be confirmed again)',
        params: IdParams,
        body: PermitPatchSchema,
        response: { 200: PermitAnswer, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      const row = await permits.update(request.params.id, request.body, caller(request));
      return { permit: await permits.view(row) };
    },
  );

  app.post(
    '/api/permits/:id/measures/:n/confirm',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['permits'],
        summary: 'Confirm a safety measure as done, signed by you now',
        params: MeasureParams,
        response: { 200: PermitAnswer, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      const row = await permits.confirmMeasure(request.params.id, request.params.n, caller(request));
      return { permit: await permits.view(row) };
    },
  );

  app.post(
    '/api/permits/:id/actions/:action',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['permits'],
        summary:
          'Change the state: approve (supervisor), start, suspend, resume, close (the acceptance), cancel; signed by you',
        description:
          'Refused with 409 and the reason (invalid_transition, test_too_old, interruption_too_long, evacuated, …) when the state machine or the rule set does not allow it now; GET /api/permits/:id lists what is allowed.',
        params: ActionParams,
        body: ActionBody,
        response: {
          200: PermitDetailSchema,
          400: ErrorSchema,
          403: ErrorSchema,
          404: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      const { action } = request.params;
      const body = request.body;
      if ((action === 'close' || action === 'cancel') && body.note === '')
        throw new HttpError(
          400,
          'bad_request',
          action === 'close'
            ? 'note: the acceptance at close-out says what was checked (site cleared, everyone out)'
            : 'note: say why the permit is cancelled',
        );
      const row = await permits.act(request.params.id, action, body, caller(request));
      return permits.detail(row, caller(request));
    },
  );

  app.post(
    '/api/permits/:id/tests',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['permits'],
        summary: 'Start a gas test with a detector on a gateway (live) or a portable instrument (typed in)',
        params: IdParams,
        body: GasTestInputSchema,
        response: { 201: TestAnswer, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      await visible(request, request.params.id);
      const r = await permits.startTest(request.params.id, request.body, caller(request));
      return reply.code(201).send({ permit: await permits.view(r.permit), test: r.test });
    },
  );

  app.get(
    '/api/permits/:id/tests/:testId',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['permits'],
        summary: 'A gas test with its steps, placements and readings',
        params: TestParams,
        response: { 200: z.object({ test: GasTestSchema }), 404: ErrorSchema },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      return { test: await permits.testView(request.params.id, request.params.testId) };
    },
  );

  app.post(
    '/api/permits/:id/tests/:testId/placements',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['permits'],
        summary: 'The detector (or its probe) is at this position now: its response time starts',
        params: TestParams,
        body: PlacementInputSchema,
        response: { 200: TestAnswer, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      const r = await permits.place(
        request.params.id,
        request.params.testId,
        request.body.position,
        caller(request),
      );
      return { permit: await permits.view(r.permit), test: r.test };
    },
  );

  app.post(
    '/api/permits/:id/tests/:testId/readings',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['permits'],
        summary:
          "Record the position's readings: the detector's settled reading, or the instrument's typed; judged at once",
        params: TestParams,
        body: TestReadingInputSchema,
        response: { 200: TestAnswer, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      const r = await permits.recordReading(
        request.params.id,
        request.params.testId,
        request.body,
        caller(request),
      );
      return { permit: await permits.view(r.permit), test: r.test };
    },
  );

  app.post(
    '/api/permits/:id/monitoring',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['permits'],
        summary:
          'Record a reading of the portable instrument watching the work (a failing one stops the work)',
        params: IdParams,
        body: MonitoringInputSchema,
        response: { 200: PermitAnswer, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      const row = await permits.recordMonitoring(request.params.id, request.body, caller(request));
      return { permit: await permits.view(row) };
    },
  );

  app.get(
    '/api/permits/:id/pdf',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['permits'],
        summary: "The permit as a PDF in the layout of the standard's form, with every gas test",
        params: IdParams,
        querystring: PdfQuery,
        response: {
          200: { description: 'The PDF', content: { 'application/pdf': { schema: z.string() } } },
          404: ErrorSchema,
          503: ErrorSchema.describe(
            'pdf_font_missing: no CJK font on the server (the message names the package)',
          ),
        },
      },
    },
    async (request, reply) => {
      const row = await visible(request, request.params.id);
      const detail = await permits.detail(row, caller(request));
      const pdf = await permitPdf(detail, request.query.lang, zone, app.clock());
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="gaswatch-permit-${row.id}.pdf"`)
        .header('cache-control', 'no-store')
        .send(pdf as unknown as string);
    },
  );

  app.delete(
    '/api/permits/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['permits'],
        summary: 'Delete a closed, cancelled or expired permit whose keeping time has passed',
        params: IdParams,
        response: {
          204: z.null().describe('Deleted'),
          404: ErrorSchema,
          409: ErrorSchema.describe('records_kept'),
        },
      },
    },
    async (request, reply) => {
      const row = await visible(request, request.params.id);
      const now = app.clock();
      await db.transaction().execute(async (tx) => {
        await deletePermit(tx, row.id, now);
        await appendAudit(tx, {
          ts: now,
          actor: principalOf(request).id,
          actorKind: principalOf(request).kind,
          address: request.ip,
          action: 'permit.delete',
          target: { kind: 'permit', id: row.id },
          before: { state: row.state, keepUntil: row.keep_until },
        });
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/permits/:id/evacuation/ack',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['permits'],
        summary: "Acknowledge the permit's evacuation alert: the banner and sound stop on every console",
        description:
          'Recorded as the audit row permit.evacuation_ack of the caller and pushed as a permit event of kind evacuation_ack; the sounder at the site stays on until a silence. Acknowledging it again changes nothing. 409 stale_evacuation when the permit is no longer in the evacuation of that record.',
        params: IdParams,
        body: EvacuationAckInputSchema,
        response: { 200: PermitAnswer, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      const row = await permits.acknowledge(request.params.id, request.body.seq, caller(request));
      return { permit: await permits.view(row) };
    },
  );
};

export default permitRoutes;
