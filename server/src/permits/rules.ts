import {
  monitoringFor,
  PermitRuleError,
  type PermitRuleSet,
  type PermitRuleSetId,
  type PermitSpace,
  type PermitType,
  permitClassOf,
  sitePermitRuleSet,
} from '@gaswatch/shared';
import type { GaswatchConfig } from '../alarms/config-schema.js';
import type { PermitsTable } from '../db/schema.js';
import { HttpError } from '../errors.js';

/**
 * Which rules a permit follows: its site's permit settings (GASWATCH_CONFIG `sites.<id>.permits`,
 * else `defaults.permits`), with the rule set a space names instead of the site's. A permit keeps
 * the rule set it was drawn up under (the `rules` column), so these are read when it is.
 */

/** The site's permit settings as configured (the defaults' for an unconfigured or absent site). */
export function siteSettings(config: GaswatchConfig, site: string | null) {
  const s = site !== null && Object.hasOwn(config.sites, site) ? config.sites[site]?.permits : undefined;
  return s ?? config.defaults.permits;
}

/**
 * The effective rule set for a place: the site's settings, with `ruleSet` in place of the site's
 * when given. The site's numbers must still be no looser than that rule set's: 400
 * `rules_looser_than_standard` naming each that is.
 */
export function effectiveRules(
  config: GaswatchConfig,
  site: string | null,
  ruleSet: PermitRuleSetId | null,
): PermitRuleSet {
  const settings = siteSettings(config, site);
  try {
    return sitePermitRuleSet(ruleSet === null ? settings : { ...settings, ruleSet });
  } catch (err) {
    if (err instanceof PermitRuleError && err.code === 'looser_than_standard')
      throw new HttpError(
        400,
        'rules_looser_than_standard',
        `the permit settings of site ${site ?? '(defaults)'} are looser than ${ruleSet} allows: ${err.message}`,
      );
    throw err;
  }
}

/** A permit's kind and level as the rule functions take them. */
export function typeOf(p: Pick<PermitsTable, 'kind' | 'level'>): PermitType {
  return p.kind === 'hot_work'
    ? { kind: 'hot_work', level: (p.level ?? 'level2') as 'special' | 'level1' | 'level2' }
    : { kind: 'confined_space' };
}

/** What about a permit's place changes its test (size, oxygen, where the hot work is). */
export function spaceOf(p: Pick<PermitsTable, 'large' | 'oxygen_enriched' | 'hot_work_site'>): PermitSpace {
  return {
    large: p.large === 1,
    oxygenEnriched: p.oxygen_enriched === 1,
    hotWorkSite: (p.hot_work_site ?? 'open') as PermitSpace['hotWorkSite'],
  };
}

/** The rule set a permit was drawn up under. */
export function rulesOf(p: Pick<PermitsTable, 'rules'>): PermitRuleSet {
  return JSON.parse(p.rules) as PermitRuleSet;
}

/**
 * Longest gap between two monitoring records, ms: the rule set's (GB 30871 6.5: 2 h for a
 * confined space), else the server's default where the rule set sets none.
 */
export function recordEveryMs(rules: PermitRuleSet, type: PermitType, fallbackMin: number): number {
  return monitoringFor(rules, type).recordEveryMs ?? fallbackMin * 60_000;
}

/** The numbers of a permit's rule set the console shows beside it. */
export function rulesSummary(rules: PermitRuleSet, type: PermitType, fallbackMin: number) {
  const c = permitClassOf(type);
  return {
    testWindowMin: rules.testWindowMin[c].value,
    interruptionMin: rules.interruptionMin[c].value,
    dailyAnalysis: rules.dailyAnalysis[c].value,
    continuous: rules.monitoring[c].continuous,
    recordEveryMin: recordEveryMs(rules, type, fallbackMin) / 60_000,
    validityH: rules.validityH[c].value,
    keepYears: rules.recordRetentionYears.value,
  };
}
