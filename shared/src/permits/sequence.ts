import { gasCheckOf, gasLabel } from './conversions.js';
import { PermitRuleError } from './errors.js';
import type { GasCheckKind, GasIdentity, PermitSpace, PermitType, TestPosition } from './model.js';
import type { PermitRuleSet } from './rule-set.js';

/**
 * The guided gas test (SPEC §7, issue 14): where to sample and in which order, and when a reading
 * counts. The console walks a tester through `testSequence`; the server refuses a test whose
 * readings did not settle.
 */

const LEVELS: readonly TestPosition[] = ['top', 'middle', 'bottom'];

/**
 * Where a permit's test samples. Confined space: top, middle and bottom of a large space (GB
 * 30871-2022 6.3b; top first, as the probe goes down), one representative point of a small one.
 * Hot work: within 10 m of the point (5.3.1b); on a vessel or pipe wall also inside it; inside
 * equipment, its levels when it is large (5.3.1a).
 */
export function requiredPositions(type: PermitType, space: Partial<PermitSpace> = {}): TestPosition[] {
  const inside: TestPosition[] = space.large === true ? [...LEVELS] : ['inside_equipment'];
  if (type.kind === 'confined_space') return space.large === true ? [...LEVELS] : ['representative'];
  switch (space.hotWorkSite ?? 'open') {
    case 'open':
      return ['within_10m'];
    case 'equipment_wall':
      return ['within_10m', ...inside];
    case 'inside_equipment':
      return inside;
  }
}

/**
 * Which checks a permit's test must have. A confined space: oxygen, combustibles, toxics (GB
 * 30871-2022 6.4; OSHA 1910.146(d)(5)(iii)). Hot work: combustibles (5.3.2); hot work inside
 * equipment is also an entry into it, so all three.
 */
export function requiredChecks(type: PermitType, space: Partial<PermitSpace> = {}): GasCheckKind[] {
  if (type.kind === 'hot_work' && space.hotWorkSite !== 'inside_equipment') return ['combustible'];
  return ['oxygen', 'combustible', 'toxic'];
}

/** The required checks none of `gases` covers (a detector without an O2 cell cannot test a confined space). */
export function missingChecks(
  type: PermitType,
  space: Partial<PermitSpace>,
  gases: readonly GasIdentity[],
): GasCheckKind[] {
  const covered = new Set(gases.map(gasCheckOf));
  return requiredChecks(type, space).filter((c) => !covered.has(c));
}

export interface TestStep {
  position: TestPosition;
  gas: GasIdentity;
  check: GasCheckKind;
}

/**
 * Every reading the test takes, in order: position by position, and at each, oxygen, then
 * combustibles, then toxics (the rule set's `testOrder`); gases of one kind keep the order given.
 * A gas given twice is tested once.
 */
export function testSequence(
  rule: PermitRuleSet,
  type: PermitType,
  space: Partial<PermitSpace>,
  gases: readonly GasIdentity[],
): TestStep[] {
  const seen = new Set<string>();
  const unique = gases.filter((g) => {
    const key = gasLabel(g);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const order = rule.testOrder.value;
  const ordered = unique
    .map((gas, i) => ({ gas, check: gasCheckOf(gas), i }))
    .sort((a, b) => order.indexOf(a.check) - order.indexOf(b.check) || a.i - b.i);
  return requiredPositions(type, space).flatMap((position) =>
    ordered.map(({ gas, check }) => ({ position, gas, check })),
  );
}

/**
 * A reading counts once the detector has been at its position for its response time (T90): held
 * exactly that long counts, a millisecond less does not. Times in ms since the epoch.
 */
export function readingSettled(placedAt: number, readAt: number, responseTimeS: number): boolean {
  if (!Number.isFinite(responseTimeS) || responseTimeS <= 0)
    throw new PermitRuleError(
      'invalid_option',
      `response time must be a positive number of seconds, not ${responseTimeS}`,
    );
  if (!Number.isFinite(placedAt) || !Number.isFinite(readAt))
    throw new PermitRuleError('invalid_option', 'placedAt and readAt must be times in ms');
  return readAt - placedAt >= responseTimeS * 1000;
}
