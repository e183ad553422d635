/**
 * A set point with hysteresis and on-delay, evaluated on event time.
 *
 * - An on-delay starts at the first sample that compares true against the set point (`op`). While
 *   it runs it keeps running as long as every sample stays on the alarm side of the clear level
 *   (the set point shifted by the band towards safety); a sample that crosses the clear level
 *   cancels it, and the next exceedance starts it afresh. Noise around the set point therefore
 *   does not restart it (EN 50291: 300 ppm with ±1 % noise alarms like a steady 300 ppm).
 * - Raise at the first sample at or after the end of the on-delay while the run lasts (0: raise on
 *   the first exceeding sample); that sample may be inside the band, as an active alarm would stay
 *   active there. A sample inside the band with no run going starts nothing.
 * - Clear when the same comparison fails against the clear level: for '≥'/'>' set points, clear
 *   below `setPoint − band`; for '<'/'≤' (O2 deficiency), clear above `setPoint + band`. A value
 *   inside the band keeps an active alarm active and does not start a new one.
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
  /**
   * Event time of the first exceeding sample of the current run while waiting for the on-delay; the
   * run lasts until a sample crosses the clear level (or a data gap).
   */
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
    // Inside the band an on-delay that is running keeps running (noise around the set point must
    // not restart it) and raises once it has run; crossing the clear level, or a gap, cancels it.
    // Nothing new starts inside the band.
    if (state.pendingSince === null) return { state, change: null };
    if (restart || !compare(spec.op, value, clearLevel(spec))) return { state: THRESHOLD_IDLE, change: null };
    if (ts - state.pendingSince >= spec.onDelayMs)
      return { state: { active: true, pendingSince: null }, change: 'raised' };
    return { state, change: null };
  }
  const since = state.pendingSince === null || restart ? ts : state.pendingSince;
  if (ts - since >= spec.onDelayMs) return { state: { active: true, pendingSince: null }, change: 'raised' };
  return {
    state: since === state.pendingSince ? state : { active: false, pendingSince: since },
    change: null,
  };
}
