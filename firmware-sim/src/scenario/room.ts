/**
 * The well-mixed room: dC/dt = S/V − ACH·(C − C_out). Sources are litres per minute of pure gas; the
 * zone keeps each gas in its canonical unit (ppm, %vol, %LEL). Over an interval with constant
 * parameters the equation has the exact solution used here, so the step size changes nothing:
 *   C(t) = C_ss + (C0 − C_ss)·e^(−ACH·t),  C_ss = C_out + S'/ACH   (ACH > 0)
 *   C(t) = C0 + S'·t                                               (ACH = 0)
 * with S' the source term in canonical units per hour and t in hours.
 */
import { GASES, type GasId } from '@gaswatch/shared';

/** Canonical units per hour of one litre per minute of pure gas spread in `volumeM3`. */
export function sourceTermPerHour(gas: GasId, lpm: number, volumeM3: number): number {
  const fractionPerHour = (lpm * 60) / 1000 / volumeM3;
  return fractionPerHour * unitPerFraction(gas);
}

/** Canonical units of a volume fraction of 1 (pure gas): ppm 1e6, %vol 100, %LEL 100/LEL·100. */
export function unitPerFraction(gas: GasId): number {
  const info = GASES[gas];
  if (info.unit === 'ppm') return 1e6;
  if (info.unit === '%vol') return 100;
  return 1e4 / info.lelPercentVol!;
}

/**
 * Exact solution of the room model over `hours` with constant source term `s` (canonical units/h),
 * air changes per hour `ach`, outdoor (make-up air) concentration `outdoor`, start value `c0`.
 */
export function roomStep(c0: number, s: number, ach: number, outdoor: number, hours: number): number {
  if (hours <= 0) return c0;
  if (ach <= 0) return c0 + s * hours;
  const css = outdoor + s / ach;
  return css + (c0 - css) * Math.exp(-ach * hours);
}
