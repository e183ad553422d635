import type { Alarm } from '../api/types';

/** A site's colour on the map, worst first. */
export const SITE_STATES = ['critical', 'warning', 'offline', 'handling', 'ok'] as const;
export type SiteState = (typeof SITE_STATES)[number];

export const SITE_COLOURS: Record<SiteState, string> = {
  critical: '#d03050',
  warning: '#e6a23c',
  offline: '#909399',
  handling: '#409eff',
  ok: '#18a058',
};

/**
 * Each site's state from its open alarms: an unacknowledged critical, an unacknowledged warning,
 * an unacknowledged offline alarm (nothing protects it now), alarms someone is handling, or none.
 * Also the alarm a click on the site opens: its worst.
 */
export function siteStates(
  alarms: readonly Alarm[],
  needsAck: (state: string) => boolean,
  /** Which place an alarm belongs to: its site (default), or its household. */
  placeOf: (a: Alarm) => string | null | undefined = (a) => a.site,
): Map<string, { state: SiteState; worst: Alarm }> {
  const rank = (a: Alarm): SiteState =>
    !needsAck(a.state)
      ? 'handling'
      : a.key === 'offline'
        ? 'offline'
        : a.severity === 'critical'
          ? 'critical'
          : 'warning';
  const out = new Map<string, { state: SiteState; worst: Alarm }>();
  for (const a of alarms) {
    const place = placeOf(a);
    if (place === null || place === undefined) continue;
    const state = rank(a);
    const known = out.get(place);
    if (known === undefined || SITE_STATES.indexOf(state) < SITE_STATES.indexOf(known.state))
      out.set(place, { state, worst: a });
  }
  return out;
}
