import {
  type AlarmProfileId,
  createRuleSet,
  type DeviceKind,
  type GasId,
  profileForKind,
  type RuleOptions,
} from '@gaswatch/shared';
import type { GaswatchConfig } from './config-schema.js';

/**
 * A device's kind from its channels, for a device whose DeviceState has not arrived yet:
 * O2 or H2S → multigas; any combustible channel → combustible (its profile also runs the CO
 * rules, so a combustible detector with a CO channel loses nothing; household CO rules would
 * ignore its LEL); otherwise household CO.
 */
export function inferKind(values: Partial<Record<GasId, number>>): DeviceKind {
  const has = (g: GasId) => values[g] !== undefined;
  if (has('O2') || has('H2S')) return 'multigas';
  if (has('LEL') || has('CH4') || has('C3H8')) return 'combustible';
  return 'household-co';
}

/**
 * `record[key]` for an own property only. Site ids are free text from gateways (DeviceState.site):
 * 'constructor' or '__proto__' must read as an unknown site, not as a member of Object.prototype.
 */
export function own<T>(record: Record<string, T>, key: string | null | undefined): T | undefined {
  return key !== null && key !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

export interface RuleSelection {
  profile: AlarmProfileId;
  options: RuleOptions;
}

/**
 * SPEC §6: household-co → the site's household standard (en50291 | ul2034), multigas →
 * confined-space, combustible → combustible; a site override per kind, then a device override,
 * wins. Options merge in the same order (device over site).
 */
export function selectRules(
  config: GaswatchConfig,
  dev: string,
  kind: DeviceKind,
  site: string | null,
): RuleSelection {
  const siteCfg = own(config.sites, site);
  const household = siteCfg?.household ?? config.defaults.household;
  const siteOverride = siteCfg?.alarms[kind];
  const devOverride = own(config.devices, dev);
  const profile = devOverride?.profile ?? siteOverride?.profile ?? profileForKind(kind, household);
  const options = {
    ...(siteOverride?.options ?? {}),
    ...(devOverride?.options ?? {}),
  } as RuleOptions;
  return { profile, options };
}

/** Every problem in the alarm overrides: each rule set they name is built once to check its options. */
export function checkRuleConfig(config: GaswatchConfig): string[] {
  const issues: string[] = [];
  const kinds: DeviceKind[] = ['household-co', 'multigas', 'combustible'];
  const tryBuild = (where: string, profile: AlarmProfileId, options: RuleOptions) => {
    try {
      const known = new Set(createRuleSet(profile, options).conditions.map((c) => c.key));
      // A mistyped key would be ignored silently by the rules: a set point nobody applies.
      for (const field of ['thresholds', 'bands', 'onDelays'] as const)
        for (const key of Object.keys(options[field] ?? {}))
          if (!known.has(key))
            issues.push(
              `GASWATCH_CONFIG ${where}.options.${field}: "${key}" is not a condition of profile ${profile} (known: ${[...known].join(', ')})`,
            );
    } catch (err) {
      issues.push(`GASWATCH_CONFIG ${where}: ${(err as Error).message}`);
    }
  };
  for (const [id, site] of Object.entries(config.sites))
    for (const kind of kinds) {
      const o = site.alarms[kind];
      if (o === undefined) continue;
      tryBuild(
        `sites.${id}.alarms.${kind}`,
        o.profile ?? profileForKind(kind, site.household ?? config.defaults.household),
        (o.options ?? {}) as RuleOptions,
      );
    }
  for (const [id, d] of Object.entries(config.devices))
    if (d.options !== undefined || d.profile !== undefined)
      tryBuild(`devices.${id}`, d.profile ?? 'en50291', (d.options ?? {}) as RuleOptions);
  return issues;
}
