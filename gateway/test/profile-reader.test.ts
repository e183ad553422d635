import { builtinProfile, encodeRegisters, type ModbusProfile } from '@gaswatch/shared';
import { describe, expect, it } from 'vitest';
import { decodeSample, planReads, type RegisterImage } from '../src/modbus/profile-reader.js';

const image = (fc: 3 | 4, regs: Record<number, number>): RegisterImage =>
  new Map([[fc, new Map(Object.entries(regs).map(([a, v]) => [Number(a), v]))]]);

describe('profile reader', () => {
  it('reads the channels of each built-in profile in as few requests as the map allows', () => {
    expect(planReads(builtinProfile('gaswatch-co') as ModbusProfile)).toEqual([
      { fc: 3, address: 0, count: 3 },
    ]);
    expect(planReads(builtinProfile('gaswatch-4gas') as ModbusProfile)).toEqual([
      { fc: 4, address: 0, count: 9 },
    ]);
    expect(planReads(builtinProfile('midas') as ModbusProfile)).toEqual([{ fc: 3, address: 0, count: 6 }]);
  });

  it('decodes float32 in both word orders and the Midas state field', () => {
    const [lo, hi] = encodeRegisters(42.5, 'float32', 'le');
    const midas = builtinProfile('midas') as ModbusProfile;
    // state 1 (monitoring), bit 6 low alarm
    const s = decodeSample(midas, image(3, { 0: 1 | (1 << 6), 1: 0, 2: lo!, 3: hi!, 4: 0, 5: 0 }), 0);
    expect(s.values.CO).toBeCloseTo(42.5, 5);
    expect(s.status).toBe('ok');
    expect(s.alarm).toBe(true);
    const bump = decodeSample(midas, image(3, { 0: 3, 1: 0, 2: lo!, 3: hi!, 4: 0, 5: 0 }), 0);
    expect(bump.status).toBe('bump_test');
    // The same registers read high word first give a different (wrong) number: the order matters.
    const be: ModbusProfile = { ...midas, channels: [{ ...midas.channels[0]!, wordOrder: 'be' }] };
    expect(decodeSample(be, image(3, { 0: 1, 2: lo!, 3: hi!, 5: 0 }), 0).values.CO).not.toBeCloseTo(42.5, 1);
  });

  it('applies the decimals register, marks over-range as bad and a fault code as a fault', () => {
    const four = builtinProfile('gaswatch-4gas') as ModbusProfile;
    const s = decodeSample(
      four,
      image(4, { 0: 209, 1: 125, 2: 35, 3: 12, 4: 1 << 2, 5: 3, 6: 0, 7: 0, 8: 1 }),
      0,
    );
    expect(s.values).toEqual({ O2: 20.9, LEL: 12.5, CO: 35, H2S: 1.2 });
    expect(s.status).toBe('fault');
    expect(s.faults).toEqual(['fault', 'code_3']);
    const over = decodeSample(four, image(4, { 0: 209, 1: 1500, 2: 35, 3: 12, 4: 0, 5: 0, 8: 1 }), 0);
    expect(over.quality?.LEL).toBe('bad');
  });

  it('a NaN float is no value: with no usable channel the read fails instead of reporting 0', () => {
    const lel = builtinProfile('gaswatch-lel') as ModbusProfile;
    const onlyLel: ModbusProfile = { ...lel, channels: [lel.channels[0]!] };
    expect(() => decodeSample(onlyLel, image(3, { 0: 0x7fc0, 1: 0, 2: 0, 3: 0, 4: 0 }), 0)).toThrow(
      /no usable channel/,
    );
  });
});
