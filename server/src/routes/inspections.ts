import {
  AreaIdSchema,
  DaySchema,
  IdSchema,
  INSPECTION_ITEMS,
  type Inspection,
  InspectionInputSchema,
  InspectionPatchSchema,
  InspectionPhotoSchema,
  type InspectionProblem,
  InspectionSchema,
  inspectionProblems,
  PHOTO_MAX_BYTES,
  PHOTO_TYPES,
  type Rectification,
} from '@gaswatch/shared';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditActor, principalOf } from '../auth/principal.js';
import { visibleAreas } from '../auth/scope.js';
import { appendAudit } from '../db/audit.js';
import { getHousehold, HouseholdNotFoundError } from '../db/households.js';
import {
  CURSOR_PATTERN,
  getInspection,
  getPhoto,
  InspectionNotFoundError,
  insertInspection,
  insertPhoto,
  listInspections,
  PhotoNotFoundError,
  photosOf,
  rectificationOf,
  toInspection,
  updateInspection,
} from '../db/inspections.js';
import type { InspectionsTable } from '../db/schema.js';
import { HttpError, ServerError } from '../errors.js';
import { photoType } from '../inspections/photo-type.js';
import { ZoneClock } from '../zone.js';
import { ErrorSchema, limitSchema } from './schemas.js';

const ListQuery = z
  .object({
    household: IdSchema.optional().describe('Visits of that household'),
    area: AreaIdSchema.optional().describe('Visits in that area and the areas within it'),
    from: DaySchema.optional().describe('Visits on or after this day'),
    to: DaySchema.optional().describe('Visits on or before this day'),
    overdue: z
      .enum(['true', 'false'])
      .optional()
      .describe(
        'true: only pending rectifications past their deadline, oldest deadline first; false: only the others',
      ),
    limit: limitSchema(500, 50, 'inspections'),
    cursor: z.string().regex(CURSOR_PATTERN).optional().describe('nextCursor of the previous page'),
  })
  .strict();

const IdParams = z.object({ id: IdSchema }).strict();
const PhotoParams = z.object({ id: IdSchema, photoId: IdSchema }).strict();
const PhotoQuery = z
  .object({ item: z.enum(INSPECTION_ITEMS).describe('The checklist item the photo shows') })
  .strict();

const InspectionAnswer = z.object({ inspection: InspectionSchema });

class AreaOutsideError extends ServerError {
  constructor(area: string) {
    super('unknown_area', `no area ${area} within your area (GET /api/areas lists them)`, {
      statusCode: 400,
    });
  }
}

/** The same `path: message; …` a schema's refusal says (plugins/http.ts). */
function badRequest(problems: readonly InspectionProblem[]): HttpError {
  return new HttpError(
    400,
    'bad_request',
    problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; '),
  );
}

const EXTENSIONS: Record<(typeof PHOTO_TYPES)[number], string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
};

/**
 * Home visits (issue 13, SPEC §10): an operator records what a visit found, item by item of the
 * checklist, with photos and a rectification deadline, and later its outcome. Scoped like
 * households: an inspection is seen by the callers who see the area its household was in when it
 * was recorded, 404 to the others. "Today" is the server's local day (TIME_ZONE).
 */
const inspectionRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, auth, clock } = app;
  const zone = new ZoneClock(app.config.timeZone);
  const today = () => zone.day(clock());

  // Photos come as the raw image (the console sends the file itself, no multipart). Within this
  // plugin only: every other route keeps to JSON. What the bytes are is checked by the route.
  app.addContentTypeParser(
    [...PHOTO_TYPES, 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: PHOTO_MAX_BYTES },
    (_request, body, done) => done(null, body),
  );

  /** The inspection, or 404 when there is none or it lies outside the caller's area (the same). */
  async function visible(request: FastifyRequest, id: string): Promise<InspectionsTable> {
    const row = await getInspection(db, id);
    if (row === undefined || !auth.canSee(principalOf(request), row.area))
      throw new InspectionNotFoundError(id);
    return row;
  }

  async function answer(row: InspectionsTable): Promise<Inspection> {
    return toInspection(row, (await photosOf(db, [row.id])).get(row.id) ?? [], today());
  }

  app.get(
    '/api/inspections',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['inspections'],
        summary: 'Home visits of your area, newest first; with overdue=true the overdue rectifications',
        querystring: ListQuery,
        response: {
          200: z.object({
            inspections: z.array(InspectionSchema),
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
      const caller = principalOf(request);
      let areas = visibleAreas(app, caller);
      if (q.area !== undefined) {
        if (!auth.areas.has(q.area) || !auth.areas.within(q.area, caller.area))
          throw new AreaOutsideError(q.area);
        areas = auth.areas.subtree(q.area);
      }
      if (q.household !== undefined) {
        const h = await getHousehold(db, q.household);
        if (h === undefined || !auth.canSee(caller, h.area)) throw new HouseholdNotFoundError(q.household);
      }
      if (q.from !== undefined && q.to !== undefined && q.from > q.to)
        throw new HttpError(400, 'bad_range', `from ${q.from} is after to ${q.to}`);
      const day = today();
      const page = await listInspections(db, {
        areas,
        household: q.household,
        from: q.from,
        to: q.to,
        overdue: q.overdue === undefined ? undefined : { today: day, is: q.overdue === 'true' },
        limit: q.limit,
        cursor: q.cursor,
      });
      const photos = await photosOf(
        db,
        page.rows.map((r) => r.id),
      );
      return {
        inspections: page.rows.map((r) => toInspection(r, photos.get(r.id) ?? [], day)),
        total: page.total,
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/api/inspections/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['inspections'],
        summary: 'One home visit with its checklist, photos and rectification',
        params: IdParams,
        response: { 200: InspectionAnswer, 404: ErrorSchema },
      },
    },
    async (request) => ({ inspection: await answer(await visible(request, request.params.id)) }),
  );

  app.post(
    '/api/inspections',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['inspections'],
        summary:
          'Record a home visit: the checklist as ticked, and a rectification deadline if a hazard was found',
        body: InspectionInputSchema,
        response: { 201: InspectionAnswer, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const input = request.body;
      const h = await getHousehold(db, input.household);
      if (h === undefined || !auth.canSee(principalOf(request), h.area))
        throw new HouseholdNotFoundError(input.household);
      const problems = inspectionProblems(input, today());
      if (problems.length > 0) throw badRequest(problems);
      const now = clock();
      const row = await db.transaction().execute(async (tx) => {
        const r = await insertInspection(
          tx,
          { ...input, area: h.area, createdBy: principalOf(request).id },
          now,
        );
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'inspection.create',
          target: { kind: 'inspection', id: r.id },
          after: { ...input, area: h.area },
        });
        return r;
      });
      return reply.code(201).send({ inspection: await answer(row) });
    },
  );

  app.patch(
    '/api/inspections/:id',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['inspections'],
        summary: "Change a visit's rectification (outcome, the day, the deadline, its note) or its note",
        params: IdParams,
        body: InspectionPatchSchema,
        response: { 200: InspectionAnswer, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => {
      const before = await visible(request, request.params.id);
      const was = rectificationOf(before);
      const change = request.body.rectification;
      let rectification: Rectification | null = was;
      const day = today();
      if (change !== undefined) {
        if (was === null)
          throw new HttpError(
            409,
            'nothing_to_rectify',
            `inspection ${before.id} found no hazard: it has no rectification`,
          );
        const next = { ...was, ...change };
        // Marked rectified without a day: today. Marked anything else: the day goes.
        if (change.outcome !== undefined && change.rectifiedOn === undefined)
          next.rectifiedOn = change.outcome === 'rectified' ? (was.rectifiedOn ?? day) : null;
        rectification = next;
      }
      // The visit's own date was checked when it was recorded: a clock set back does not refuse it now.
      const problems = inspectionProblems(
        { date: before.date, items: JSON.parse(before.items), rectification },
        day,
      ).filter((p) => p.path[0] !== 'date');
      if (problems.length > 0) throw badRequest(problems);
      const note = request.body.note ?? before.note;
      const now = clock();
      const row = await db.transaction().execute(async (tx) => {
        const r = await updateInspection(tx, before.id, { rectification, note }, now);
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'inspection.update',
          target: { kind: 'inspection', id: before.id },
          before: { rectification: was, note: before.note },
          after: { rectification, note },
        });
        return r;
      });
      return { inspection: await answer(row) };
    },
  );

  app.post(
    '/api/inspections/:id/photos',
    {
      config: { access: 'operator' },
      bodyLimit: PHOTO_MAX_BYTES,
      schema: {
        tags: ['inspections'],
        summary: `Add a photo of a checklist item: the JPEG, PNG or WebP file itself as the body, at most ${PHOTO_MAX_BYTES / 1024 / 1024} MB`,
        params: IdParams,
        querystring: PhotoQuery,
        response: {
          201: z.object({ photo: InspectionPhotoSchema, inspection: InspectionSchema }),
          400: ErrorSchema,
          404: ErrorSchema,
          409: ErrorSchema.describe('too_many_photos'),
          413: ErrorSchema.describe('payload_too_large'),
          415: ErrorSchema.describe('unsupported_photo, unsupported_media_type'),
        },
      },
    },
    async (request, reply) => {
      const row = await visible(request, request.params.id);
      const { item } = request.query;
      const items = JSON.parse(row.items) as { item: string }[];
      if (!items.some((x) => x.item === item))
        throw new HttpError(400, 'item_not_checked', `inspection ${row.id} did not check ${item}`);
      const body: unknown = request.body;
      const type = Buffer.isBuffer(body) ? photoType(body) : null;
      if (!Buffer.isBuffer(body) || type === null)
        throw new HttpError(415, 'unsupported_photo', 'a photo must be a JPEG, PNG or WebP image');
      const now = clock();
      const photo = await db.transaction().execute(async (tx) => {
        const p = await insertPhoto(
          tx,
          { inspection: row.id, item, contentType: type, bytes: body, createdBy: principalOf(request).id },
          now,
        );
        await appendAudit(tx, {
          ts: now,
          ...auditActor(request),
          action: 'inspection.photo.add',
          target: { kind: 'inspection', id: row.id },
          // Never the bytes: what and how big.
          after: p,
        });
        return p;
      });
      const after = (await getInspection(db, row.id)) ?? row;
      const { item: _item, ...meta } = photo;
      return reply.code(201).send({ photo: meta, inspection: await answer(after) });
    },
  );

  app.get(
    '/api/inspections/:id/photos/:photoId',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['inspections'],
        summary: 'A photo of an inspection, as uploaded',
        params: PhotoParams,
        response: {
          200: {
            description: 'The image, with the type its bytes have',
            content: Object.fromEntries(
              PHOTO_TYPES.map((t) => [t, { schema: z.string().describe('The image (binary)') }]),
            ),
          },
          404: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const row = await visible(request, request.params.id);
      const photo = await getPhoto(db, row.id, request.params.photoId);
      if (photo === undefined) throw new PhotoNotFoundError(row.id, request.params.photoId);
      const type = photo.content_type as (typeof PHOTO_TYPES)[number];
      return (
        reply
          .type(type)
          // The browser shows it as the image it is and nothing else: no sniffing, no scripts.
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; sandbox")
          .header('content-disposition', `inline; filename="${row.id}-${photo.id}.${EXTENSIONS[type]}"`)
          // A photo never changes under its id.
          .header('cache-control', 'private, max-age=86400, immutable')
          .send(Buffer.from(photo.bytes) as unknown as string)
      ); // bytes: no serialiser runs
    },
  );
};

export default inspectionRoutes;
