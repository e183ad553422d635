import {
  ALARM_PROFILE_IDS,
  type AlarmProfileId,
  createRuleSet,
  type DeviceKind,
  type GasId,
  profileForKind,
  type RuleOptions,
  type SiteType,
} from '@gaswatch/shared';

type CoStandard = 'ul2034' | 'en50291';
interface OverrideLike {
  profile?: AlarmProfileId | undefined;
  options?: unknown;
}

/**
 * The parts of GASWATCH_CONFIG that rule selection reads. Structural (GaswatchConfig fits it), so
 * config-schema.ts can run ruleConfigIssues in its refinement without the two files importing
 * each other.
 */
export interface RuleConfig {
  defaults: { coStandard: CoStandard; siteType: SiteType };
  sites: Record<
    string,
    {
      coStandard?: CoStandard | undefined;
      type?: SiteType | undefined;
      alarms: Partial<Record<DeviceKind, OverrideLike>>;
    }
  >;
  devices: Record<string, OverrideLike>;
}

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
 * SPEC §6: household-co → the site's CO standard (en50291 | ul2034), multigas →
 * confined-space, combustible → combustible; a site override per kind, then a device override,
 * wins. Options merge in the same order (device over site), over the site's type (a household
 * site's combustible first alarm is 10 %LEL unless an override names its threshold).
 */
export function selectRules(
  config: RuleConfig,
  dev: string,
  kind: DeviceKind,
  site: string | null,
): RuleSelection {
  const siteCfg = own(config.sites, site);
  const coStandard = siteCfg?.coStandard ?? config.defaults.coStandard;
  const siteOverride = siteCfg?.alarms[kind];
  const devOverride = own(config.devices, dev);
  const profile = devOverride?.profile ?? siteOverride?.profile ?? profileForKind(kind, coStandard);
  const options: RuleOptions = {
    siteType: siteCfg?.type ?? config.defaults.siteType,
    ...((siteOverride?.options ?? {}) as RuleOptions),
    ...((devOverride?.options ?? {}) as RuleOptions),
  };
  return { profile, options };
}

/** Equal for two selections that build the same rules (options come in config order). */
export function selectionKey(sel: RuleSelection): string {
  return JSON.stringify(sel);
}

/** Condition keys named in an override's `thresholds`, `bands` and `onDelays`, with the field. */
function namedKeys(options: RuleOptions): { field: 'thresholds' | 'bands' | 'onDelays'; key: string }[] {
  const out: { field: 'thresholds' | 'bands' | 'onDelays'; key: string }[] = [];
  for (const field of ['thresholds', 'bands', 'onDelays'] as const)
    for (const key of Object.keys(options[field] ?? {})) out.push({ field, key });
  return out;
}

/**
 * Keys of a device's options that are not a condition of the profile it runs (nothing applies
 * them), as `options.<field>: "<key>"`. Site options name conditions of the profile they were
 * checked against; device options without a `profile` may name conditions of another profile
 * (the device's kind is only known from its DeviceState), so the engine reports these at run time.
 */
export function unappliedKeys(options: RuleOptions, conditionKeys: ReadonlySet<string>): string[] {
  return namedKeys(options)
    .filter(({ key }) => !conditionKeys.has(key))
    .map(({ field, key }) => `options.${field}: "${key}"`);
}

/** A problem in GASWATCH_CONFIG: where in the file, and what is wrong. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Every problem in the alarm overrides: each rule set they name is built once to check its options.
 * A site override is checked against the profile it applies to. A device override that names its
 * `profile` is checked against it; one that does not cannot know the device's kind (it comes from
 * the gateway's DeviceState), so it is checked against every profile: its options must build in
 * each, and every condition key it names must belong to at least one. GaswatchConfigSchema runs
 * this, so a config that parsed has none of these problems.
 */
export function ruleConfigIssues(config: RuleConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const kinds: DeviceKind[] = ['household-co', 'multigas', 'combustible'];
  /** Builds `options` under each profile; reports build errors, and keys no profile knows. */
  const check = (where: (string | number)[], profiles: readonly AlarmProfileId[], options: RuleOptions) => {
    const known = new Set<string>();
    const errors = new Set<string>();
    for (const profile of profiles) {
      try {
        for (const c of createRuleSet(profile, options).conditions) known.add(c.key);
      } catch (err) {
        errors.add((err as Error).message);
      }
    }
    for (const message of errors) issues.push({ path: [...where, 'options'], message });
    if (errors.size > 0) return;
    const which =
      profiles.length === 1 ? `profile ${profiles[0]}` : `any alarm profile (${profiles.join(', ')})`;
    // A mistyped key would be ignored silently by the rules: a set point nobody applies.
    for (const { field, key } of namedKeys(options))
      if (!known.has(key))
        issues.push({
          path: [...where, 'options', field],
          message: `"${key}" is not a condition of ${which} (known: ${[...known].sort().join(', ')})`,
        });
  };
  for (const [id, site] of Object.entries(config.sites))
    for (const kind of kinds) {
      const o = site.alarms[kind];
      if (o === undefined) continue;
      check(
        ['sites', id, 'alarms', kind],
        [o.profile ?? profileForKind(kind, site.coStandard ?? config.defaults.coStandard)],
        (o.options ?? {}) as RuleOptions,
      );
    }
  for (const [id, d] of Object.entries(config.devices))
    if (d.options !== undefined || d.profile !== undefined)
      check(
        ['devices', id],
        d.profile === undefined ? ALARM_PROFILE_IDS : [d.profile],
        (d.options ?? {}) as RuleOptions,
      );
  return issues;
}

/** ruleConfigIssues as `GASWATCH_CONFIG <path>: <message>` lines. */
export function checkRuleConfig(config: RuleConfig): string[] {
  return ruleConfigIssues(config).map((i) => `GASWATCH_CONFIG ${i.path.join('.')}: ${i.message}`);
}
