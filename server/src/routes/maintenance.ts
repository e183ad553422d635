import {
  AreaIdSchema,
  BumpTestInputSchema,
  BumpTestSchema,
  CalibrationInputSchema,
  CalibrationSchema,
  FitnessSchema,
  IdSchema,
  MaintenanceDatesSchema,
  MaintenanceViewSchema,
} from '@gaswatch/shared';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditActor, principalOf } from '../auth/principal.js';
import type { DeviceInfo } from '../bus.js';
import {
  listBumpTests,
  listCalibrations,
  RECORD_CURSOR,
  toBumpTest,
  toCalibration,
} from '../db/maintenance.js';
import { HttpError } from '../errors.js';
import type { Recorder } from '../maintenance/service.js';
import { ErrorSchema, limitSchema } from './schemas.js';

const IdParams = z.object({ id: IdSchema }).strict();

const RecordsQuery = z
  .object({
    limit: limitSchema(500, 50, 'records'),
    cursor: z.string().regex(RECORD_CURSOR, 'must be a nextCursor of this list').optional(),
  })
  .strict();

const DueQuery = z
  .object({
    area: AreaIdSchema.optional().describe('Only devices in this area and the areas within it'),
    days: z.coerce
      .number()
      .int()
      .min(0)
      .max(365)
      .optional()
      .describe(
        'Dates falling due within this many days count (default: GASWATCH_CONFIG maintenance.remindDays)',
      ),
    limit: limitSchema(1000, 200, 'devices'),
    cursor: z
      .string()
      .regex(/^\d{1,7}$/, 'must be a nextCursor of this list')
      .optional(),
  })
  .strict();

const DueRowSchema = z.object({
  device: IdSchema,
  gw: z
    .string()
    .nullable()
    .describe('Its gateway; null when the server has not heard of it since its records'),
  area: z.string().nullable(),
  site: z.string().nullable(),
  location: z.string().nullable(),
  fitness: FitnessSchema,
});

const StartAnswer = z.object({
  command: z.string().describe('The bump_test command id (its cmd/result in GET /api/events)'),
  started: z
    .literal(true)
    .nullable()
    .describe('true: the gateway opened its test window; null: it has not answered yet'),
  message: z.string().describe("The gateway's words: the window and the levels each gas must reach"),
});

const devicePath = '/api/devices/:id/maintenance';

/**
 * Detector maintenance (SPEC §11, issue 14): a device's bump tests, calibrations, dates and its
 * fitness for a gas test before work, under /api/devices/:id/maintenance; the devices with
 * something due under /api/maintenance/due. Reading is for everyone in the device's area; recording
 * a test, setting a date and starting a bump test is for supervisors and admins (SPEC §9:
 * supervisors "record bump tests and calibrations"; a bump test also puts the detector's readings
 * in test status for its window). A device outside the caller's area is 404, as it is at
 * /api/devices/:id.
 */
const maintenanceRoutes: FastifyPluginAsyncZod = async (app) => {
  const { auth, maintenance } = app;
  const areaOf = (d: DeviceInfo) => auth.areaOf({ gw: d.gw, dev: d.dev, site: d.state?.site });

  /** The device, or 404 when the server knows none or it lies outside the caller's area (the same). */
  function visibleDevice(request: FastifyRequest, id: string): DeviceInfo {
    const d = app.devices.get(id);
    if (d === undefined || !auth.canSee(principalOf(request), areaOf(d)))
      throw new HttpError(404, 'not_found', `no device ${id}`);
    return d;
  }

  const recorder = (request: FastifyRequest): Recorder => ({
    actor: auditActor(request),
    name: principalOf(request).name,
  });

  app.get(
    devicePath,
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['maintenance'],
        summary:
          'Whether the device may be used for a gas test before work, why not, what falls due, and its last bump tests and calibrations',
        params: IdParams,
        response: { 200: MaintenanceViewSchema, 404: ErrorSchema },
      },
    },
    async (request) => maintenance.view(visibleDevice(request, request.params.id).dev),
  );

  app.get(
    `${devicePath}/bump-tests`,
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['maintenance'],
        summary: "The device's bump tests, the last done first",
        params: IdParams,
        querystring: RecordsQuery,
        response: {
          200: z.object({
            bumpTests: z.array(BumpTestSchema),
            total: z.number(),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (request) => {
      const d = visibleDevice(request, request.params.id);
      const page = await listBumpTests(app.db, { device: d.dev, ...request.query });
      return { bumpTests: page.rows.map(toBumpTest), total: page.total, nextCursor: page.nextCursor };
    },
  );

  app.get(
    `${devicePath}/calibrations`,
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['maintenance'],
        summary: "The device's calibrations, the last done first",
        params: IdParams,
        querystring: RecordsQuery,
        response: {
          200: z.object({
            calibrations: z.array(CalibrationSchema),
            total: z.number(),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (request) => {
      const d = visibleDevice(request, request.params.id);
      const page = await listCalibrations(app.db, { device: d.dev, ...request.query });
      return { calibrations: page.rows.map(toCalibration), total: page.total, nextCursor: page.nextCursor };
    },
  );

  app.post(
    `${devicePath}/bump-tests`,
    {
      config: { access: 'supervisor' },
      schema: {
        tags: ['maintenance'],
        summary: 'Record a bump test done at a docking station or by hand',
        description:
          "A failed one raises the device's `maintenance` alarm; a later passed one clears it. A bump test started from the console (POST …/bump-tests/start) is recorded by itself when the gateway reports its result.",
        params: IdParams,
        body: BumpTestInputSchema,
        response: {
          201: z.object({ bumpTest: BumpTestSchema, maintenance: MaintenanceViewSchema }),
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const d = visibleDevice(request, request.params.id);
      const bumpTest = await maintenance.recordBumpTest(d.dev, request.body, recorder(request));
      return reply.code(201).send({ bumpTest, maintenance: await maintenance.view(d.dev) });
    },
  );

  app.post(
    `${devicePath}/bump-tests/start`,
    {
      config: { access: 'supervisor' },
      schema: {
        tags: ['maintenance'],
        summary: "Start a bump test through the device's gateway (the `bump_test` command)",
        description:
          "The gateway opens a test window (its bumpTestS) in which the person at the detector applies test gas; readings carry status bump_test, local alarms stay armed. Answers with the gateway's answer (202), or 409 bump_test_refused with its reason. The result arrives as the gateway's bump_test event and is recorded as a bump test by `gateway`, credited to the caller.",
        params: IdParams,
        response: { 202: StartAnswer, 404: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      const d = visibleDevice(request, request.params.id);
      return reply.code(202).send(await maintenance.startBumpTest(d, recorder(request)));
    },
  );

  app.post(
    `${devicePath}/calibrations`,
    {
      config: { access: 'supervisor' },
      schema: {
        tags: ['maintenance'],
        summary: 'Record a calibration with the day the next one is due',
        params: IdParams,
        body: CalibrationInputSchema,
        response: {
          201: z.object({ calibration: CalibrationSchema, maintenance: MaintenanceViewSchema }),
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const d = visibleDevice(request, request.params.id);
      const calibration = await maintenance.recordCalibration(d.dev, request.body, recorder(request));
      return reply.code(201).send({ calibration, maintenance: await maintenance.view(d.dev) });
    },
  );

  app.put(
    `${devicePath}/dates`,
    {
      config: { access: 'supervisor' },
      schema: {
        tags: ['maintenance'],
        summary: "Set the sensor's end of life and the day of the last self-test",
        description:
          "A household alarm's expiry is the household registry's (PUT /api/households/:id/detectors/:device): GET …/maintenance shows it.",
        params: IdParams,
        body: MaintenanceDatesSchema,
        response: { 200: MaintenanceViewSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const d = visibleDevice(request, request.params.id);
      await maintenance.setDates(d.dev, request.body, recorder(request));
      return maintenance.view(d.dev);
    },
  );

  app.get(
    '/api/maintenance/due',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['maintenance'],
        summary:
          'Devices of your area with a calibration or a sensor end of life due within `days` or past, or whose last bump test or calibration failed',
        description:
          "Failures first, then the soonest date. A bump test is due before each day's use, so its absence is not listed here (each device's fitness says it); a household alarm's expiry is listed by GET /api/households/attention.",
        querystring: DueQuery,
        response: {
          200: z.object({
            devices: z.array(DueRowSchema),
            total: z.number(),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const caller = principalOf(request);
      if (q.area !== undefined && !(auth.areas.has(q.area) && auth.canSee(caller, q.area)))
        throw new HttpError(400, 'unknown_area', `no area ${q.area} (GET /api/areas lists yours)`);
      const areaOfDev = (dev: string, info: DeviceInfo | undefined) =>
        info === undefined ? auth.areaOf({ gw: '', dev, site: null }) : areaOf(info);
      const all = await maintenance.due((dev, info) => {
        const area = areaOfDev(dev, info);
        return auth.canSee(caller, area) && (q.area === undefined || auth.areas.within(area, q.area));
      }, q.days ?? app.config.gaswatch.maintenance.remindDays);
      const from = q.cursor === undefined ? 0 : Number(q.cursor);
      const shown = all.slice(from, from + q.limit);
      return {
        devices: shown.map((r) => ({
          device: r.device,
          gw: r.info?.gw ?? null,
          area: areaOfDev(r.device, r.info),
          site: r.info?.state?.site ?? null,
          location: r.info?.state?.location ?? null,
          fitness: r.fitness,
        })),
        total: all.length,
        nextCursor: from + q.limit < all.length ? String(from + q.limit) : null,
      };
    },
  );
};

export default maintenanceRoutes;
