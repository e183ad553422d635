// Scenarios with the physical room model, read back through Modbus TCP as a gateway would see them.
import { decodeRegisters } from '@gaswatch/shared';
import { freePort } from '@gaswatch/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRequestPdu } from '../src/index.js';
import { listBuiltinScenarios, parseScenario, resolveScenario } from '../src/scenario/load.js';
import { createScenarioRunner, type ScenarioRunner } from '../src/scenario/runner.js';
import { registersOf, tcpRequest } from './helpers.js';

const MIN = 60_000;
let runner: ScenarioRunner | undefined;
afterEach(async () => {
  await runner?.stop();
  runner = undefined;
});

async function startScenario(name: string): Promise<{ r: ScenarioRunner; port: number }> {
  runner = createScenarioRunner({ loaded: resolveScenario(name), speed: 0, tcpPort: await freePort() });
  const [l] = await runner.start();
  return { r: runner, port: l!.port! };
}

const readHolding = async (port: number, unit: number, address: number, count: number) =>
  registersOf(await tcpRequest(port, unit, encodeRequestPdu({ fc: 3, address, count })));
const readInput = async (port: number, unit: number, address: number, count: number) =>
  registersOf(await tcpRequest(port, unit, encodeRequestPdu({ fc: 4, address, count })));

describe('bathroom-heater: the CO curve matches the closed-form room model within 1 %', () => {
  // V = 7.5 m³, ACH = 0.5 /h, source 0.25 L/min of CO for 20 min:
  // S' = 0.25·60/1000/7.5·1e6 = 2000 ppm/h, C_ss = S'/ACH = 4000 ppm.
  const ACH = 0.5;
  const CSS = ((0.25 * 60) / 1000 / 7.5 / ACH) * 1e6;
  const ON_H = 20 / 60;
  const closedForm = (tMin: number) => {
    const h = tMin / 60;
    if (h <= ON_H) return CSS * (1 - Math.exp(-ACH * h));
    return CSS * (1 - Math.exp(-ACH * ON_H)) * Math.exp(-ACH * (h - ON_H));
  };

  it('at every sampled minute, through the detector register over Modbus TCP', async () => {
    const { r, port } = await startScenario('bathroom-heater');
    let t = 0;
    const samples = [1, 2, 3, 5, 8, 10, 15, 20, 25, 30, 45, 60, 90, 120];
    for (const at of samples) {
      r.advance((at - t) * MIN);
      t = at;
      const [raw] = await readHolding(port, 1, 0, 1);
      const co = raw! * 0.1;
      const expected = closedForm(at);
      expect(Math.abs(co - expected) / expected, `t=${at} min: ${co} vs ${expected}`).toBeLessThan(0.01);
    }
    // The curve peaked at the end of the shower: ~614 ppm.
    expect(closedForm(20)).toBeGreaterThan(600);
  });

  it('the detector in the bathroom alarms on its own during the shower (EN 50291)', async () => {
    const { r, port } = await startScenario('bathroom-heater');
    r.advance(20 * MIN);
    const [, status] = await readHolding(port, 1, 0, 2);
    expect(status! & 1).toBe(1);
  });
});

describe('kitchen-leak: the detector coils are the interlock', () => {
  it('methane rises; fan on and valve closed by the master make it decay at 10 ACH', async () => {
    const { r, port } = await startScenario('kitchen-leak');
    const lel = async () => decodeRegisters(await readHolding(port, 1, 0, 2), 'float32', 'be');
    r.advance(30_000);
    expect(await lel()).toBe(0); // the leak starts at 60 s
    r.advance(25 * MIN);
    const risen = await lel();
    // 15 L/min in 20 m³: 0.045 of the volume per hour = 90 %LEL/h at first, slowed by 0.6 ACH:
    // 150·(1 − e^(−0.6·24.5/60)) ≈ 32.6 %LEL.
    expect(risen).toBeGreaterThan(30);
    const [status] = await readHolding(port, 1, 3, 1);
    expect(status! & 1).toBe(1); // first alarm
    // The gateway's interlock: valve closed (coil 1), fan on (coil 2).
    await tcpRequest(port, 1, encodeRequestPdu({ fc: 15, address: 1, values: [true, true] }));
    expect(r.devices.get('kitchen-lel')!.coils()).toEqual({ sounder: false, valve: true, fan: true });
    r.advance(10 * MIN);
    const after = await lel();
    const expected = risen * Math.exp((-10 * 10) / 60);
    expect(Math.abs(after - expected) / expected).toBeLessThan(0.01);
  });
});

describe('sewer-entry: stratified layers and the bump test', () => {
  it('top is clean, bottom alarms high (H2S 42 ppm, O2 17.2 %vol); the bump test runs and resets its age', async () => {
    const { r, port } = await startScenario('sewer-entry');
    r.advance(20_000);
    let regs = await readInput(port, 1, 0, 9);
    expect(regs[4]! & (1 << 4)).toBeTruthy(); // bump test running (10–40 s)
    expect(regs[6]).toBe(65535);
    r.advance(40_000);
    regs = await readInput(port, 1, 0, 9);
    expect(regs[4]).toBe(0);
    expect(regs[6]).toBe(0); // bump-tested 0 h ago
    expect(regs[0]).toBe(208);
    r.advance(150_000); // 210 s: bottom
    regs = await readInput(port, 1, 0, 9);
    expect(regs[0]! * 0.1).toBeCloseTo(17.2, 5);
    expect(regs[3]! * 0.1).toBeCloseTo(42, 5);
    expect(regs[1]! / 10).toBeCloseTo(14, 5);
    expect(regs[4]! & 0b11).toBe(0b11); // low and high alarm
    r.advance(120_000); // back at the top
    regs = await readInput(port, 1, 0, 9);
    expect(regs[4]! & 0b11).toBe(0);
  });
});

describe('events applied now (the control port)', () => {
  it('lowers the 4-gas to the bottom when asked, not when the script says; refuses what the scenario lacks', async () => {
    const { r, port } = await startScenario('sewer-entry');
    r.advance(60_000);
    r.apply({ device: 'entry-4gas', zone: 'sewer-bottom' });
    r.advance(20_000); // 80 s: the script would still hold it at the top until 90 s
    const regs = await readInput(port, 1, 0, 9);
    expect(regs[3]! * 0.1).toBeCloseTo(42, 5); // H2S of the bottom layer
    expect(regs[0]! * 0.1).toBeCloseTo(17.2, 5);
    expect(() => r.apply({ device: 'entry-4gas', zone: 'sewer-basement' })).toThrow(
      /zone: no zone "sewer-basement"/,
    );
    expect(() => r.apply({ device: 'no-such', set: { CO: 1 } })).toThrow(/device: no device "no-such"/);
    expect(() => r.apply({ device: 'entry-4gas' })).toThrow(/event does nothing/);
    expect(() => r.apply({ device: 'entry-4gas', zone: 'sewer-top', everyS: 5 })).toThrow(
      /happens now, once/,
    );
    expect(() => r.apply('open the hatch')).toThrow(/JSON object/);
    // Nothing refused moved the detector.
    r.advance(1_000);
    expect((await readInput(port, 1, 3, 1))[0]! * 0.1).toBeCloseTo(42, 5);
  });
});

describe('bedroom-brazier', () => {
  it('the UL 2034 detector alarms during the night, and CO keeps climbing for hours', async () => {
    const { r, port } = await startScenario('bedroom-brazier');
    r.advance(60 * MIN);
    const [co1, s1] = await readHolding(port, 1, 0, 2);
    r.advance(60 * MIN);
    const [co2, s2] = await readHolding(port, 1, 0, 2);
    expect(co2).toBeGreaterThan(co1!);
    expect((s1! | s2!) & 1).toBe(1);
    expect(r.zoneConcentration('bedroom', 'O2')).toBeLessThan(20.9);
  });
});

describe('demo', () => {
  it('serves three detectors on one port and their values move within the first minute', async () => {
    const { r, port } = await startScenario('demo');
    const before = {
      co: (await readHolding(port, 1, 0, 1))[0]!,
      lel: decodeRegisters(await readHolding(port, 2, 0, 2), 'float32', 'be'),
      h2s: (await readInput(port, 3, 3, 1))[0]!,
    };
    r.advance(60_000);
    const co = (await readHolding(port, 1, 0, 1))[0]! * 0.1;
    const lel = decodeRegisters(await readHolding(port, 2, 0, 2), 'float32', 'be');
    const h2s = (await readInput(port, 3, 3, 1))[0]!;
    expect(before.co).toBe(0);
    expect(co).toBeGreaterThan(20); // ~30 ppm after 55 s of the heater
    expect(lel).toBeGreaterThan(before.lel + 0.2);
    expect(h2s).toBeGreaterThanOrEqual(before.h2s);
  });

  it('is the same run after run for the same seed (deterministic)', () => {
    const run = () => {
      const rr = createScenarioRunner({ loaded: resolveScenario('faults'), speed: 0, seed: 3 });
      for (const d of rr.devices.values()) d.setCorruption({ mode: 'crc', probability: 0.5 });
      rr.advance(10 * MIN);
      return [...rr.devices.values()].map((d) => [d.reported('CO'), d.shouldCorrupt(), d.shouldCorrupt()]);
    };
    expect(run()).toEqual(run());
  });
});

it('repeating sources and events follow the closed form cycle after cycle', () => {
  // V = 10 m³, ACH 1, 1 L/min of CO for 10 min every hour: S' = 6000 ppm/h, C_ss = 6000 ppm.
  const doc = {
    name: 'cycles',
    description: 'a periodic source',
    zones: [
      {
        id: 'room',
        volumeM3: 10,
        ach: 1,
        sources: [{ gas: 'CO', lpm: 1, fromS: 0, toS: 600, everyS: 3600 }],
      },
    ],
    devices: [{ id: 'd', profile: 'gaswatch-co', zone: 'room' }],
    transports: [{ type: 'modbus-tcp', port: 0, devices: ['d'] }],
    events: [{ atS: 1800, everyS: 3600, ach: { zone: 'room', ach: 3 } }],
  };
  const rr = createScenarioRunner({ loaded: parseScenario(doc, 'inline'), speed: 0 });
  const css = 6000;
  const h = (s: number) => s / 3600;
  const c600 = css * (1 - Math.exp(-h(600)));
  const c1800 = c600 * Math.exp(-h(1200));
  const c3600 = c1800 * Math.exp(-3 * h(1800)); // the event raised ACH to 3 at 1800 s
  const c3900 = (css / 3) * 1 + (c3600 - css / 3) * Math.exp(-3 * h(300)); // second cycle, C_ss = S'/3
  rr.advance(3900 * 1000);
  expect(rr.zoneConcentration('room', 'CO')).toBeCloseTo(c3900, 6);
  rr.advance(300 * 1000); // 4200 s: second burst over (10 min)
  const c4200 = css / 3 + (c3900 - css / 3) * Math.exp(-3 * h(300));
  expect(rr.zoneConcentration('room', 'CO')).toBeCloseTo(c4200, 6);
  rr.advance(60 * 1000); // off now: pure decay
  expect(rr.zoneConcentration('room', 'CO')).toBeCloseTo(c4200 * Math.exp(-3 * h(60)), 6);
});

it('sensor noise depends on the seed only, not on how often the master polls', () => {
  const doc = {
    name: 'noisy',
    description: 'a noisy detector',
    devices: [{ id: 'n', profile: 'gaswatch-co', constant: { CO: 50 }, noise: 2 }],
    transports: [{ type: 'modbus-tcp', port: 0, devices: ['n'] }],
  };
  const run = (seed: number, pollsPerStep: number) => {
    const rr = createScenarioRunner({ loaded: parseScenario(doc, 'inline'), speed: 0, seed });
    const dev = rr.devices.get('n')!;
    dev.setCorruption({ mode: 'crc', probability: 0.5 });
    const out: number[] = [];
    for (let i = 0; i < 20; i++) {
      rr.advance(1000);
      for (let k = 0; k < pollsPerStep; k++) dev.shouldCorrupt();
      out.push(dev.reported('CO'));
    }
    return out;
  };
  const a = run(1, 1);
  expect(run(1, 7)).toEqual(a);
  expect(new Set(a).size).toBeGreaterThan(10); // it is noisy
  expect(run(2, 1)).not.toEqual(a);
});

it('every built-in scenario validates, and has a one-line description', () => {
  const list = listBuiltinScenarios();
  expect(list.map((s) => s.name)).toEqual(
    expect.arrayContaining(['demo', 'bathroom-heater', 'kitchen-leak', 'sewer-entry', 'faults']),
  );
  for (const s of list) {
    expect(s.description).not.toMatch(/\n/);
    expect(() => resolveScenario(s.name)).not.toThrow();
  }
});
