import { GASES, type GasId } from '../gases.js';
import { lelOf, PPM_PER_PERCENT_VOL, pctLelToPctVol, pctVolToPctLel } from './conversions.js';
import { PermitRuleError } from './errors.js';
import type { GasIdentity, PermitReading, PermitSpace } from './model.js';
import type { PermitRuleSet, ToxicLimit, ToxicLimitKind } from './rule-set.js';
import { mgM3ToPpmAt, ppmToMgM3At, toxicLimitMgM3, toxicLimitPpm } from './toxic-limits.js';

/**
 * Pass or fail of one gas-test reading under a rule set (SPEC §7), with the reason and the numbers
 * a permit records and a person reads: the value and the limit, in %vol and %LEL for a combustible,
 * in ppm and mg/m³ for a toxic. A limit is compared in the reading's own unit (the limit is
 * converted, never the reading), so a reading equal to a limit written in that unit is at the
 * limit exactly: 10 %LEL of methane is 0.5 %vol and passes GB 30871.
 */

export interface OxygenCheck {
  check: 'oxygen';
  gas: 'O2';
  pass: boolean;
  reason: 'o2_low' | 'o2_high' | 'o2_high_enriched' | null;
  valuePctVol: number;
  /** Passes at or above. */
  minPctVol: number;
  /** Passes at or below: the enriched-space limit when the space is oxygen-enriched. */
  maxPctVol: number;
  enriched: boolean;
  source: string;
}

export interface CombustibleCheck {
  check: 'combustible';
  gas: GasIdentity;
  pass: boolean;
  reason: 'combustible_high' | 'combustible_not_below' | null;
  /** The gas's LEL the conversion used, %vol. */
  lelPercentVol: number;
  valuePctVol: number;
  valuePctLel: number;
  /** The limit that decided: the one failed, else the strictest. */
  limitPctVol: number;
  limitPctLel: number;
  /** The unit the deciding limit is written in: %vol (GB 30871's 0.5 / 0.2) or %LEL (OSHA's 10 %LFL, a site cap). */
  limitUnit: '%vol' | '%LEL';
  /** true: passes at the limit (≤); false: must be below it (<). */
  inclusive: boolean;
  source: string;
}

export interface ToxicCheck {
  check: 'toxic';
  gas: GasId;
  pass: boolean;
  reason: 'toxic_high' | 'no_limit' | null;
  valuePpm: number;
  /** null for a gas without a molar mass. */
  valueMgM3: number | null;
  /** null when the rule set has no limit for the gas (then the check fails: `no_limit`). */
  limit: {
    kind: ToxicLimitKind;
    /** As the standard's table gives it. */
    value: number;
    unit: 'mg/m³' | 'ppm';
    ppm: number;
    mgM3: number;
  } | null;
  source: string;
}

export type GasCheck = OxygenCheck | CombustibleCheck | ToxicCheck;

export interface GasJudgement {
  gas: GasIdentity;
  /** Every check passed. */
  pass: boolean;
  /** Oxygen, combustible or toxic; a combustible with a toxic limit (OSHA propane) gets both. */
  checks: GasCheck[];
}

function invalid(gas: GasIdentity, reading: PermitReading, why: string): PermitRuleError {
  return new PermitRuleError('invalid_reading', `${typeof gas === 'string' ? gas : gas.name}: ${why}`, {
    gas,
    reading,
  });
}

function judgeOxygen(rule: PermitRuleSet, reading: PermitReading, space: Partial<PermitSpace>): OxygenCheck {
  if (reading.unit !== '%vol') throw invalid('O2', reading, `oxygen is read in %vol, not ${reading.unit}`);
  const o = rule.oxygen;
  const enriched = space.oxygenEnriched === true;
  const max = enriched ? o.maxEnrichedPctVol : o.maxPctVol;
  const v = reading.value;
  const low = v < o.minPctVol.value;
  const high = v > max.value;
  return {
    check: 'oxygen',
    gas: 'O2',
    pass: !low && !high,
    reason: low ? 'o2_low' : high ? (enriched ? 'o2_high_enriched' : 'o2_high') : null,
    valuePctVol: v,
    minPctVol: o.minPctVol.value,
    maxPctVol: max.value,
    enriched,
    source: low ? o.minPctVol.source : max.source,
  };
}

interface CombustibleLimit {
  pctVol: number;
  pctLel: number;
  unit: '%vol' | '%LEL';
  inclusive: boolean;
  source: string;
}

function combustibleLimits(rule: PermitRuleSet, lel: number): CombustibleLimit[] {
  const limits: CombustibleLimit[] = [];
  const byClass = rule.combustible.byLelClass;
  if (byClass !== null) {
    const l = lel >= byClass.boundaryPctVol.value ? byClass.atOrAboveMaxPctVol : byClass.belowMaxPctVol;
    limits.push({
      pctVol: l.value,
      pctLel: pctVolToPctLel(l.value, lel),
      unit: '%vol',
      inclusive: true,
      source: l.source,
    });
  }
  const cap = rule.combustible.maxPctLel;
  if (cap !== null)
    limits.push({
      pctVol: pctLelToPctVol(cap.value, lel),
      pctLel: cap.value,
      unit: '%LEL',
      inclusive: cap.inclusive,
      source: cap.source,
    });
  // Strictest first: the lowest, and at equal numbers the one that must be stayed below.
  return limits.sort((a, b) => a.pctLel - b.pctLel || Number(a.inclusive) - Number(b.inclusive));
}

function judgeCombustible(
  rule: PermitRuleSet,
  gas: GasIdentity,
  lel: number,
  reading: PermitReading,
): CombustibleCheck {
  let valuePctVol: number;
  let valuePctLel: number;
  if (reading.unit === '%LEL') {
    valuePctLel = reading.value;
    valuePctVol = pctLelToPctVol(reading.value, lel);
  } else if (reading.unit === '%vol' || reading.unit === 'ppm') {
    valuePctVol = reading.unit === 'ppm' ? reading.value / PPM_PER_PERCENT_VOL : reading.value;
    valuePctLel = pctVolToPctLel(valuePctVol, lel);
  } else throw invalid(gas, reading, `a combustible is read in %LEL, %vol or ppm, not ${reading.unit}`);
  const limits = combustibleLimits(rule, lel);
  if (limits.length === 0)
    throw new PermitRuleError('invalid_option', `rule set ${rule.id} has no combustible limit`, {
      rule: rule.id,
    });
  // Compare in the reading's unit, so a reading written as the limit is the limit.
  const inLel = reading.unit === '%LEL';
  const passes = (l: CombustibleLimit) => {
    const v = inLel ? valuePctLel : valuePctVol;
    const limit = inLel ? l.pctLel : l.pctVol;
    return l.inclusive ? v <= limit : v < limit;
  };
  const failed = limits.find((l) => !passes(l));
  const decisive = failed ?? (limits[0] as CombustibleLimit);
  return {
    check: 'combustible',
    gas,
    pass: failed === undefined,
    reason: failed === undefined ? null : failed.inclusive ? 'combustible_high' : 'combustible_not_below',
    lelPercentVol: lel,
    valuePctVol,
    valuePctLel,
    limitPctVol: decisive.pctVol,
    limitPctLel: decisive.pctLel,
    limitUnit: decisive.unit,
    inclusive: decisive.inclusive,
    source: decisive.source,
  };
}

/** The limit a pre-entry test holds a toxic gas to: the first of the rule's kinds the gas has. */
export function toxicLimitFor(rule: PermitRuleSet, gas: GasId): ToxicLimit | null {
  for (const kind of rule.toxic.judgedAgainst) {
    const l = rule.toxic.limits.find((x) => x.gas === gas && x.kind === kind);
    if (l !== undefined) return l;
  }
  return null;
}

function judgeToxic(rule: PermitRuleSet, gas: GasId, reading: PermitReading): ToxicCheck {
  const vm = rule.toxic.molarVolumeL.value;
  let valuePpm: number;
  if (reading.unit === 'ppm') valuePpm = reading.value;
  else if (reading.unit === '%vol') valuePpm = reading.value * PPM_PER_PERCENT_VOL;
  else if (reading.unit === 'mg/m³') valuePpm = mgM3ToPpmAt(gas, reading.value, vm);
  else if (reading.unit === '%LEL' && lelOf(gas) !== null)
    valuePpm = pctLelToPctVol(reading.value, lelOf(gas) as number) * PPM_PER_PERCENT_VOL;
  else throw invalid(gas, reading, `a toxic gas is read in ppm, mg/m³ or %vol, not ${reading.unit}`);
  // The methane-calibrated LEL channel has no molar mass: ppm only.
  const valueMgM3 =
    reading.unit === 'mg/m³'
      ? reading.value
      : GASES[gas].molarMass === undefined
        ? null
        : ppmToMgM3At(gas, valuePpm, vm);
  const limit = toxicLimitFor(rule, gas);
  if (limit === null)
    return {
      check: 'toxic',
      gas,
      pass: false,
      reason: 'no_limit',
      valuePpm,
      valueMgM3,
      limit: null,
      source: `${rule.name}: no limit for ${gas}; set one in the site's permit rules`,
    };
  const ppm = toxicLimitPpm(limit, vm);
  const mgM3 = toxicLimitMgM3(limit, vm);
  // In the reading's unit: a reading of exactly 10 mg/m³ H2S is at the MAC, not 1e-15 above it.
  const over = reading.unit === 'mg/m³' ? reading.value > mgM3 : valuePpm > ppm;
  return {
    check: 'toxic',
    gas,
    pass: !over,
    reason: over ? 'toxic_high' : null,
    valuePpm,
    valueMgM3,
    limit: { kind: limit.kind, value: limit.value, unit: limit.unit, ppm, mgM3 },
    source: limit.source,
  };
}

/**
 * Judge one reading of one gas. `space.oxygenEnriched` raises the O2 maximum to the enriched
 * limit. A combustible is judged as a combustible and, when the rule set has a toxic limit for it
 * (OSHA's propane PEL), as a toxic too; a gas that is neither O2 nor combustible and has no limit in
 * the rule set fails with `no_limit` (nothing to judge it by is not a pass). Throws
 * PermitRuleError('invalid_reading') for a unit the gas is not read in or a value that is not a
 * finite number.
 */
export function judgeReading(
  rule: PermitRuleSet,
  gas: GasIdentity,
  reading: PermitReading,
  space: Partial<PermitSpace> = {},
): GasJudgement {
  if (!Number.isFinite(reading.value)) throw invalid(gas, reading, 'the value is not a number');
  const checks: GasCheck[] = [];
  const lel = lelOf(gas);
  if (gas === 'O2') checks.push(judgeOxygen(rule, reading, space));
  else if (lel !== null) {
    checks.push(judgeCombustible(rule, gas, lel, reading));
    if (typeof gas === 'string' && toxicLimitFor(rule, gas) !== null)
      checks.push(judgeToxic(rule, gas, reading));
  } else if (typeof gas === 'string') checks.push(judgeToxic(rule, gas, reading));
  return { gas, pass: checks.every((c) => c.pass), checks };
}

/** The checks of a judgement that failed, the reason of each first. */
export function failedChecks(j: GasJudgement): GasCheck[] {
  return j.checks.filter((c) => !c.pass);
}
