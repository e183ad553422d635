import { z } from 'zod';

/** Every gas gaswatch knows, in its canonical unit (SPEC §2, gas catalogue). */
export const GAS_IDS = ['CO', 'H2S', 'O2', 'CH4', 'C3H8', 'LEL', 'CO2'] as const;
export const GasIdSchema = z.enum(GAS_IDS).describe('Gas or channel id from the gas catalogue');
export type GasId = z.infer<typeof GasIdSchema>;

export type GasUnit = 'ppm' | '%vol' | '%LEL';

export interface GasInfo {
  id: GasId;
  name: string;
  /** The unit every reading of this gas is published and stored in. */
  unit: GasUnit;
  /** Molar mass in g/mol, for ppm ↔ mg/m³ (toxic gases only). */
  molarMass?: number;
  /** Lower explosive limit in %vol (combustible gases only). */
  lelPercentVol?: number;
}

export const GASES: Readonly<Record<GasId, GasInfo>> = {
  CO: { id: 'CO', name: 'carbon monoxide', unit: 'ppm', molarMass: 28.01 },
  H2S: { id: 'H2S', name: 'hydrogen sulfide', unit: 'ppm', molarMass: 34.08 },
  O2: { id: 'O2', name: 'oxygen', unit: '%vol', molarMass: 32.0 },
  CH4: { id: 'CH4', name: 'methane', unit: '%LEL', molarMass: 16.04, lelPercentVol: 5.0 },
  C3H8: { id: 'C3H8', name: 'propane', unit: '%LEL', molarMass: 44.1, lelPercentVol: 2.1 },
  // A catalytic or IR combustible channel calibrated on methane.
  LEL: { id: 'LEL', name: 'combustible gas (methane-calibrated)', unit: '%LEL', lelPercentVol: 5.0 },
  CO2: { id: 'CO2', name: 'carbon dioxide', unit: 'ppm', molarMass: 44.01 },
};

/**
 * Each gas as a Chinese safety officer names it, the same in SMS, exports, permits and the console.
 * (The English names differ by place: an SMS says "CO", a permit "Oxygen".)
 */
export const GAS_NAMES_ZH: Readonly<Record<GasId, string>> = {
  CO: '一氧化碳',
  H2S: '硫化氢',
  O2: '氧气',
  CH4: '甲烷',
  C3H8: '丙烷',
  LEL: '可燃气体',
  CO2: '二氧化碳',
};

/**
 * Molar volume basis for ppm ↔ mg/m³: 24.45 L at 25 °C (OSHA/NIOSH) or 22.4 L at 0 °C (common in
 * Chinese practice). Which one a site uses is configuration.
 */
export const MOLAR_VOLUME = { '25C': 24.45, '0C': 22.4 } as const;
export type MolarVolumeBasis = keyof typeof MOLAR_VOLUME;

function molarMassOf(gas: GasId): number {
  const m = GASES[gas].molarMass;
  if (m === undefined) throw new RangeError(`${gas} has no molar mass: no ppm ↔ mg/m³ conversion`);
  return m;
}

/** mg/m³ = ppm × M / Vm. */
export function ppmToMgM3(gas: GasId, ppm: number, basis: MolarVolumeBasis = '25C'): number {
  return (ppm * molarMassOf(gas)) / MOLAR_VOLUME[basis];
}

/** ppm = mg/m³ × Vm / M. */
export function mgM3ToPpm(gas: GasId, mgM3: number, basis: MolarVolumeBasis = '25C'): number {
  return (mgM3 * MOLAR_VOLUME[basis]) / molarMassOf(gas);
}

/** %vol of a combustible gas → %LEL (methane: 5 %vol is 100 %LEL). */
export function percentVolToLel(gas: GasId, percentVol: number): number {
  const lel = GASES[gas].lelPercentVol;
  if (lel === undefined) throw new RangeError(`${gas} has no lower explosive limit`);
  return (percentVol / lel) * 100;
}

/** %LEL → %vol. */
export function lelToPercentVol(gas: GasId, percentLel: number): number {
  const lel = GASES[gas].lelPercentVol;
  if (lel === undefined) throw new RangeError(`${gas} has no lower explosive limit`);
  return (percentLel / 100) * lel;
}
