import type { ExposureLimit } from './types.js';

// The standards' numbers the rule sets are built from (SPEC §6; sources in docs/alarm-math.md).
// A safety reviewer checks them here, in one place.

/** UL 2034 dose: τ = 90 min, alarm at D ≥ 45 ppm. */
export const UL2034 = { tauMin: 90, setPointPpm: 45 } as const;
/** EN 50291 slow tier τ = 45 min, D ≥ 40 ppm; fast tier ≥ 300 ppm held 2 min. */
export const EN50291 = { tauMin: 45, setPointPpm: 40, fastPpm: 300, fastHoldS: 120 } as const;
/**
 * Combustible first/second alarm, %LEL: GB/T 50493-2019 25 / 50; in a home (siteType 'household')
 * the first alarm is 10 %LEL (GB 15322), the second stays at 50.
 */
export const COMBUSTIBLE = { lowLel: 25, householdLowLel: 10, highLel: 50 } as const;
/** Confined-space 4-gas set points. */
export const CONFINED_SPACE = {
  o2LowPct: 19.5,
  o2HighPct: 23.5,
  lelLow: 10,
  lelHigh: 20,
  coLowPpm: 35,
  coHighPpm: 200,
  h2sLowPpm: 10,
  h2sHighPpm: 15,
} as const;
/** GBZ 2.1-2019 occupational exposure limits used by default in confined-space. */
export const GBZ21_LIMITS: readonly ExposureLimit[] = [
  { gas: 'CO', twaMgM3: 20, stelMgM3: 30 },
  { gas: 'H2S', macMgM3: 10 },
];
/** Oxygen in normal air, %vol: the O2 hysteresis band is a fraction of the distance from it. */
export const NORMAL_O2_PCT = 20.9;
export const STEL_WINDOW_MS = 15 * 60_000;
export const TWA_WINDOW_MS = 8 * 3_600_000;
