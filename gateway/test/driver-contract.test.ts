/**
 * One contract, three drivers: Modbus RTU and Winsen over socat pty pairs, Modbus TCP over
 * loopback, all against firmware-sim detectors.
 */
import {
  createDevice,
  createModbusRtuSlave,
  createModbusTcpServer,
  createWinsenModule,
  type SimDevice,
} from '@gaswatch/firmware-sim';
import { builtinProfile, type ModbusProfile } from '@gaswatch/shared';
import { freePort, type PtyPair, startPtyPair } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import { ModbusRtuBusSchema, ModbusTcpBusSchema, WinsenBusSchema } from '../src/config.js';
import { createDriver, type Driver, type DriverDevice } from '../src/drivers/index.js';
import { CrcError, DriverError, ModbusExceptionError, TimeoutError } from '../src/errors.js';
import { driverDevice } from './helpers/devices.js';
import { testLogger } from './helpers/log.js';
import { startNoisySlave } from './helpers/noisy-slave.js';

const busDevices = [{ id: 'x', unit: 1, profile: 'gaswatch-co', site: 's', location: 'l' }];

/** A profile that asks for a register the detector does not have: the answer is exception 2. */
const missingRegister: ModbusProfile = {
  ...(builtinProfile('gaswatch-co') as ModbusProfile),
  id: 'missing-register',
  channels: [{ gas: 'CO', fc: 3, address: 900, type: 'uint16', wordOrder: 'be', scale: 0.1 }],
  status: undefined,
  faultCode: undefined,
};

interface Rig {
  driver: Driver;
  stop(): Promise<void>;
}

async function expectNoSample(p: Promise<unknown>): Promise<DriverError> {
  const err = await p.then(
    (v) => {
      throw new Error(`expected a failed read, got a sample ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DriverError);
  return err as DriverError;
}

function modbusContract(
  name: string,
  makeRig: (devices: SimDevice[]) => Promise<Rig>,
  opts: { crc: boolean },
) {
  describe(`${name} driver contract`, () => {
    const co = createDevice({ id: 'co', profile: 'gaswatch-co', unit: 1 });
    const four = createDevice({ id: 'four', profile: 'gaswatch-4gas', unit: 2 });
    const lel = createDevice({ id: 'lel', profile: 'gaswatch-lel', unit: 3 });
    const midas = createDevice({ id: 'midas', profile: 'midas', unit: 4 });
    const dead = createDevice({ id: 'dead', profile: 'gaswatch-co', unit: 5 });
    let rig: Rig;
    const d = {
      co: driverDevice('co', 1, 'gaswatch-co'),
      four: driverDevice('four', 2, 'gaswatch-4gas'),
      lel: driverDevice('lel', 3, 'gaswatch-lel'),
      midas: driverDevice('midas', 4, 'midas'),
      dead: driverDevice('dead', 5, 'gaswatch-co', { timeoutMs: 150, retries: 1 }),
    };

    beforeAll(async () => {
      rig = await makeRig([co, four, lel, midas, dead]);
    });
    afterAll(async () => {
      await rig?.stop();
    });

    it('reads every profile with the right values, scale, decimals and word order', async () => {
      co.setConcentration('CO', 35.2);
      four.setConcentration('O2', 19.4);
      four.setConcentration('LEL', 12);
      four.setConcentration('CO', 40);
      four.setConcentration('H2S', 5.5);
      lel.setConcentration('LEL', 17.5);
      lel.setConcentration('CO', 120);
      midas.setConcentration('CO', 42.25);
      const s1 = await rig.driver.read(d.co);
      expect(s1.values.CO).toBeCloseTo(35.2, 5);
      expect(s1.status).toBe('ok');
      const s2 = await rig.driver.read(d.four);
      expect(s2.values).toMatchObject({
        O2: expect.closeTo(19.4, 5),
        LEL: expect.closeTo(12, 5),
        CO: 40,
        H2S: expect.closeTo(5.5, 5),
      });
      const s3 = await rig.driver.read(d.lel);
      expect(s3.values.LEL).toBeCloseTo(17.5, 4);
      expect(s3.values.CO).toBe(120);
      const s4 = await rig.driver.read(d.midas);
      expect(s4.values.CO).toBeCloseTo(42.25, 4);
    });

    it('reports the detector status bits (fault, end of life)', async () => {
      co.setFault('sensor_eol');
      const s = await rig.driver.read(d.co);
      expect(s.faults).toContain('sensor_eol');
      co.setFault(null);
      const ok = await rig.driver.read(d.co);
      expect(ok.faults ?? []).not.toContain('sensor_eol');
    });

    it('surfaces a Modbus exception with its exception code', async () => {
      const err = await expectNoSample(rig.driver.read(driverDevice('co', 1, missingRegister)));
      expect(err).toBeInstanceOf(ModbusExceptionError);
      expect((err as ModbusExceptionError).exceptionCode).toBe(2);
      expect(err.code).toBe('modbus_exception');
    });

    it('a dead detector is a timeout, never a 0 reading, and the bus still works afterwards', async () => {
      dead.setConcentration('CO', 0);
      dead.setResponding(false);
      const err = await expectNoSample(rig.driver.read(d.dead));
      expect(err).toBeInstanceOf(TimeoutError);
      co.setConcentration('CO', 12.3);
      expect((await rig.driver.read(d.co)).values.CO).toBeCloseTo(12.3, 5);
    });

    it('writes and reads relay coils', async () => {
      await rig.driver.writeCoil(d.lel, 1, true);
      expect(lel.coils().valve).toBe(true);
      expect(await rig.driver.readCoils(d.lel, 0, 3)).toEqual([false, true, false]);
      await rig.driver.writeCoil(d.lel, 1, false);
      expect(lel.coils().valve).toBe(false);
    });

    it('one transaction at a time: parallel reads of many units all come back right', async () => {
      co.setConcentration('CO', 77.7);
      midas.setConcentration('CO', 5.5);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => rig.driver.read(i % 2 ? d.co : d.midas)),
      );
      results.forEach((s, i) => {
        expect(s.values.CO).toBeCloseTo(i % 2 ? 77.7 : 5.5, 4);
      });
    });

    if (opts.crc) {
      it('reports a CRC error as such, produces no reading, and recovers', async () => {
        co.setConcentration('CO', 50);
        co.setCorruption({ mode: 'crc', probability: 1 });
        const err = await expectNoSample(
          rig.driver.read({ ...d.co, config: { ...d.co.config, retries: 0 } }),
        );
        expect(err).toBeInstanceOf(CrcError);
        co.setCorruption(null);
        expect((await rig.driver.read(d.co)).values.CO).toBe(50);
      });
    }
  });
}

modbusContract(
  'modbus-rtu',
  async (devices) => {
    const pty = await startPtyPair();
    const slave = createModbusRtuSlave({ path: pty.a, devices, parity: 'even' });
    await slave.start();
    const driver = createDriver(
      ModbusRtuBusSchema.parse({ id: 'rs485-0', type: 'modbus-rtu', path: pty.b, devices: busDevices }),
      {
        logger: testLogger(),
        clock: systemClock,
      },
    );
    await driver.start();
    return {
      driver,
      async stop() {
        await driver.stop();
        await slave.stop();
        await pty.stop();
      },
    };
  },
  { crc: true },
);

modbusContract(
  'modbus-tcp',
  async (devices) => {
    const server = createModbusTcpServer({ devices, host: '127.0.0.1', port: await freePort() });
    const { port } = await server.start();
    const driver = createDriver(
      ModbusTcpBusSchema.parse({
        id: 'tcp-0',
        type: 'modbus-tcp',
        host: '127.0.0.1',
        port,
        devices: busDevices,
      }),
      {
        logger: testLogger(),
        clock: systemClock,
      },
    );
    await driver.start();
    return {
      driver,
      async stop() {
        await driver.stop();
        await server.stop();
      },
    };
  },
  { crc: false },
);

describe('modbus-rtu on a noisy line', () => {
  let pty: PtyPair;
  let slave: Awaited<ReturnType<typeof startNoisySlave>>;
  let driver: Driver;
  const sim = createDevice({ id: 'co', profile: 'gaswatch-co', unit: 1 });
  const dev: DriverDevice = driverDevice('co', 1, 'gaswatch-co', { timeoutMs: 200, retries: 0 });
  beforeAll(async () => {
    pty = await startPtyPair();
    slave = await startNoisySlave(pty.a, [sim]);
    driver = createDriver(
      ModbusRtuBusSchema.parse({ id: 'rs485-n', type: 'modbus-rtu', path: pty.b, devices: busDevices }),
      {
        logger: testLogger(),
        clock: systemClock,
      },
    );
    await driver.start();
  });
  afterAll(async () => {
    await driver?.stop();
    await slave?.stop();
    await pty?.stop();
  });

  it('garbage instead of an answer is reported, not read as a value', async () => {
    sim.setConcentration('CO', 0);
    slave.setMode('garbage-only');
    const err = await expectNoSample(driver.read(dev));
    expect(['bad_frame', 'bad_crc']).toContain(err.code);
  });

  it('garbage before a good answer is skipped and the answer used', async () => {
    sim.setConcentration('CO', 21.4);
    slave.setMode('garbage-then-answer');
    expect((await driver.read(dev)).values.CO).toBeCloseTo(21.4, 5);
    slave.setMode('none');
    expect((await driver.read(dev)).values.CO).toBeCloseTo(21.4, 5);
  });
});

for (const mode of ['qa', 'active'] as const) {
  describe(`winsen driver contract (${mode} mode)`, () => {
    let pty: PtyPair;
    const sim = createDevice({ id: 'ze07', profile: 'winsen-ze07' });
    const module = () =>
      createWinsenModule({
        path: pty.a,
        device: sim,
        mode: mode === 'qa' ? 'active' : 'qa',
        intervalMs: 200,
      });
    let mod: ReturnType<typeof createWinsenModule>;
    let driver: Driver;
    const dev = driverDevice('ze07', 1, 'winsen-ze07', { timeoutMs: 600, retries: 0 });
    beforeAll(async () => {
      pty = await startPtyPair();
      // The module starts in the other mode: the driver must switch it.
      mod = module();
      await mod.start();
      driver = createDriver(
        WinsenBusSchema.parse({
          id: 'uart-0',
          type: 'winsen',
          path: pty.b,
          mode,
          devices: [{ id: 'ze07', profile: 'winsen-ze07', site: 's', location: 'l' }],
        }),
        {
          logger: testLogger(),
          clock: systemClock,
        },
      );
      await driver.start();
    });
    afterAll(async () => {
      await driver?.stop();
      await mod?.stop();
      await pty?.stop();
    });

    it('reads the concentration', async () => {
      sim.setConcentration('CO', 123.4);
      // An active module may still upload the value from before the change once.
      let s = await driver.read(dev);
      if (Math.abs((s.values.CO ?? 0) - 123.4) > 0.05) s = await driver.read(dev);
      expect(s.values.CO).toBeCloseTo(123.4, 5);
      expect(s.status).toBe('ok');
    });

    it('reports a bad checksum as such and produces no reading', async () => {
      sim.setCorruption({ mode: 'crc', probability: 1 });
      const err = await expectNoSample(driver.read(dev));
      expect(['bad_crc', 'bad_frame']).toContain(err.code);
      sim.setCorruption(null);
      sim.setConcentration('CO', 7);
      let s = await driver.read(dev);
      if (s.values.CO !== 7) s = await driver.read(dev);
      expect(s.values.CO).toBe(7);
    });

    it('a module pinned at its full range reads as over range: the value kept, quality bad', async () => {
      // ZE07 range 0–500 ppm: at 2 000 ppm the cell sends 500.0; that is "at least 500", not 500.
      sim.setConcentration('CO', 2000);
      let s = await driver.read(dev);
      if (s.values.CO !== 500) s = await driver.read(dev);
      expect(s.values.CO).toBe(500);
      expect(s.quality).toEqual({ CO: 'bad' });
      expect(s.status).toBe('ok');
      sim.setConcentration('CO', 499.9);
      s = await driver.read(dev);
      if (s.values.CO !== 499.9) s = await driver.read(dev);
      expect(s.values.CO).toBe(499.9);
      expect(s.quality).toBeUndefined();
    });

    it('a silent module is a timeout, never a 0 reading', async () => {
      sim.setResponding(false);
      const err = await expectNoSample(driver.read(dev));
      expect(err).toBeInstanceOf(TimeoutError);
      sim.setResponding(true);
    });
  });
}
