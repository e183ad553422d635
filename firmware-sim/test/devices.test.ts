// Device models: what each detector's registers say under its own logic, and clear errors for bad input.
import { decodeRegisters } from '@gaswatch/shared';
import { describe, expect, it } from 'vitest';
import { createDevice, ModbusException } from '../src/index.js';

const exceptionOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof ModbusException) return e.exceptionCode;
    throw e;
  }
  return 0;
};

describe('gaswatch-4gas', () => {
  it('low and high alarms by SPEC §6 confined-space set points; O2 deficiency counts too', () => {
    const d = createDevice({ id: 'g', profile: 'gaswatch-4gas' });
    expect(d.readRegisters(4, 4, 1)).toEqual([0]);
    d.setConcentration('H2S', 10);
    expect(d.readRegisters(4, 4, 1)).toEqual([0b01]);
    d.setConcentration('H2S', 15);
    expect(d.readRegisters(4, 4, 1)).toEqual([0b11]);
    d.setConcentration('H2S', 0);
    d.setConcentration('O2', 19.4);
    expect(d.readRegisters(4, 4, 1)).toEqual([0b01]);
    d.setConcentration('O2', 20.9);
    d.setFault('pump');
    expect(d.readRegisters(4, 4, 2)).toEqual([0b100, 5]);
  });

  it('has no holding registers: function 3 is an illegal address', () => {
    const d = createDevice({ id: 'g', profile: 'gaswatch-4gas' });
    expect(exceptionOf(() => d.readRegisters(3, 0, 1))).toBe(2);
  });
});

describe('gaswatch-lel', () => {
  it('writable set points move the alarms; bad set points are refused with exception 3', () => {
    const d = createDevice({ id: 'l', profile: 'gaswatch-lel' });
    d.setConcentration('LEL', 12);
    expect(d.readRegisters(3, 3, 1)).toEqual([0]);
    d.writeRegister(5, 10);
    expect(d.readRegisters(3, 3, 1)).toEqual([0b01]);
    expect(exceptionOf(() => d.writeRegister(6, 500))).toBe(3);
    expect(exceptionOf(() => d.writeRegister(0, 1))).toBe(2);
    expect(d.readRegisters(3, 5, 2)).toEqual([10, 50]);
    // A multi-register write with one bad value changes nothing.
    expect(exceptionOf(() => d.writeRegisters(5, [20, 0]))).toBe(3);
    expect(d.readRegisters(3, 5, 2)).toEqual([10, 50]);
    expect(decodeRegisters(d.readRegisters(3, 0, 2), 'float32', 'be')).toBe(12);
  });
});

describe('midas', () => {
  it('state field: monitoring 1, fault 2 with the fault-level bit, bump test 3 (the profile has no warm-up)', () => {
    const d = createDevice({ id: 'm', profile: 'midas', warmup: true });
    expect(d.readRegisters(3, 0, 1)[0]! & 0xf).toBe(1);
    d.setConcentration('CO', 250);
    expect(d.readRegisters(3, 0, 1)).toEqual([1 | (1 << 6) | (1 << 7)]);
    d.setFault('sensor_eol');
    expect(d.readRegisters(3, 0, 1)[0]! & 0xf).toBe(2);
    expect(d.readRegisters(3, 0, 1)[0]! & (1 << 5)).toBeTruthy();
    expect(d.readRegisters(3, 5, 1)).toEqual([14]);
    d.setFault(null);
    d.startBumpTest(10_000);
    expect(d.readRegisters(3, 0, 1)[0]! & 0xf).toBe(3);
    d.advance(10_000);
    expect(d.readRegisters(3, 0, 1)[0]! & 0xf).toBe(1);
    expect(decodeRegisters(d.readRegisters(3, 2, 2), 'float32', 'le')).toBe(250);
  });
});

describe('common behaviour', () => {
  it('values beyond full scale are clamped to it, never wrapped', () => {
    const d = createDevice({ id: 'c', profile: 'gaswatch-co' });
    d.setConcentration('CO', 5000);
    expect(d.readRegisters(3, 0, 1)).toEqual([10000]);
  });

  it('with a response time, a step change reaches 90 % after T90 (first-order lag)', () => {
    const d = createDevice({ id: 'c', profile: 'gaswatch-co', t90S: 30 });
    d.setConcentration('CO', 100);
    expect(d.reported('CO')).toBe(0);
    d.advance(30_000);
    expect(d.reported('CO')).toBeCloseTo(90, 6);
    d.advance(30_000);
    expect(d.reported('CO')).toBeCloseTo(99, 6);
    expect(d.readRegisters(3, 0, 1)).toEqual([990]);
  });

  it('with a clock, scenario time follows it', () => {
    let t = 1_000_000;
    const d = createDevice({ id: 'c', profile: 'gaswatch-co', clock: () => t, warmup: true });
    expect(d.snapshot().status).toBe('warmup');
    t += 61_000;
    expect(d.snapshot().status).toBe('ok');
    expect(d.now()).toBe(61_000);
  });

  it('bad input gets a clear error and changes nothing', () => {
    const d = createDevice({ id: 'c', profile: 'gaswatch-co' });
    d.setConcentration('CO', 10);
    expect(() => d.setConcentration('CO', -1)).toThrow(/finite number ≥ 0/);
    expect(() => d.setConcentration('CO', Number.NaN)).toThrow(RangeError);
    expect(() => d.setConcentration('XYZ' as 'CO', 1)).toThrow(/unknown gas/);
    expect(() => d.setFault('melted' as 'fault')).toThrow(/unknown fault/);
    expect(() => d.advance(-5)).toThrow(RangeError);
    expect(() => createDevice({ id: 'x', profile: 'gaswatch-co', unit: 0 })).toThrow(/unit 0/);
    expect(() => createDevice({ id: 'x', profile: 'nope' })).toThrow(/no built-in profile/);
    expect(d.getConcentration('CO')).toBe(10);
    expect(d.fault).toBeNull();
  });

  it('a Winsen module has no Modbus side: illegal function', () => {
    const d = createDevice({ id: 'w', profile: 'winsen-ze07' });
    expect(exceptionOf(() => d.readRegisters(3, 0, 1))).toBe(1);
  });
});
