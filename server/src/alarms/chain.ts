import type { AreaKind } from '@gaswatch/shared';
import { normalAddress, phoneE164 } from '../notify/address.js';
import type { Lang } from '../notify/templates.js';
import type { GaswatchConfig, Tier } from './config-schema.js';
import type { AlarmHome } from './facts.js';
import type { Alarm } from './model.js';
import { own } from './select.js';

/** One person (or group robot, or system) a step tells, and how. */
export interface ChainContact {
  name: string;
  /** E.164 phone number, e-mail address, or none (a webhook, a chat group). */
  to?: string;
  /** A household contact's relation (occupant, family, …). */
  relation?: string;
  /** Channel names in failover order. */
  channels: string[];
  lang: Lang;
}

export interface ChainStep {
  name?: string;
  contacts: ChainContact[];
  /** Seconds to wait for an acknowledgement before the next step (undefined: the ackTimeout). */
  waitS?: number;
}

/** The escalation chain of one alarm, its contacts resolved. */
export interface Chain {
  /** Steps that tell somebody (a step whose household has nobody of its relations is left out). */
  steps: ChainStep[];
  /** Seconds between repeats of the top step; null: the top step is told once. */
  repeatS: number | 'wait' | null;
  /** Where the chain comes from. */
  from: 'household' | 'site' | 'defaults' | 'none';
}

/** The area tree, as far as the chain needs it (auth/areas.ts). */
export interface AreaLookup {
  parentOf(id: string): string | null | undefined;
  kindOf(id: string): AreaKind | undefined;
}

export interface ChainDeps {
  config: GaswatchConfig;
  /** The household the device is installed in. */
  homeOf?: ((dev: string) => AlarmHome | undefined) | undefined;
  /** The alarm's area (its household's, else its site's or gateway's); its site's when absent. */
  areaOf?: ((a: Alarm) => string | null) | undefined;
  areas?: AreaLookup | undefined;
}

const KINDS: Record<'village' | 'township' | 'county', readonly AreaKind[]> = {
  village: ['village', 'community'],
  township: ['township'],
  county: ['county'],
};

/**
 * Resolves an alarm's escalation chain (SPEC §12). An alarm whose detector is in a registered
 * household takes notify.household.steps when configured: its own contacts first, in the
 * household's call order, then whom the later steps name (the village grid worker and cadre,
 * the area duty contacts of notify.duty). Any other alarm takes its site's steps (or, as configs
 * before issue 15 wrote them, tiers), else the defaults'.
 */
export function createChainResolver(deps: ChainDeps) {
  const { config } = deps;
  const notify = config.notify;

  /** The duty contacts of the nearest area of `kind` at or above `area`. */
  function dutyOf(area: string | null, kind: 'village' | 'township' | 'county'): ChainStep['contacts'] {
    if (area === null) return [];
    let found: string | null = null;
    if (deps.areas === undefined) {
      // No tree to walk: only the alarm's own area can be matched, and only for its own kind's step.
      found = kind === 'village' ? area : null;
    } else {
      const tree = deps.areas;
      for (let id: string | null | undefined = area, i = 0; id != null && i < 64; i++) {
        const k = tree.kindOf(id);
        if (k !== undefined && KINDS[kind].includes(k)) {
          found = id;
          break;
        }
        id = tree.parentOf(id);
      }
    }
    if (found === null || !Object.hasOwn(notify.duty, found)) return [];
    return (notify.duty[found] ?? []).map((c) => ({
      name: c.name,
      ...withTo(normalAddress(c.to)),
      channels: c.channels ?? [],
      lang: c.lang ?? notify.lang,
    }));
  }

  /** One step's contacts; `area` is asked for only when the step names area duty contacts. */
  function resolve(step: Tier, area: () => string | null, home: AlarmHome | undefined): ChainStep {
    const out: ChainContact[] = [];
    const seen = new Set<string>();
    const add = (c: ChainContact) => {
      // One person once per step, whichever list named them (a grid worker in the household's
      // contacts and in the village's duty list).
      const key = c.to ?? `name:${c.name}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push(c.channels.length > 0 ? c : { ...c, channels: step.channels ?? [] });
    };
    for (const c of step.contacts)
      add({
        name: c.name,
        ...withTo(normalAddress(c.to)),
        channels: c.channels ?? (c.channel === undefined ? [] : [c.channel]),
        lang: c.lang ?? notify.lang,
      });
    if (step.household !== undefined && home !== undefined)
      for (const c of home.contacts)
        if (step.household.includes(c.relation))
          add({
            name: c.name,
            relation: c.relation,
            ...withTo(phoneE164(c.phone) ?? c.phone),
            channels: [],
            lang: notify.lang,
          });
    if (step.duty !== undefined) for (const c of dutyOf(home?.area ?? area(), step.duty)) add(c);
    return {
      ...(step.name === undefined ? {} : { name: step.name }),
      contacts: out,
      ...(step.waitS === undefined ? {} : { waitS: step.waitS }),
    };
  }

  function configured(siteId: string | null, home: AlarmHome | undefined) {
    if (home !== undefined && notify.household.steps.length > 0)
      return {
        steps: notify.household.steps,
        repeat: notify.household.repeatS ?? 'wait',
        from: 'household',
      } as const;
    const site = own(config.sites, siteId);
    if (site !== undefined && site.steps.length > 0)
      return { steps: site.steps, repeat: site.repeatS ?? 'wait', from: 'site' } as const;
    if (site !== undefined && site.tiers.length > 0)
      return { steps: site.tiers, repeat: site.repeatS ?? 'wait', from: 'site' } as const;
    const d = config.defaults;
    if (d.steps.length > 0) return { steps: d.steps, repeat: d.repeatS ?? 'wait', from: 'defaults' } as const;
    if (d.tiers.length > 0) return { steps: d.tiers, repeat: d.repeatS ?? 'wait', from: 'defaults' } as const;
    return { steps: [], repeat: false, from: 'none' } as const;
  }

  return {
    chainOf(a: Alarm): Chain {
      const home = deps.homeOf?.(a.dev);
      const c = configured(a.site, home);
      const area = () =>
        deps.areaOf === undefined ? (own(config.sites, a.site)?.area ?? null) : deps.areaOf(a);
      return {
        steps: c.steps.map((s) => resolve(s, area, home)).filter((s) => s.contacts.length > 0),
        repeatS: c.repeat === false ? null : c.repeat,
        from: c.from,
      };
    },
    homeOf: (dev: string) => deps.homeOf?.(dev),
    /**
     * The first step that tells somebody of the chain a site's alarms take (its steps or tiers,
     * else the defaults'), its duty contacts those of `area`: who is told of what happens at the
     * site beyond one alarm (a stopped permit's evacuation alert).
     */
    firstStepOf(site: string | null, area: string | null): ChainStep | undefined {
      const c = configured(site, undefined);
      for (const s of c.steps) {
        const step = resolve(s, () => area, undefined);
        if (step.contacts.length > 0) return step;
      }
      return undefined;
    },
  };
}
export type ChainResolver = ReturnType<typeof createChainResolver>;

const withTo = (to: string | undefined): { to?: string } => (to === undefined ? {} : { to });
