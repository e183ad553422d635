import type { FastifyInstance } from 'fastify';
import type { AlarmFilter } from '../alarms/alarm-book.js';
import type { Alarm } from '../alarms/model.js';
import type { AlarmFilterQuery } from '../alarms/query-schema.js';
import type { Principal } from '../auth/principal.js';
import { HttpError } from '../errors.js';

export { AlarmFilterFields, type AlarmFilterQuery } from '../alarms/query-schema.js';

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
