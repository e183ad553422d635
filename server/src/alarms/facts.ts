import { type HouseholdContact, type OccupantFlag, vulnerableFlags } from '@gaswatch/shared';
import type { AlarmFacts } from '../notify/templates.js';
import { type Alarm, alarmKind } from './model.js';

/** What the chain knows of the household an alarm's detector is installed in. */
export interface AlarmHome {
  id: string;
  area: string;
  address: string;
  flags: readonly OccupantFlag[];
  /** Where in the home the detector is (卧室). */
  location: string;
  /** In call order (SPEC §10). */
  contacts: readonly HouseholdContact[];
}

/** The alarm's response card in the console: `<consoleUrl>#/alarms/<id>` (the console's hash routes). */
export function cardLink(consoleUrl: string | undefined, alarmId: string): string | null {
  if (consoleUrl === undefined) return null;
  return `${consoleUrl.replace(/\/?$/, '/')}#/alarms/${encodeURIComponent(alarmId)}`;
}

/** The alarm board in the console (a grouped message's link). */
export function boardLink(consoleUrl: string | undefined): string | null {
  return consoleUrl === undefined ? null : `${consoleUrl.replace(/\/?$/, '/')}#/alarms`;
}

/**
 * The facts a message tells of an alarm: the household's address and who lives there when the
 * detector is in a registered home (the first contact who is an occupant names them), else the
 * site's address or name; the detector's place in the home, else what the site says.
 */
export function alarmFacts(
  a: Alarm,
  where: {
    home?: AlarmHome | undefined;
    site?: { name?: string | undefined; address?: string | undefined } | undefined;
    consoleUrl?: string | undefined;
    /** An area's name by its id: a folded area alarm is told by it. */
    areaName?: ((id: string) => string | undefined) | undefined;
  },
): AlarmFacts {
  const { home, site } = where;
  const occupant = home?.contacts.find((c) => c.relation === 'occupant')?.name ?? null;
  const location = home?.location ?? '';
  return {
    alarmId: a.id,
    kind: alarmKind(a),
    severity: a.severity,
    gas: a.gas,
    value: a.value,
    threshold: a.threshold,
    unit: a.unit,
    message: a.message,
    raisedAt: a.raisedAt,
    device: a.dev,
    place: home?.address ?? site?.address ?? site?.name ?? a.site,
    occupant,
    flags: home === undefined ? [] : vulnerableFlags([...home.flags]),
    location: location === '' ? null : location,
    link: cardLink(where.consoleUrl, a.id),
    ...(a.fold === undefined
      ? {}
      : {
          fold: {
            scope: a.fold.scope,
            count: a.fold.count,
            fault: a.fold.fault,
            name: a.fold.scope === 'area' ? where.areaName?.(a.dev) : undefined,
          },
        }),
  };
}
