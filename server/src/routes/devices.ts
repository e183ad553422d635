import { AreaIdSchema, DeviceKindSchema, GasIdSchema, IdSchema, ReadingStatusSchema } from '@gaswatch/shared';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deviceSetPoints } from '../alarms/set-points.js';
import { principalOf } from '../auth/principal.js';
import type { DeviceInfo } from '../bus.js';
import { HttpError } from '../errors.js';
import { deviceView } from '../ingest/device-view.js';
import type { DeviceRecord } from '../ingest/devices.js';
import { ErrorSchema, limitSchema } from './schemas.js';

const GasValues = z.partialRecord(GasIdSchema, z.number());

export const DeviceSchema = z
  .looseObject({
    id: IdSchema,
    gw: IdSchema,
    online: z.boolean().describe('Reported online and heard from within offlineAfterMs'),
    offlineAfterMs: z
      .number()
      .describe('The limit `online` was judged by, ms (the offline alarm uses it too)'),
    lastSeen: z.string().nullable().describe('Server time of the last reading, ISO 8601'),
    lastReading: z
      .looseObject({
        ts: z.string(),
        seq: z.number(),
        values: GasValues,
        status: ReadingStatusSchema,
        overRange: GasValues.optional().describe('gas → full scale, where the value is at or above it'),
        clockSuspect: z.boolean(),
      })
      .nullable(),
    state: z.looseObject({}).nullable().describe('The latest DeviceState the gateway published'),
    readings: z.number().int().describe('Readings accepted since the server started'),
    seqGaps: z
      .number()
      .int()
      .describe('Seqs skipped and not filled by a late replay, since the server started'),
    seqResets: z.number().int(),
    clockSuspect: z.boolean(),
    area: z
      .string()
      .nullable()
      .describe("The device's area (its site's, else its gateway's); null when unplaced"),
    offline: z
      .object({
        reason: z
          .enum(['silent', 'gateway_offline', 'area_outage'])
          .describe(
            "silent: no reading within its limit; gateway_offline / area_outage: folded into its gateway's or its area's alarm",
          ),
        alarmId: z
          .string()
          .nullable()
          .describe('The alarm that stands for it (null while it waits the fold window)'),
      })
      .nullable()
      .describe('Why the alarm engine counts it offline (null: it does not)'),
    faultFold: z
      .object({
        scope: z.enum(['gateway', 'area']),
        code: z.string().describe('The fault code it reports with the others'),
        alarmId: z.string().describe('The fault-burst alarm that stands for its fault'),
      })
      .nullable()
      .describe(
        "Its fault folded into its gateway's or its area's fault-burst alarm (null: none; a lone fault has an alarm of its own)",
      ),
  })
  .describe('Device');

const SetPointSchema = z.object({
  key: z.string().describe("The alarm condition's key, e.g. CO:high, CO:dose, CO:stel"),
  gas: GasIdSchema,
  severity: z.enum(['warning', 'critical']),
  kind: z
    .enum(['level', 'dose', 'mean'])
    .describe('level: each reading against it; dose: a CO dose; mean: a window mean (STEL, TWA)'),
  op: z.enum(['>=', '>', '<', '<=']).describe('Alarms when the value is `op` the set point'),
  value: z.number().describe("The set point in the gas's canonical unit, to draw over its readings"),
  unit: z.string(),
  windowMs: z.number().optional().describe('Window of a mean, ms'),
  limit: z
    .object({ value: z.number(), unit: z.string() })
    .optional()
    .describe('The set point as the standard writes it, where that is another unit (mg/m³)'),
});

const DeviceDetailSchema = DeviceSchema.extend({
  alarmProfile: z
    .enum(['ul2034', 'en50291', 'combustible', 'confined-space'])
    .nullable()
    .describe('The alarm profile the server runs for it (null: nothing known of it yet)'),
  setPoints: z
    .array(SetPointSchema)
    .describe("Gas set points of its alarm profile and the site's or its own overrides"),
}).describe('Device, with the set points its readings are judged by');

const ListQuery = z
  .object({
    gateway: IdSchema.optional().describe('Only the devices of this gateway'),
    area: AreaIdSchema.optional().describe('Only the devices in this area or an area within it'),
    installed: z
      .enum(['true', 'false'])
      .optional()
      .describe('true: only the devices installed in a registered household; false: only those in none'),
    state: z
      .enum(['online', 'offline'])
      .optional()
      .describe('online: reported online and heard from within offlineAfterMs; offline: the others'),
    kind: DeviceKindSchema.optional().describe('Only devices whose DeviceState says this kind'),
    site: z.string().min(1).max(128).optional().describe('Only the devices of this site'),
    text: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('Only devices whose id, site or location contains this (any case)'),
    limit: limitSchema(10_000, 1_000, 'devices, by id'),
    cursor: IdSchema.optional().describe('nextCursor of the previous page'),
  })
  .strict();

/** /api/devices and /api/devices/:id: the device registry as the console shows it. */
const devicesRoutes: FastifyPluginAsyncZod = async (app) => {
  const { auth } = app;
  /** `site`: the state's, where the caller has read it already (the registry makes the state per read). */
  const areaOf = (d: DeviceInfo, site = d.state?.site) => auth.areaOf({ gw: d.gw, dev: d.dev, site });
  /** The registry's view with the engine's word on why it is offline (a gateway outage, say). */
  const view = (d: DeviceRecord, now: number) => {
    const v = deviceView(d, now);
    const offline = app.alarms.offlineWhy(d.dev);
    const faultFold = app.alarms.faultFoldOf(d.dev);
    return { ...v, online: v.online && offline === null, offline, faultFold, area: areaOf(d) };
  };
  const seesDevice = (request: FastifyRequest) => {
    const p = principalOf(request);
    return (d: DeviceInfo) => auth.canSee(p, areaOf(d));
  };

  app.get(
    '/api/devices',
    {
      config: { access: 'viewer' },
      schema: {
        description:
          'Devices seen since start in your area (or one area within it), by id: state, last reading, seq gaps',
        tags: ['devices'],
        querystring: ListQuery,
        response: {
          200: z.object({
            devices: z.array(DeviceSchema),
            total: z.number(),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const now = app.clock();
      const p = principalOf(request);
      const { area } = q;
      // An area the caller does not see reads as one that does not exist (SPEC §9).
      if (area !== undefined && !(auth.areas.has(area) && auth.canSee(p, area)))
        throw new HttpError(400, 'unknown_area', `no area ${area} (GET /api/areas lists yours)`);
      const text = q.text?.toLowerCase();
      const contains = (v: string | undefined) => v?.toLowerCase().includes(text as string) === true;
      // One pass over the registry, cheapest tests first; only the page is sorted and shown, so a
      // page of a million devices costs a scan, not a sort of them all (issue 18).
      let total = 0;
      const after: DeviceRecord[] = [];
      for (const d of app.devices.all()) {
        if (q.gateway !== undefined && d.gw !== q.gateway) continue;
        const state = d.state;
        if (q.kind !== undefined && state?.kind !== q.kind) continue;
        if (q.site !== undefined && state?.site !== q.site) continue;
        if (text !== undefined && !contains(d.dev) && !contains(state?.site) && !contains(state?.location))
          continue;
        // Online as the list shows it: a device folded into a gateway or area outage is offline.
        if (q.state !== undefined && view(d, now).online !== (q.state === 'online')) continue;
        const deviceArea = areaOf(d, state?.site);
        if (!auth.canSee(p, deviceArea)) continue;
        if (area !== undefined && !auth.areas.within(deviceArea, area)) continue;
        // By the device → household index, which every change of a household here refreshes.
        if (
          q.installed !== undefined &&
          (app.households.ofDevice(d.dev) !== undefined) !== (q.installed === 'true')
        )
          continue;
        total++;
        if (q.cursor === undefined || d.dev > q.cursor) after.push(d);
      }
      const page = smallest(after, q.limit + 1);
      const more = page.length > q.limit;
      if (more) page.pop();
      return {
        devices: page.map((d) => view(d, now)),
        total,
        nextCursor: more ? (page.at(-1)?.dev ?? null) : null,
      };
    },
  );

  app.get(
    '/api/devices/:id',
    {
      config: { access: 'viewer' },
      schema: {
        description:
          'One device: last reading, last seen, online, seq gaps counted, and the set points of its alarm rules',
        tags: ['devices'],
        params: z.object({ id: IdSchema }),
        response: { 200: DeviceDetailSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      const d = app.devices.get(id);
      // Outside the caller's area reads as absent (SPEC §9).
      if (!d || !seesDevice(request)(d)) throw new HttpError(404, 'not_found', `no device ${id}`);
      const rules = deviceSetPoints(app.config.gaswatch, d.dev, d.state, d.lastReading?.values);
      return {
        ...view(d, app.clock()),
        alarmProfile: rules?.profile ?? null,
        setPoints: rules?.setPoints ?? [],
      };
    },
  );
};

export default devicesRoutes;

const byId = (a: DeviceRecord, b: DeviceRecord) => (a.dev < b.dev ? -1 : a.dev > b.dev ? 1 : 0);

/** The `n` devices of smallest id, ascending: a sort of the whole list only when it is short. */
function smallest(xs: DeviceRecord[], n: number): DeviceRecord[] {
  if (xs.length <= 4 * n) return xs.sort(byId).slice(0, n);
  // Keep a sorted window of n: each device beyond it costs one comparison with its last.
  const out = xs.slice(0, n).sort(byId);
  for (let i = n; i < xs.length; i++) {
    const d = xs[i] as DeviceRecord;
    if (byId(d, out[n - 1] as DeviceRecord) >= 0) continue;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byId(out[mid] as DeviceRecord, d) < 0) lo = mid + 1;
      else hi = mid;
    }
    out.pop();
    out.splice(lo, 0, d);
  }
  return out;
}
