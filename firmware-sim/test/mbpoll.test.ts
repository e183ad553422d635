// A third-party Modbus master (mbpoll, Debian) reads every reference device over TCP and over a socat
// pty and gets the values the profiles document.
import { freePort, type PtyPair, startPtyPair } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModbusRtuSlave, type ModbusRtuSlave } from '../src/index.js';
import { resolveScenario } from '../src/scenario/load.js';
import { createScenarioRunner, type ScenarioRunner } from '../src/scenario/runner.js';
import { mbpoll } from './helpers.js';

let runner: ScenarioRunner;
let tcpPort: number;
let rtuPty: PtyPair;
let winsenPty: PtyPair;
let rtu: ModbusRtuSlave;

beforeAll(async () => {
  [rtuPty, winsenPty] = await Promise.all([startPtyPair(), startPtyPair()]);
  runner = createScenarioRunner({
    loaded: resolveScenario('reference'),
    speed: 0,
    tcpPort: await freePort(),
    serialPaths: [winsenPty.a],
  });
  const listeners = await runner.start();
  tcpPort = listeners[0]!.port!;
  // 60 s of scenario time: the peak register has seen the value; nothing alarms at these levels yet.
  runner.advance(60_000);
  const modbusDevices = [...runner.devices.values()].filter((d) => d.profile.transport === 'modbus');
  rtu = createModbusRtuSlave({ path: rtuPty.a, devices: modbusDevices, parity: 'even' });
  await rtu.start();
});

afterAll(async () => {
  await rtu?.stop();
  await runner?.stop();
  await Promise.all([rtuPty?.stop(), winsenPty?.stop()]);
});

const transports = () => ({
  tcp: ['-m', 'tcp', '-p', String(tcpPort), '-o', '1'],
  rtu: ['-m', 'rtu', '-b', '9600', '-P', 'even', '-o', '1'],
});
const target = (kind: 'tcp' | 'rtu') => (kind === 'tcp' ? '127.0.0.1' : rtuPty.b);

describe.each(['tcp', 'rtu'] as const)('mbpoll over %s', (kind) => {
  const read = (unit: number, table: string, ref: number, count: number, extra: string[] = []) =>
    mbpoll([
      ...transports()[kind],
      '-a',
      String(unit),
      '-t',
      table,
      '-r',
      String(ref),
      '-c',
      String(count),
      ...extra,
      target(kind),
    ]);

  it('gaswatch-co: CO 35.2 ppm in 0.1 ppm counts, status clear, EN 50291, peak', async () => {
    const r = await read(1, '4', 1, 8);
    expect(r.code, r.out).toBe(0);
    expect(r.values.get(1)! * 0.1).toBeCloseTo(35.2, 5);
    expect(r.values.get(2)).toBe(0); // no alarm, fault, warm-up or EOL bit
    expect(r.values.get(3)).toBe(0); // fault code
    expect(r.values.get(4)).toBe(1); // EN 50291
    expect(r.values.get(5)).toBe(352); // peak
    expect(r.values.get(6)).toBeGreaterThan(3000); // sensor life left, days
  });

  it('gaswatch-4gas: O2, LEL with its decimals register, CO, H2S and the low-alarm bit (CO 40 ≥ 35)', async () => {
    const r = await read(2, '3', 1, 9);
    expect(r.code, r.out).toBe(0);
    expect(r.values.get(1)! * 0.1).toBeCloseTo(20.9, 5);
    expect(r.values.get(9)).toBe(1);
    expect(r.values.get(2)! / 10 ** r.values.get(9)!).toBeCloseTo(12.5, 5);
    expect(r.values.get(3)).toBe(40);
    expect(r.values.get(4)! * 0.1).toBeCloseTo(3.4, 5);
    expect(r.values.get(5)).toBe(0b1); // low alarm only
    expect(r.values.get(7)).toBe(65535); // never bump-tested
  });

  it('gaswatch-lel: float32 %LEL high word first, CO, first alarm (27.5 ≥ 25), set points', async () => {
    const f = await read(3, '4:float', 1, 1, ['-B']);
    expect(f.code, f.out).toBe(0);
    expect(f.values.get(1)).toBeCloseTo(27.5, 5);
    const r = await read(3, '4', 3, 5);
    expect(r.values.get(3)).toBe(15);
    expect(r.values.get(4)).toBe(0b1);
    expect(r.values.get(6)).toBe(25);
    expect(r.values.get(7)).toBe(50);
  });

  it('midas: float32 low word first at 40003, state "monitoring" with the low-alarm bit, unit ppm', async () => {
    const f = await read(4, '4:float', 3, 1);
    expect(f.code, f.out).toBe(0);
    expect(f.values.get(3)).toBeCloseTo(42.5, 5);
    const r = await read(4, '4', 1, 7);
    expect(r.values.get(1)! & 0x0f).toBe(1); // monitoring
    expect(r.values.get(1)! & (1 << 6)).toBeTruthy(); // low alarm (42.5 ≥ 35)
    expect(r.values.get(1)! & (1 << 7)).toBe(0);
    expect(r.values.get(6)).toBe(0);
    expect(r.values.get(7)).toBe(0);
  });

  it('gaswatch-lel coils: mbpoll closes the valve (coil 2) and the device reports it', async () => {
    const dev = runner.devices.get('ref-lel')!;
    const w = await mbpoll([...transports()[kind], '-a', '3', '-t', '0', '-r', '2', target(kind), '1']);
    expect(w.code, w.out).toBe(0);
    expect(dev.coils()).toEqual({ sounder: false, valve: true, fan: false });
    const r = await read(3, '0', 1, 3);
    expect([r.values.get(1), r.values.get(2), r.values.get(3)]).toEqual([0, 1, 0]);
    await mbpoll([...transports()[kind], '-a', '3', '-t', '0', '-r', '2', target(kind), '0']);
    expect(dev.coils().valve).toBe(false);
  });

  it('an address outside the table is an "Illegal data address" exception, not a value', async () => {
    const r = await read(1, '4', 9, 1);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/Illegal data address/i);
    expect(r.values.size).toBe(0);
  });

  it('a write the device refuses is an exception, and nothing changes', async () => {
    const w = await mbpoll([...transports()[kind], '-a', '1', '-t', '4', '-r', '4', target(kind), '7']);
    expect(w.code).not.toBe(0);
    expect(w.out).toMatch(/Illegal data value/i);
    const r = await read(1, '4', 4, 1);
    expect(r.values.get(4)).toBe(1);
  });
});

it('over RTU, a unit that is not on the line stays silent (mbpoll times out)', async () => {
  const r = await mbpoll([
    '-m',
    'rtu',
    '-b',
    '9600',
    '-P',
    'even',
    '-o',
    '0.3',
    '-a',
    '9',
    '-t',
    '4',
    '-r',
    '1',
    '-c',
    '1',
    rtuPty.b,
  ]);
  expect(r.code).not.toBe(0);
  expect(r.out).toMatch(/timed out/i);
  expect(rtu.stats().otherUnits).toBeGreaterThan(0);
});

it('over TCP, a unit that is not behind the server answers exception 0x0B', async () => {
  const r = await mbpoll([
    '-m',
    'tcp',
    '-p',
    String(tcpPort),
    '-o',
    '1',
    '-a',
    '9',
    '-t',
    '4',
    '-r',
    '1',
    '-c',
    '1',
    '127.0.0.1',
  ]);
  expect(r.code).not.toBe(0);
  expect(r.out).toMatch(/Target device failed to respond/i);
});
