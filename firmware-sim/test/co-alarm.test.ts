// The household CO detector's own alarm, at constant CO in scenario time, must fall inside the windows
// of EN 50291 and UL 2034 (SPEC §6) and never sound at 30 ppm.
import { timeToAlarmAtConstant } from '@gaswatch/shared';
import { describe, expect, it } from 'vitest';
import { createDevice, type SimDevice } from '../src/index.js';

const MIN = 60_000;
const STEP = 10_000;

/** Scenario minutes until the status register's alarm bit (bit 0 of 40002) sets; Infinity if not within `maxMin`. */
function minutesToAlarm(dev: SimDevice, maxMin: number): number {
  for (let t = 0; t <= maxMin * MIN; t += STEP) {
    if (dev.readRegisters(3, 1, 1)[0]! & 1) return t / MIN;
    dev.advance(STEP);
  }
  return Number.POSITIVE_INFINITY;
}

function detector(standard: 'en50291' | 'ul2034', ppm: number): SimDevice {
  const dev = createDevice({ id: `co-${standard}-${ppm}`, profile: 'gaswatch-co', standard });
  dev.setConcentration('CO', ppm);
  return dev;
}

describe.each([
  // standard, ppm, window [min, max] minutes (SPEC §6)
  ['en50291', 50, 60, 90],
  ['en50291', 100, 10, 40],
  ['en50291', 300, 0, 3],
  ['ul2034', 70, 60, 240],
  ['ul2034', 150, 10, 50],
  ['ul2034', 400, 4, 15],
] as const)('%s at %i ppm', (standard, ppm, lo, hi) => {
  it(`alarms between ${lo} and ${hi} min, when the shared dose math says`, () => {
    const dev = detector(standard, ppm);
    const t = minutesToAlarm(dev, hi + 10);
    expect(t).toBeGreaterThanOrEqual(lo);
    expect(t).toBeLessThanOrEqual(hi);
    // The device runs the SPEC §6 math itself, not an approximation of it.
    const closed = timeToAlarmAtConstant(standard, ppm) / MIN;
    expect(Math.abs(t - closed)).toBeLessThanOrEqual(STEP / MIN + 1 / 60);
    // The alarm holds while the CO stays.
    dev.advance(10 * MIN);
    expect(dev.snapshot().flags.alarm).toBe(true);
  });
});

describe.each(['en50291', 'ul2034'] as const)('%s at 30 ppm', (standard) => {
  it('never alarms (24 h of scenario time)', () => {
    const dev = detector(standard, 30);
    expect(minutesToAlarm(dev, 24 * 60)).toBe(Number.POSITIVE_INFINITY);
    expect(dev.readRegisters(3, 4, 1)[0]).toBe(300); // it did see the 30 ppm (peak register)
  });
});

describe('own alarm behaviour', () => {
  it('clears once the air is clean again and the dose has decayed', () => {
    const dev = detector('ul2034', 400);
    expect(minutesToAlarm(dev, 20)).toBeLessThan(20);
    dev.setConcentration('CO', 0);
    dev.advance(3 * 60 * MIN);
    expect(dev.snapshot().flags.alarm).toBe(false);
  });

  it('does not integrate during warm-up and reports 0 ppm with the warm-up bit', () => {
    const dev = createDevice({ id: 'co-warm', profile: 'gaswatch-co', warmup: true });
    dev.setConcentration('CO', 400);
    const [co, status] = dev.readRegisters(3, 0, 2);
    expect(co).toBe(0);
    expect(status! & 0b100).toBeTruthy();
    dev.advance(dev.profile.warmupS * 1000);
    expect(dev.readRegisters(3, 0, 2)).toEqual([4000, 0]);
  });

  it('switching the standard register (40004) changes the curve: 150 ppm alarms later under UL 2034 than EN 50291', () => {
    const en = detector('en50291', 150);
    const ul = detector('en50291', 150);
    ul.writeRegister(3, 0);
    expect(ul.readRegisters(3, 3, 1)).toEqual([0]);
    expect(minutesToAlarm(ul, 60)).toBeGreaterThan(minutesToAlarm(en, 60));
  });

  it('an end-of-life sensor sets the EOL and fault bits, fault code 2, and its alarm stays off', () => {
    const dev = detector('en50291', 300);
    dev.setFault('sensor_eol');
    dev.advance(30 * MIN);
    const [, status, code, , , life] = dev.readRegisters(3, 0, 6);
    expect(status).toBe(0b1010);
    expect(code).toBe(2);
    expect(life).toBe(0);
    expect(dev.snapshot().status).toBe('fault');
  });
});
