// Modbus RTU slave on a socat pty: several units on one line, CRC on every frame except the ones a
// fault script corrupts, silence where RS-485 slaves are silent, exceptions with their codes.
import { type PtyPair, startPtyPair } from '@gaswatch/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  crcOk,
  createDevice,
  createModbusRtuSlave,
  encodeRequestPdu,
  encodeRtuFrame,
  type ModbusRtuSlave,
  type SimDevice,
  withCrc,
} from '../src/index.js';
import { resolveScenario } from '../src/scenario/load.js';
import { createScenarioRunner, type ScenarioRunner } from '../src/scenario/runner.js';
import { openRtuMaster, registersOf } from './helpers.js';

let pty: PtyPair;
let slave: ModbusRtuSlave | undefined;
let master: Awaited<ReturnType<typeof openRtuMaster>> | undefined;
let runner: ScenarioRunner | undefined;

beforeEach(async () => {
  pty = await startPtyPair();
});
afterEach(async () => {
  await master?.close();
  await slave?.stop();
  await runner?.stop();
  await pty.stop();
  master = undefined;
  slave = undefined;
  runner = undefined;
});

const read = (address: number, count: number, fc: 3 | 4 = 3) => encodeRequestPdu({ fc, address, count });
const pduOf = (frame: Buffer | null) => (frame ? frame.subarray(1, frame.length - 2) : null);

async function line(devices: SimDevice[]) {
  slave = createModbusRtuSlave({ path: pty.a, devices, parity: 'even' });
  await slave.start();
  master = await openRtuMaster(pty.b);
  return master;
}

describe('one RS-485 line, three units', () => {
  const devs = () => [
    createDevice({ id: 'a', profile: 'gaswatch-co', unit: 1 }),
    createDevice({ id: 'b', profile: 'gaswatch-co', unit: 2 }),
    createDevice({ id: 'c', profile: 'gaswatch-lel', unit: 17 }),
  ];

  it('each unit answers its own address with a correct CRC; absent units and bad CRCs get silence', async () => {
    const [a, b, c] = devs();
    a!.setConcentration('CO', 12.3);
    b!.setConcentration('CO', 45.6);
    c!.setConcentration('CO', 7);
    const m = await line([a!, b!, c!]);
    const fa = await m.request(1, read(0, 1));
    const fb = await m.request(2, read(0, 1));
    const fc = await m.request(17, read(2, 1));
    for (const f of [fa, fb, fc]) expect(f && crcOk(f)).toBe(true);
    expect(fa![0]).toBe(1);
    expect(registersOf(pduOf(fa))).toEqual([123]);
    expect(registersOf(pduOf(fb))).toEqual([456]);
    expect(registersOf(pduOf(fc))).toEqual([7]);
    expect(await m.request(5, read(0, 1), 200)).toBeNull();
    const broken = withCrc(Buffer.concat([Buffer.from([1]), read(0, 1)]));
    broken[broken.length - 1]! ^= 0x55;
    expect(await m.send(broken, 200)).toBeNull();
    expect(slave!.stats()).toMatchObject({ responses: 3, otherUnits: 1, crcErrors: 1 });
    // The line still works after the noise.
    expect(registersOf(pduOf(await m.request(1, read(0, 1))))).toEqual([123]);
  });

  it('frames end at the 3.5-character gap: noise before a pause is dropped, noise glued to a request spoils it', async () => {
    const [a] = devs();
    a!.setConcentration('CO', 1);
    const m = await line([a!]);
    const request = encodeRtuFrame(1, read(0, 1));
    expect(await m.send(Buffer.from([0x01, 0x99, 0x42]), 100)).toBeNull(); // a partial frame, then silence
    expect(registersOf(pduOf(await m.send(request)))).toEqual([10]);
    expect(await m.send(Buffer.concat([Buffer.from([0x07, 0x07]), request]), 200)).toBeNull();
    expect(slave!.stats().crcErrors).toBe(2);
    expect(registersOf(pduOf(await m.send(request)))).toEqual([10]);
  });

  it('exceptions carry their codes: 1 unknown function, 2 bad address, 3 bad value, 4 device failure', async () => {
    const d = devs();
    const m = await line(d);
    const ex = async (unit: number, pdu: Buffer) => {
      const f = await m.request(unit, pdu);
      expect(f && crcOk(f)).toBe(true);
      return [f![1], f![2]];
    };
    expect(await ex(1, Buffer.from([0x2b, 0x0e, 0x01, 0x00]))).toEqual([0xab, 1]);
    expect(await ex(1, read(100, 2))).toEqual([0x83, 2]);
    expect(await ex(1, read(0, 200))).toEqual([0x83, 3]);
    expect(await ex(1, encodeRequestPdu({ fc: 6, address: 3, value: 9 }))).toEqual([0x86, 3]);
    expect(await ex(1, read(0, 1, 4))).toEqual([0x84, 2]); // gaswatch-co has no input registers
    expect(await ex(1, encodeRequestPdu({ fc: 5, address: 0, value: true }))).toEqual([0x85, 1]); // no coils
    expect(await ex(17, encodeRequestPdu({ fc: 5, address: 7, value: true }))).toEqual([0x85, 2]);
    d[1]!.setSlaveFailure(true);
    expect(await ex(2, read(0, 1))).toEqual([0x83, 4]);
    expect(await ex(1, read(0, 1))).not.toEqual([0x83, 4]); // only that unit
    d[1]!.setSlaveFailure(false);
    expect(registersOf(pduOf(await m.request(2, read(0, 1))))).toEqual([0]);
  });

  it('writes: function 6/16 registers and 5/15 coils; a broadcast (unit 0) is executed and not answered', async () => {
    const [a, b, c] = devs();
    const m = await line([a!, b!, c!]);
    const w6 = await m.request(1, encodeRequestPdu({ fc: 6, address: 3, value: 0 }));
    expect(pduOf(w6)).toEqual(encodeRequestPdu({ fc: 6, address: 3, value: 0 }));
    expect(a!.readRegisters(3, 3, 1)).toEqual([0]);
    const w16 = await m.request(17, encodeRequestPdu({ fc: 16, address: 5, values: [10, 40] }));
    expect([...pduOf(w16)!]).toEqual([16, 0, 5, 0, 2]);
    expect(c!.readRegisters(3, 5, 2)).toEqual([10, 40]);
    await m.request(17, encodeRequestPdu({ fc: 15, address: 0, values: [true, false, true] }));
    expect(c!.coils()).toEqual({ sounder: true, valve: false, fan: true });
    const coils = await m.request(17, encodeRequestPdu({ fc: 1, address: 0, count: 3 }));
    expect([...pduOf(coils)!]).toEqual([1, 1, 0b101]);
    expect(await m.request(0, encodeRequestPdu({ fc: 6, address: 3, value: 0 }), 200)).toBeNull();
    expect(b!.readRegisters(3, 3, 1)).toEqual([0]);
    expect(slave!.stats().broadcasts).toBe(1);
  });
});

describe('wire timing', () => {
  it('answers every poll correctly with baud-accurate delays (figures: npm run bench)', async () => {
    const devices = [1, 2, 3].map((unit) => createDevice({ id: `w${unit}`, profile: 'gaswatch-co', unit }));
    devices.forEach((d, i) => {
      d.setConcentration('CO', 10 * (i + 1));
    });
    slave = createModbusRtuSlave({ path: pty.a, devices, parity: 'even', wireTiming: true, turnaroundMs: 2 });
    await slave.start();
    master = await openRtuMaster(pty.b);
    for (let i = 0; i < 12; i++) {
      const unit = (i % 3) + 1;
      const f = await master.request(unit, read(0, 8), 1000);
      expect(f && crcOk(f) && f[0]).toBe(unit);
      expect(registersOf(pduOf(f))[0]).toBe(100 * unit);
    }
    expect(slave.stats()).toMatchObject({ responses: 12, dropped: 0, crcErrors: 0 });
  });
});

describe('fault scripts on the line', () => {
  it('CRC errors only on the corrupted device, the others stay correct; garbled frames are counted', async () => {
    const good = createDevice({ id: 'good', profile: 'gaswatch-co', unit: 1, seed: 1 });
    const crc = createDevice({ id: 'crc', profile: 'gaswatch-co', unit: 2, seed: 2 });
    const garbled = createDevice({ id: 'garbled', profile: 'gaswatch-co', unit: 3, seed: 3 });
    crc.setCorruption({ mode: 'crc', probability: 1 });
    garbled.setCorruption({ mode: 'garble', probability: 0.5 });
    const m = await line([good, crc, garbled]);
    let bad3 = 0;
    for (let i = 0; i < 20; i++) {
      const g = await m.request(1, read(0, 8));
      expect(g && crcOk(g), 'unit 1 frame').toBe(true);
      const c = await m.request(2, read(0, 8));
      expect(c).not.toBeNull();
      expect(crcOk(c!), 'unit 2 frame must fail CRC').toBe(false);
      // Long enough for a good answer through a loaded pty: a late one would be counted as bad.
      const x = await m.request(3, read(0, 8), 400);
      if (!x || !crcOk(x)) bad3++;
    }
    expect(bad3).toBeGreaterThan(0);
    expect(bad3).toBeLessThan(20);
    expect(slave!.stats().corrupted).toBe(20 + bad3);
  });

  it('a dead slave stays silent while its neighbours answer; it comes back when revived', async () => {
    const a = createDevice({ id: 'a', profile: 'gaswatch-co', unit: 1 });
    const dead = createDevice({ id: 'dead', profile: 'gaswatch-co', unit: 2 });
    const m = await line([a, dead]);
    dead.setResponding(false);
    expect(await m.request(2, read(0, 1), 200)).toBeNull();
    expect(crcOk((await m.request(1, read(0, 1)))!)).toBe(true);
    dead.setResponding(true);
    expect(crcOk((await m.request(2, read(0, 1)))!)).toBe(true);
  });

  it('a slow slave answers late; its late answer is dropped once the master has moved on', async () => {
    const slow = createDevice({ id: 'slow', profile: 'gaswatch-co', unit: 1 });
    const other = createDevice({ id: 'other', profile: 'gaswatch-co', unit: 2 });
    slow.setResponseDelayMs(1000);
    const m = await line([slow, other]);
    expect(await m.request(1, read(0, 1), 100)).toBeNull(); // master times out long before the answer
    const o = await m.request(2, read(0, 1));
    expect(o && crcOk(o) && o[0]).toBe(2);
    expect(slave!.stats().dropped).toBe(1);
    const late = await m.request(1, read(0, 1), 3000);
    expect(late && crcOk(late) && late[0]).toBe(1);
  });

  it('the faults scenario over its RTU line: drift, stuck, end of life, dead slave', async () => {
    runner = createScenarioRunner({ loaded: resolveScenario('faults'), speed: 0, serialPaths: [pty.a] });
    await runner.start();
    master = await openRtuMaster(pty.b);
    const co = async (unit: number) => registersOf(pduOf(await master!.request(unit, read(0, 3))));
    expect((await co(1))[0]).toBe(50);
    runner.advance(90_000);
    // 60–300 s: unit 4 is a dead slave; its neighbours answer.
    expect(await master.request(4, read(0, 1), 200)).toBeNull();
    expect((await co(1))[0]).toBe(70); // drifting: 5 + 2 ppm/min × 1 min
    runner.advance(30 * 60_000);
    // Drift of 120 ppm/h since 30 s: 5 + 120 × (31.5 − 0.5)/60 = 67 ppm, while the room stays at 5.
    expect((await co(1))[0]! * 0.1).toBeCloseTo(67, 1);
    expect(runner.zoneConcentration('flat', 'CO')).toBeCloseTo(5, 6);
    // Stuck at its 30-s value even though the sensor's air changed.
    runner.devices.get('stuck-co')!.setConcentration('CO', 80);
    expect((await co(2))[0]).toBe(50);
    const eol = await co(3);
    expect(eol[1]! & 0b1010).toBe(0b1010);
    expect(eol[2]).toBe(2);
    expect((await co(4))[0]).toBe(50); // revived at 300 s
  });
});
