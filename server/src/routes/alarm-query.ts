import { AreaIdSchema, GasIdSchema, IdSchema } from '@gaswatch/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AlarmFilter } from '../alarms/alarm-book.js';
import { ALARM_KINDS, type Alarm, LIFECYCLE_STATES, RESOLUTION_REASONS } from '../alarms/model.js';
import type { Principal } from '../auth/principal.js';
import { HttpError } from '../errors.js';
import { IsoTimeSchema } from './schemas.js';

/**
 * The filters of the alarm history (SPEC §13 "history with export"), the same for the list
 * (`GET /api/alarms`) and the export (`GET /api/alarms/export`): each narrows, all must hold.
 */
export const AlarmFilterFields = {
  from: IsoTimeSchema.optional().describe('Raised at or after this time (inclusive), ISO 8601 with zone'),
  to: IsoTimeSchema.optional().describe('Raised before this time (exclusive), ISO 8601 with zone'),
  area: AreaIdSchema.optional().describe(
    'Only alarms in this area and the areas under it (one of GET /api/areas: an area outside your own is 400 unknown_area, as an unknown one)',
  ),
  site: z.string().min(1).max(128).optional().describe('Only alarms of this site (the id devices report)'),
  device: IdSchema.optional().describe('Only this device'),
  kind: z
    .enum(ALARM_KINDS)
    .optional()
    .describe(
      'gas (a reading over its set point) | detector (its own alarm output) | offline | fault | maintenance',
    ),
  gas: GasIdSchema.optional().describe('Only alarms of this gas (offline and fault alarms have none)'),
  severity: z.enum(['warning', 'critical']).optional().describe('warning | critical'),
  outcome: z
    .enum([...RESOLUTION_REASONS, 'unresolved'])
    .optional()
    .describe(
      'The resolution reason (real_event | false_alarm | test | maintenance | device_fault), or unresolved: not resolved yet',
    ),
  state: z
    .enum([...LIFECYCLE_STATES, 'open'])
    .optional()
    .describe('active | acknowledged | cleared | cleared_unacked | open (every state but cleared)'),
};

export type AlarmFilterQuery = z.infer<z.ZodObject<typeof AlarmFilterFields>>;

/** The time range of a query as ms (undefined: open at that end); 400 bad_range when from > to. */
export function rangeOf(q: Pick<AlarmFilterQuery, 'from' | 'to'>): { from?: number; to?: number } {
  const from = q.from === undefined ? undefined : Date.parse(q.from);
  const to = q.to === undefined ? undefined : Date.parse(q.to);
  if (from !== undefined && to !== undefined && from > to)
    throw new HttpError(
      400,
      'bad_range',
      `from (${new Date(from).toISOString()}) is after to (${new Date(to).toISOString()})`,
    );
  return { from, to };
}

/**
 * The book's filter for a caller's query: what the caller may see (SPEC §9), within the area asked
 * for. An area the caller does not see answers like one that does not exist (400 unknown_area, not
 * an empty list that would read as "no alarms there"), so its existence does not leak either.
 */
export function alarmFilterOf(app: FastifyInstance, caller: Principal, q: AlarmFilterQuery): AlarmFilter {
  const { auth } = app;
  const range = rangeOf(q);
  const area = q.area;
  if (area !== undefined && !(auth.areas.has(area) && auth.areas.within(area, caller.area)))
    throw new HttpError(
      400,
      'unknown_area',
      `no area ${area}${caller.area === null ? '' : ` within your area ${caller.area}`} (GET /api/areas lists them)`,
    );
  return {
    ...range,
    state: q.state,
    dev: q.device,
    site: q.site,
    kind: q.kind,
    gas: q.gas,
    severity: q.severity,
    outcome: q.outcome,
    // One who sees every area and asks for none needs no test: the list then reads its page only.
    visible: caller.area === null && area === undefined ? undefined : visibleIn(app, caller, area),
  };
}

/**
 * Whether the caller sees an alarm (and it lies in `area`, when given), remembered per gateway and
 * site for one request: an alarm's area is its site's, else its gateway's, so a list over a million
 * alarms asks the area tree once per site, not once per alarm. An alarm without a site takes its
 * device's configured one: those are asked each time.
 */
function visibleIn(app: FastifyInstance, caller: Principal, area: string | undefined) {
  const { auth } = app;
  const check = (a: Alarm) => {
    const at = auth.areaOf(a);
    return auth.canSee(caller, at) && (area === undefined || auth.areas.within(at, area));
  };
  const known = new Map<string, Map<string, boolean>>();
  return (a: Alarm): boolean => {
    if (!a.site) return check(a);
    let bySite = known.get(a.gw);
    if (bySite === undefined) {
      bySite = new Map();
      known.set(a.gw, bySite);
    }
    let seen = bySite.get(a.site);
    if (seen === undefined) {
      seen = check(a);
      bySite.set(a.site, seen);
    }
    return seen;
  };
}
