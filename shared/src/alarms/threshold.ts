/**
 * A set point with hysteresis and on-delay, evaluated on event time.
 *
 * - Raise when the value compares true against the set point (`op`) on every sample for at least
 *   `onDelayMs` (measured from the first sample that exceeded; 0 raises on that sample).
 * - Clear when the same comparison fails against the set point shifted by the band towards safety:
 *   for '≥'/'>' set points, clear below `setPoint − band`; for '<'/'≤' (O2 deficiency), clear above
 *   `setPoint + band`. A value inside the band keeps an active alarm active and does not start a new one.
 */

export type ThresholdOp = '>=' | '>' | '<' | '<=';

export interface ThresholdSpec {
  /** The set point, in the unit of the measured value. */
  setPoint: number;
  /** How the value must compare with the set point to be in alarm. */
  op: ThresholdOp;
  /** Hysteresis band, absolute, in the unit of the value (≥ 0). */
  band: number;
  /** How long the value must stay in alarm before the alarm is raised, ms (≥ 0). */
  onDelayMs: number;
}

export interface ThresholdState {
  /** True while the alarm is raised. */
  active: boolean;
  /** Event time of the first sample of the current exceedance run while waiting for the on-delay. */
  pendingSince: number | null;
}

export interface ThresholdStep {
  state: ThresholdState;
  change: 'raised' | 'cleared' | null;
}

export const THRESHOLD_IDLE: ThresholdState = Object.freeze({ active: false, pendingSince: null });

export function compare(op: ThresholdOp, value: number, setPoint: number): boolean {
  switch (op) {
    case '>=':
      return value >= setPoint;
    case '>':
      return value > setPoint;
    case '<':
      return value < setPoint;
    case '<=':
      return value <= setPoint;
  }
}

/** The level a value must cross back over to clear an active alarm. */
export function clearLevel(spec: ThresholdSpec): number {
  return spec.op === '>=' || spec.op === '>' ? spec.setPoint - spec.band : spec.setPoint + spec.band;
}

/**
 * One sample through a threshold. `restart` says the value was not known continuously since the
 * previous sample (a gap in the data): a pending on-delay then starts again from this sample,
 * because nobody can tell that the level held through the gap.
 */
export function thresholdStep(
  state: ThresholdState,
  value: number,
  ts: number,
  spec: ThresholdSpec,
  restart = false,
): ThresholdStep {
  if (state.active) {
    if (compare(spec.op, value, clearLevel(spec))) return { state, change: null };
    return { state: THRESHOLD_IDLE, change: 'cleared' };
  }
  if (!compare(spec.op, value, spec.setPoint)) {
    return { state: state.pendingSince === null ? state : THRESHOLD_IDLE, change: null };
  }
  const since = state.pendingSince === null || restart ? ts : state.pendingSince;
  if (ts - since >= spec.onDelayMs) return { state: { active: true, pendingSince: null }, change: 'raised' };
  return {
    state: since === state.pendingSince ? state : { active: false, pendingSince: since },
    change: null,
  };
}
