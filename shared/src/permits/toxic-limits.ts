import { GASES, type GasId } from '../gases.js';
import { PermitRuleError } from './errors.js';
import type { CitedNumber, ToxicLimit } from './rule-set.js';

/**
 * Toxic limits for the catalogue's gases (SPEC §2, §7), as the standards' tables give them.
 * Methane and propane are judged as combustibles (their GB 30871 limit, 0.5 / 0.2 %vol, is the one
 * that binds); GBZ 2.1-2019 lists neither (it lists liquefied petroleum gas, PC-TWA 1000 / PC-STEL
 * 1500 mg/m³: a site whose propane channel watches LPG adds that as a site limit).
 */

/**
 * GBZ 2.1-2019 states its limits at 20 °C and 101.3 kPa, so that is the basis of the mg/m³ ↔ ppm
 * conversion for them: Vm = R·T/P = 8.314 J/(mol·K) × 293.15 K / 101.3 kPa = 24.06 L/mol, and
 * ppm = mg/m³ × 24.06 / M. (SPEC §2's 24.45 L and 22.4 L are the 25 °C and 0 °C bases of the alarm
 * engine's exposure windows; a limit's own basis is the one to convert it on.)
 */
export const GBZ21_MOLAR_VOLUME: CitedNumber = {
  value: 24.06,
  source: 'GBZ 2.1-2019: limits at 20 °C, 101.3 kPa; Vm = R·T/P = 8.314 × 293.15 / 101.3',
  setBy: 'standard',
};

/** GBZ 2.1-2019 table 1, the catalogue's toxic gases (CO: not at high altitude). */
export const GBZ21_TOXIC_LIMITS: readonly ToxicLimit[] = [
  { gas: 'CO', kind: 'pc_twa', value: 20, unit: 'mg/m³', source: 'GBZ 2.1-2019 table 1, 一氧化碳 (非高原)' },
  { gas: 'CO', kind: 'pc_stel', value: 30, unit: 'mg/m³', source: 'GBZ 2.1-2019 table 1, 一氧化碳 (非高原)' },
  { gas: 'H2S', kind: 'mac', value: 10, unit: 'mg/m³', source: 'GBZ 2.1-2019 table 1, 硫化氢' },
  { gas: 'CO2', kind: 'pc_twa', value: 9000, unit: 'mg/m³', source: 'GBZ 2.1-2019 table 1, 二氧化碳' },
  { gas: 'CO2', kind: 'pc_stel', value: 18000, unit: 'mg/m³', source: 'GBZ 2.1-2019 table 1, 二氧化碳' },
];

/**
 * For a pre-entry test, GBZ 2.1's ceiling if the gas has one, else its short-term limit, else its
 * 8-h mean. A gas test is a spot reading: the MAC may never be exceeded at any moment, and a
 * reading above the PC-STEL means a worker breathing it for 15 min is over that limit, so those
 * are what a spot reading can be held to. The PC-TWA is an 8-h mean, which a spot reading
 * cannot measure; the alarm engine's TWA window watches it during the work (SPEC §6). A gas with
 * only a PC-TWA is held to it (the strict reading of "≤ GBZ 2.1", as no short-term number exists).
 */
export const GBZ21_JUDGED_AGAINST = {
  kinds: ['site', 'mac', 'pc_stel', 'pc_twa'] as const,
  source:
    'GB 30871-2022 6.4b "≤ GBZ 2.1": a spot reading is held to the MAC, else the PC-STEL, else the PC-TWA; the TWA of the work itself is the alarm engine’s (SPEC §6)',
};

/**
 * OSHA permissible exposure limits (29 CFR 1910.1000) of the catalogue's gases. Methane has none
 * (a simple asphyxiant: its hazard is oxygen and flammability).
 */
export const OSHA_PELS: readonly ToxicLimit[] = [
  {
    gas: 'CO',
    kind: 'pel_twa',
    value: 50,
    unit: 'ppm',
    source: '29 CFR 1910.1000 Table Z-1, carbon monoxide',
  },
  {
    gas: 'H2S',
    kind: 'pel_ceiling',
    value: 20,
    unit: 'ppm',
    source: '29 CFR 1910.1000 Table Z-2, hydrogen sulfide: acceptable ceiling (peak 50 ppm, 10 min once)',
  },
  {
    gas: 'CO2',
    kind: 'pel_twa',
    value: 5000,
    unit: 'ppm',
    source: '29 CFR 1910.1000 Table Z-1, carbon dioxide',
  },
  { gas: 'C3H8', kind: 'pel_twa', value: 1000, unit: 'ppm', source: '29 CFR 1910.1000 Table Z-1, propane' },
];

/**
 * The ceiling where Table Z-2 gives one, else the 8-h TWA: 1910.146(b) calls an atmosphere
 * hazardous above "a permissible exposure limit", and before entry a spot reading is all there is.
 */
export const OSHA_JUDGED_AGAINST = {
  kinds: ['site', 'pel_ceiling', 'pel_twa'] as const,
  source:
    '1910.146(b) hazardous atmosphere (5): above a PEL; the Z-2 ceiling where there is one, else the TWA',
};

function molarMass(gas: GasId): number {
  const m = GASES[gas].molarMass;
  if (m === undefined)
    throw new PermitRuleError('invalid_option', `${gas} has no molar mass: no ppm ↔ mg/m³`);
  return m;
}

/** ppm = mg/m³ × Vm / M. */
export function mgM3ToPpmAt(gas: GasId, mgM3: number, molarVolumeL: number): number {
  return (mgM3 * molarVolumeL) / molarMass(gas);
}

/** mg/m³ = ppm × M / Vm. */
export function ppmToMgM3At(gas: GasId, ppm: number, molarVolumeL: number): number {
  return (ppm * molarMass(gas)) / molarVolumeL;
}

/** A limit in ppm, converted on the rule set's molar volume when the table gives mg/m³. */
export function toxicLimitPpm(limit: ToxicLimit, molarVolumeL: number): number {
  return limit.unit === 'ppm' ? limit.value : mgM3ToPpmAt(limit.gas, limit.value, molarVolumeL);
}

/** A limit in mg/m³. */
export function toxicLimitMgM3(limit: ToxicLimit, molarVolumeL: number): number {
  return limit.unit === 'mg/m³' ? limit.value : ppmToMgM3At(limit.gas, limit.value, molarVolumeL);
}
