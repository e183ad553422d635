/**
 * The well-mixed room: dC/dt = S/V − ACH·(C − C_out). Sources are litres per minute of pure gas; the
 * zone keeps each gas in its canonical unit (ppm, %vol, %LEL). Over an interval with constant
 * parameters the equation has the exact solution used here, so the step size changes nothing:
 *   C(t) = C_ss + (C0 − C_ss)·e^(−ACH·t),  C_ss = C_out + S'/ACH   (ACH > 0)
 *   C(t) = C0 + S'·t                                               (ACH = 0)
 * with S' the source term in canonical units per hour and t in hours.
 */
import { GASES, type GasId } from '@gaswatch/shared';

/**
 * Clean outdoor air, the default make-up air and the starting point of every room and device: O2
 * 20.9 %vol, CO2 ≈ 420 ppm (the global mean around 2024); every other gas 0.
 */
export const OUTDOOR_AIR: Readonly<Partial<Record<GasId, number>>> = Object.freeze({ O2: 20.9, CO2: 420 });

/** Fuels a flame in a scenario may burn: methane (natural gas), propane (LPG), carbon (charcoal). */
export const FUELS = {
  CH4: { carbon: 1, hydrogen: 4 },
  C3H8: { carbon: 3, hydrogen: 8 },
  C: { carbon: 1, hydrogen: 0 },
} as const;
export type Fuel = keyof typeof FUELS;

/**
 * What a flame does to the room air, in litres per minute (ideal gases: litres are moles): burning
 * `fuelLpm` of CxHy with the fraction `coFraction` of its carbon ending up as CO (incomplete
 * combustion, a vitiated flame) and the rest as CO2:
 *   CxHy + (x + y/4) O2 → x CO2 + y/2 H2O, and every C that leaves as CO needs ½ O2 less.
 * So O2 = −((x + y/4)·F − ½·CO), CO = φ·x·F, CO2 = (1 − φ)·x·F. (Water vapour is not modelled.)
 */
export function combustion(
  fuel: Fuel,
  fuelLpm: number,
  coFraction: number,
): { CO: number; CO2: number; O2: number } {
  if (!(fuelLpm >= 0) || !Number.isFinite(fuelLpm))
    throw new RangeError(`fuel rate must be ≥ 0 L/min, got ${fuelLpm}`);
  if (!(coFraction >= 0 && coFraction <= 1))
    throw new RangeError(`CO fraction must be 0..1, got ${coFraction}`);
  const { carbon, hydrogen } = FUELS[fuel];
  const co = coFraction * carbon * fuelLpm;
  const co2 = (1 - coFraction) * carbon * fuelLpm;
  const o2 = -((carbon + hydrogen / 4) * fuelLpm - co / 2);
  return { CO: co, CO2: co2, O2: o2 };
}

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
