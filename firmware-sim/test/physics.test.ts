// Physical plausibility of the simulator: flames burn oxygen in step with the CO and CO2 they make,
// outdoor air carries ~420 ppm CO2, and the detectors' own alarms have hysteresis (no chatter).
import { freePort } from '@gaswatch/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { combustion, createDevice, FUELS, OUTDOOR_AIR } from '../src/index.js';
import { resolveScenario } from '../src/scenario/load.js';
import { createScenarioRunner, type ScenarioRunner } from '../src/scenario/runner.js';

const MIN = 60_000;
let runner: ScenarioRunner | undefined;
afterEach(async () => {
  await runner?.stop();
  runner = undefined;
});

describe('combustion stoichiometry', () => {
  it('methane, propane and carbon: O2 burnt, CO2 and CO made per litre of fuel', () => {
    expect(combustion('CH4', 1, 0)).toEqual({ CO: 0, CO2: 1, O2: -2 }); // CH4 + 2 O2 → CO2 + 2 H2O
    expect(combustion('C3H8', 1, 0)).toEqual({ CO: 0, CO2: 3, O2: -5 }); // C3H8 + 5 O2 → 3 CO2 + 4 H2O
    expect(combustion('C', 1, 0)).toEqual({ CO: 0, CO2: 1, O2: -1 }); // C + O2 → CO2
    expect(combustion('C', 1, 1)).toEqual({ CO: 1, CO2: 0, O2: -0.5 }); // C + ½ O2 → CO
    const heater = combustion('CH4', 5, 0.05);
    expect(heater.CO).toBeCloseTo(0.25, 12);
    expect(heater.CO2).toBeCloseTo(4.75, 12);
    expect(heater.O2).toBeCloseTo(-9.875, 12);
  });

  it('bad input is refused with a reason', () => {
    expect(() => combustion('CH4', -1, 0)).toThrow(/fuel rate/);
    expect(() => combustion('CH4', 1, 1.5)).toThrow(/CO fraction/);
    expect(() => combustion('CH4', Number.NaN, 0)).toThrow(/fuel rate/);
  });

  // Which fuel each built-in flame burns; every O2 sink must match the CO and CO2 of its period.
  const flames: Array<[scenario: string, zone: string, fuel: 'CH4' | 'C']> = [
    ['bathroom-heater', 'bathroom', 'CH4'],
    ['demo', 'bathroom', 'CH4'],
    ['demo', 'kitchen', 'CH4'],
    ['demo', 'basement', 'CH4'],
    ['bedroom-brazier', 'bedroom', 'C'],
  ];
  for (const [name, zoneId, fuel] of flames) {
    it(`${name}/${zoneId}: the flame's O2 sink matches its CO and CO2 (${fuel})`, () => {
      const zone = resolveScenario(name).scenario.zones.find((z) => z.id === zoneId)!;
      const periods = new Map<string, Record<string, number>>();
      for (const s of zone.sources) {
        if (s.gas !== 'CO' && s.gas !== 'CO2' && s.gas !== 'O2') continue;
        const key = `${s.fromS}-${s.toS}-${s.everyS}`;
        const p = periods.get(key) ?? {};
        p[s.gas] = (p[s.gas] ?? 0) + s.lpm;
        periods.set(key, p);
      }
      expect(periods.size).toBeGreaterThan(0);
      for (const [key, p] of periods) {
        const carbon = (p.CO ?? 0) + (p.CO2 ?? 0);
        expect(p.CO2, `${key}: a flame makes CO2`).toBeGreaterThan(0);
        const fuelLpm = carbon / FUELS[fuel].carbon;
        const want = combustion(fuel, fuelLpm, (p.CO ?? 0) / carbon);
        expect(p.O2, `${key}: O2 sink`).toBeCloseTo(want.O2, 6);
      }
    });
  }
});

describe('bathroom-heater air: O2 falls and CO2 rises as the room model says', () => {
  it('starts from outdoor air (CO2 420 ppm) and follows the closed form within 1 %', async () => {
    runner = createScenarioRunner({
      loaded: resolveScenario('bathroom-heater'),
      speed: 0,
      tcpPort: await freePort(),
    });
    await runner.start();
    expect(OUTDOOR_AIR.CO2).toBe(420);
    expect(runner.zoneConcentration('bathroom', 'CO2')).toBe(420);
    expect(runner.zoneConcentration('bathroom', 'O2')).toBe(20.9);
    runner.advance(20 * MIN);
    // V = 7.5 m³, ACH 0.5, 20 min: C = C_out + S'/ACH·(1 − e^(−ACH·h)), S' = lpm·60/1000/V × unit.
    const grow = (1 - Math.exp(-0.5 / 3)) / 0.5;
    const o2 = 20.9 + ((-9.875 * 60) / 1000 / 7.5) * 100 * grow;
    const co2 = 420 + ((4.75 * 60) / 1000 / 7.5) * 1e6 * grow;
    expect(o2).toBeGreaterThan(18); // a vitiated room, not a vacuum
    expect(o2).toBeLessThan(19);
    expect(Math.abs(runner.zoneConcentration('bathroom', 'O2') - o2) / o2).toBeLessThan(0.01);
    expect(Math.abs(runner.zoneConcentration('bathroom', 'CO2') - co2) / co2).toBeLessThan(0.01);
  });
});

describe('gaswatch-4gas and midas own alarms have hysteresis', () => {
  /** Low alarm 0b01, high 0b10. */
  const fourGas = (d: ReturnType<typeof createDevice>) => d.readRegisters(4, 4, 1)[0]! & 0b11;
  const midas = (d: ReturnType<typeof createDevice>) => (d.readRegisters(3, 0, 1)[0]! >> 6) & 0b11;
  const walk = (
    d: ReturnType<typeof createDevice>,
    gas: 'O2' | 'H2S' | 'CO',
    status: (d: ReturnType<typeof createDevice>) => number,
    seq: Array<[number, number]>,
  ) => {
    for (const [v, want] of seq) {
      d.setConcentration(gas, v);
      expect(status(d), `${gas} ${v}`).toBe(want);
    }
  };

  it('4-gas: H2S held down to set point − 10 %, O2 deficiency held until 0.2 %vol above it', () => {
    const d = createDevice({ id: 'g-h', profile: 'gaswatch-4gas' });
    walk(d, 'H2S', fourGas, [
      [9.9, 0b00],
      [15, 0b11],
      [13.6, 0b11], // high held down to 13.5
      [13.4, 0b01], // high cleared, low held down to 9
      [9.5, 0b01],
      [8.9, 0b00],
    ]);
    walk(d, 'O2', fourGas, [
      [19.4, 0b01],
      [19.6, 0b01], // back above 19.5 but inside the band
      [19.7, 0b00],
      [17.9, 0b11],
      [18.1, 0b11],
      [18.2, 0b01],
      [20.9, 0b00],
      [23.6, 0b11], // enrichment
      [23.4, 0b11],
      [23.3, 0b00],
    ]);
  });

  it('midas: CO low and high held down to set point − 10 %', () => {
    const d = createDevice({ id: 'm-h', profile: 'midas' });
    walk(d, 'CO', midas, [
      [34.9, 0b00],
      [35, 0b01],
      [31.5, 0b01],
      [31.4, 0b00],
      [200, 0b11],
      [180, 0b11],
      [179.9, 0b01],
      [0, 0b00],
    ]);
  });
});

describe('gaswatch-lel own alarm has hysteresis', () => {
  const status = (d: ReturnType<typeof createDevice>) => d.readRegisters(3, 3, 1)[0]! & 0b11;

  it('raised at the set point, held inside the band, cleared below set point − 10 %', () => {
    const d = createDevice({ id: 'lel-h', profile: 'gaswatch-lel' });
    const seq: Array<[number, number]> = [
      [24.9, 0b00],
      [25, 0b01], // first alarm at 25 %LEL
      [23, 0b01], // inside the band (≥ 22.5): held
      [22.5, 0b01],
      [22.4, 0b00], // cleared
      [24, 0b00], // inside the band, not active: nothing new
      [50, 0b11],
      [46, 0b11], // second alarm held down to 45
      [44.9, 0b01],
      [20, 0b00],
    ];
    for (const [lel, want] of seq) {
      d.setConcentration('LEL', lel);
      expect(status(d), `${lel} %LEL`).toBe(want);
    }
  });

  it('a noisy level at the set point does not chatter', () => {
    const d = createDevice({ id: 'lel-n', profile: 'gaswatch-lel', noise: 0.5, seed: 7 });
    d.setConcentration('LEL', 25);
    let changes = 0;
    let last = status(d);
    let everOn = last === 1;
    for (let i = 0; i < 600; i++) {
      d.advance(1000);
      const s = status(d);
      if (s !== last) changes++;
      last = s;
      everOn ||= s === 1;
    }
    expect(everOn).toBe(true);
    // Once on, noise of ±0.5 %LEL never reaches 22.5 %LEL: one change at most.
    expect(changes).toBeLessThanOrEqual(1);
  });

  it('power cycle and faults clear the latch', () => {
    const d = createDevice({ id: 'lel-p', profile: 'gaswatch-lel' });
    d.setConcentration('LEL', 30);
    expect(status(d)).toBe(0b01);
    d.setConcentration('LEL', 24);
    d.setFault('lel_bead');
    expect(status(d)).toBe(0b00);
    d.setFault(null);
    expect(status(d)).toBe(0b00); // 24 %LEL is inside the band: no new alarm
    d.setConcentration('LEL', 30);
    expect(status(d)).toBe(0b01);
    d.setConcentration('LEL', 24);
    d.powerOn();
    expect(status(d)).toBe(0b00);
  });
});
