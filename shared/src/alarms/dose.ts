/**
 * The CO dose accumulator of UL 2034 / EN 50291 style alarms: a first-order low-pass of the
 * concentration, dD/dt = (C − D)/τ. Between two samples the concentration is held at the earlier
 * sample's value (zero-order hold), for which the ODE has the exact solution
 *   D(t0 + Δt) = C + (D(t0) − C) · e^(−Δt/τ)
 * so the dose does not depend on the sampling rate: ten 6-s steps equal one 60-s step (to
 * floating-point rounding).
 */

const MS_PER_MIN = 60_000;

/**
 * Advance a dose by `dtMs` with concentration `c` held over the interval.
 * @param dose dose at the start of the interval (ppm)
 * @param c concentration held over the interval (ppm)
 * @param dtMs interval length, ms (≤ 0 leaves the dose unchanged)
 * @param tauMin time constant τ in minutes (UL 2034: 90, EN 50291 slow tier: 45)
 */
export function doseStep(dose: number, c: number, dtMs: number, tauMin: number): number {
  if (!(dtMs > 0)) return dose;
  return c + (dose - c) * Math.exp(-dtMs / (tauMin * MS_PER_MIN));
}

/**
 * Closed form: time (ms) for the dose to rise from `dose0` to `setPoint` at constant `c`;
 * Infinity when it never does (c ≤ setPoint approaches the set point only asymptotically).
 * t = τ · ln((c − D0) / (c − S)).
 */
export function doseTimeToReach(setPoint: number, c: number, tauMin: number, dose0 = 0): number {
  if (dose0 >= setPoint) return 0;
  if (!(c > setPoint)) return Number.POSITIVE_INFINITY;
  return tauMin * MS_PER_MIN * Math.log((c - dose0) / (c - setPoint));
}
