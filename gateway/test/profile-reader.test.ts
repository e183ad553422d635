import { builtinProfile, createRuleSet, encodeRegisters, type ModbusProfile } from '@gaswatch/shared';
import { describe, expect, it } from 'vitest';
import {
  decodeSample,
  negativeDriftFloor,
  planReads,
  type RegisterImage,
} from '../src/modbus/profile-reader.js';

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

  describe('negative values and full scale', () => {
    const midas = builtinProfile('midas') as ModbusProfile;
    const lel = builtinProfile('gaswatch-lel') as ModbusProfile;
    /** Midas registers with CO as float32 (state 1: monitoring). */
    const midasImage = (co: number) => {
      const [lo, hi] = encodeRegisters(co, 'float32', 'le');
      return image(3, { 0: 1, 1: 0, 2: lo!, 3: hi!, 4: 0, 5: 0 });
    };
    /** gaswatch-lel registers: LEL float32 (high word first), CO uint16, status and fault code 0. */
    const lelImage = (lelValue: number, co: number) => {
      const [a, b] = encodeRegisters(lelValue, 'float32', 'be');
      return image(3, { 0: a!, 1: b!, 2: co, 3: 0, 4: 0 });
    };

    it('small negative drift (down to −2 % of full scale) reads 0 with quality uncertain', () => {
      const s = decodeSample(midas, midasImage(-20), 0); // −2 % of 1000 ppm
      expect(s.values).toEqual({ CO: 0 });
      expect(s.quality).toEqual({ CO: 'uncertain' });
      expect(s.faults).toBeUndefined();
      const l = decodeSample(lel, lelImage(-1.5, 0), 0);
      expect(l.values).toEqual({ LEL: 0, CO: 0 });
      expect(l.quality).toEqual({ LEL: 'uncertain' });
    });

    it('a broken sensor far below zero is no value: never a clean 0', () => {
      // Single channel (Midas −3276.8, a classic int16 wrap): the read fails and says why.
      expect(() => decodeSample(midas, midasImage(-3276.8), 0)).toThrow(
        /no usable channel.*CO bad.*negative_CO/,
      );
      expect(() => decodeSample(midas, midasImage(-20.5), 0)).toThrow(/negative_CO/);
      // Two channels: the broken one is left out and marked bad, the other one still counts.
      const s = decodeSample(lel, lelImage(-40, 35), 0);
      expect(s.values).toEqual({ CO: 35 });
      expect(s.values.LEL).toBeUndefined();
      expect(s.quality).toEqual({ LEL: 'bad' });
      expect(s.faults).toEqual(['negative_LEL']);
    });

    it('a broken-negative channel never clears an active alarm in the local rules', () => {
      const rs = createRuleSet('combustible');
      let st = rs.initial();
      const T = Date.UTC(2026, 10, 23);
      st = rs.step(st, { ...decodeSample(lel, lelImage(30, 0), T), ts: T }).state; // LEL:low raised
      const r = rs.step(st, { ...decodeSample(lel, lelImage(-3276.8, 0), T + 5000), ts: T + 5000 });
      // The gas alarm holds, and the unreadable channel is a fault of its own (never a quiet gap).
      expect(r.events.map((e) => `${e.type} ${e.condition.key}`)).toEqual(['raised fault']);
      expect(r.active.map((c) => c.key).sort()).toEqual(['LEL:low', 'fault']);
      // Whereas a genuine 0 (the gas is gone) clears it.
      expect(
        rs.step(st, { ...decodeSample(lel, lelImage(0, 0), T + 5000), ts: T + 5000 }).events,
      ).toMatchObject([{ type: 'cleared', condition: { key: 'LEL:low' } }]);
    });

    it('without a full scale the drift floor is absolute per unit (ppm −10, %vol −0.5, %LEL −2)', () => {
      expect(negativeDriftFloor('CO', undefined)).toBe(-10);
      expect(negativeDriftFloor('O2', undefined)).toBe(-0.5);
      expect(negativeDriftFloor('LEL', undefined)).toBe(-2);
      expect(negativeDriftFloor('CO', 1000)).toBe(-20);
      const bare: ModbusProfile = { ...midas, channels: [{ ...midas.channels[0]!, fullScale: undefined }] };
      expect(decodeSample(bare, midasImage(-9.5), 0).values).toEqual({ CO: 0 });
      expect(() => decodeSample(bare, midasImage(-10.5), 0)).toThrow(/negative_CO/);
    });

    it('a value at full scale is over range (bad), just below it is not', () => {
      expect(decodeSample(midas, midasImage(1000), 0).quality).toEqual({ CO: 'bad' });
      expect(decodeSample(midas, midasImage(999.9), 0).quality).toBeUndefined();
      const l = decodeSample(lel, lelImage(100, 1000), 0);
      expect(l.values).toEqual({ LEL: 100, CO: 1000 });
      expect(l.quality).toEqual({ LEL: 'bad', CO: 'bad' });
    });
  });
});
