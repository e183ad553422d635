import { GASES } from '../gases.js';
import type { GasCheckKind, GasIdentity } from './model.js';

/** 1 %vol is 10 000 ppm. */
export const PPM_PER_PERCENT_VOL = 10_000;

/** A gas identity's lower explosive limit in %vol, or null for a gas that does not burn. */
export function lelOf(gas: GasIdentity): number | null {
  return typeof gas === 'string' ? (GASES[gas].lelPercentVol ?? null) : gas.lelPercentVol;
}

/** The catalogue id or the permit's name of a gas, for logs and keys. */
export function gasLabel(gas: GasIdentity): string {
  return typeof gas === 'string' ? gas : gas.name;
}

/** Which check a gas gets first: O2 oxygen, anything with an LEL combustible, the rest toxic. */
export function gasCheckOf(gas: GasIdentity): GasCheckKind {
  if (gas === 'O2') return 'oxygen';
  return lelOf(gas) === null ? 'toxic' : 'combustible';
}

/** %LEL = %vol / LEL × 100 (methane, LEL 5.0 %vol: 0.5 %vol is 10 %LEL). */
export function pctVolToPctLel(pctVol: number, lelPercentVol: number): number {
  return (pctVol / lelPercentVol) * 100;
}

/** %vol = %LEL / 100 × LEL (propane, LEL 2.1 %vol: 9.52 %LEL is 0.2 %vol). */
export function pctLelToPctVol(pctLel: number, lelPercentVol: number): number {
  return (pctLel / 100) * lelPercentVol;
}
