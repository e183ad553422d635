/**
 * A simulated detector, composed of three parts: the sensing element (sensor.ts: exposure, response
 * lag, drift, noise, full scale), the firmware (firmware.ts: warm-up, faults, bump test, alarm
 * latches through the model, relay coils) and the Modbus register image built from the same profile
 * file the gateway decodes (register-image.ts, SPEC §3). This file wires them to one clock and adds
 * what happens on the line: a dead, slow, failing or garbling slave.
 */
import {
  builtinProfile,
  GASES,
  type GasId,
  type Profile,
  type ReadingStatus,
  type StatusFlag,
} from '@gaswatch/shared';
import type { ModelOptions } from './devices/models.js';
import { SIM_FAULTS, type SimFault } from './faults.js';
import { createFirmware } from './firmware.js';
import { ExceptionCode, ModbusException } from './modbus/exceptions.js';
import { createRng, hash32, type Rng } from './random.js';
import { createRegisterImage } from './register-image.js';
import { createSensor, profileGases } from './sensor.js';

/** Deliberate damage to the frames a transport sends for this device (fault scripts). */
export interface Corruption {
  /** crc: flip the CRC (RTU) so the master must reject it; garble: flip a random payload byte. */
  mode: 'crc' | 'garble';
  /** Chance for each response, 0..1, drawn from the device's seeded generator. */
  probability: number;
}

export interface DeviceOptions extends ModelOptions {
  /** Device id (log lines, scenario files). */
  id: string;
  /** A profile id from shared/profiles or a loaded profile. */
  profile: string | Profile;
  /** Modbus unit address, 1..247 (default 1). */
  unit?: number;
  /** Seed for noise and fault probabilities (default: derived from the id). */
  seed?: number;
  /**
   * Wall clock in ms. When given, the device's scenario time follows it (every access first advances
   * by the time elapsed); without it time moves only through `advance()`.
   */
  clock?: () => number;
  /** Start in warm-up, as after power-on (default false: the device is ready at once). */
  warmup?: boolean;
  /** Standard deviation of sensor noise in the gas's canonical unit (default 0: exact values). */
  noise?: number;
  /**
   * Sensor response time T90 in seconds: the reading follows a step change as a first-order lag,
   * reaching 90 % of it after T90 (electrochemical CO cells ~30–60 s). Default 0: instant.
   */
  t90S?: number;
}

/** What the device says about itself right now (its status register, decoded). */
export interface DeviceSnapshot {
  id: string;
  unit: number;
  timeMs: number;
  status: ReadingStatus;
  flags: Partial<Record<StatusFlag, boolean>>;
  faultCode: number;
  fault: SimFault | null;
  /** What the sensor reports for each channel, canonical units. */
  values: Partial<Record<GasId, number>>;
  /** Its relays by what they drive (sounder, valve, fan): on or off, as a person at the site sees them. */
  coils: Record<string, boolean>;
}

export interface SimDevice {
  readonly id: string;
  readonly unit: number;
  readonly profile: Profile;
  /** The true concentration the sensor is exposed to, canonical units. Throws RangeError on bad input. */
  setConcentration(gas: GasId, value: number): void;
  getConcentration(gas: GasId): number;
  /** What the sensor reports (drift, stuck value, noise, warm-up and full scale applied). */
  reported(gas: GasId): number;
  setFault(fault: SimFault | null): void;
  readonly fault: SimFault | null;
  /** Sensor drift: the reported value moves by `perHour` canonical units each scenario hour. */
  setDrift(gas: GasId, perHour: number): void;
  /** Freeze (true) or release (false) the reported values at what they are now. */
  setStuck(on: boolean): void;
  /** Make the device stop answering (a dead slave), or answer slowly. */
  setResponding(on: boolean): void;
  readonly responding: boolean;
  setResponseDelayMs(ms: number): void;
  readonly responseDelayMs: number;
  setCorruption(c: Corruption | null): void;
  /** An internal failure: every Modbus request answers exception 4 (slave device failure). */
  setSlaveFailure(on: boolean): void;
  /**
   * A stuck relay driver: the next `count` writes to `coil` (default: every write until called
   * again with 0) answer exception 4 and leave the coil as it was. Throws RangeError for a coil that
   * is not an output or a negative count.
   */
  setCoilWriteFailures(coil: number, count?: number): void;
  /** Transports ask this once per response: true means damage this frame. */
  shouldCorrupt(): Corruption['mode'] | null;
  /** Restart as after a power cycle: warm-up again, peak and alarm reset. */
  powerOn(): void;
  /** gaswatch-4gas: run a bump test for `durationMs` of scenario time (default 30 s). */
  startBumpTest(durationMs?: number): void;
  /** Coil states by output name from the profile (sounder/valve/fan). */
  coils(): Record<string, boolean>;
  readRegisters(fc: 3 | 4, address: number, count: number): number[];
  writeRegister(address: number, value: number): void;
  writeRegisters(address: number, values: readonly number[]): void;
  readCoils(address: number, count: number): boolean[];
  writeCoil(address: number, value: boolean): void;
  writeCoils(address: number, values: readonly boolean[]): void;
  /** Scenario time: warm-up, own alarm, drift, bump test… in steps of at most one second. */
  advance(ms: number): void;
  /** Scenario time since creation, ms. */
  now(): number;
  snapshot(): DeviceSnapshot;
  /** The device's seeded generator for fault probabilities; transports draw from it. */
  readonly rng: Rng;
}

const STEP_MS = 1000;
/** Largest single advance() (about 10 years), so a typo cannot spin for hours. */
const MAX_ADVANCE_MS = 10 * 365 * 86_400_000;

export function createDevice(opts: DeviceOptions): SimDevice {
  const profile = typeof opts.profile === 'string' ? builtinProfile(opts.profile) : opts.profile;
  const unit = opts.unit ?? 1;
  if (!Number.isInteger(unit) || unit < 1 || unit > 247)
    throw new RangeError(`${opts.id}: unit ${unit} outside 1..247`);
  const seed = opts.seed ?? hash32(opts.id);
  const rng = createRng(seed);
  const t90S = opts.t90S ?? 0;
  if (!Number.isFinite(t90S) || t90S < 0) throw new RangeError(`${opts.id}: t90S must be ≥ 0, got ${t90S}`);
  const sensor = createSensor({
    profile,
    noise: opts.noise ?? 0,
    t90S,
    // Noise has its own stream, so how often a master polls (fault draws) cannot change the noise.
    noiseRng: createRng(hash32(`noise:${seed}`)),
  });
  const fw = createFirmware({
    id: opts.id,
    profile,
    model: opts,
    warmup: opts.warmup ?? false,
    sense: (gas) => sensor.output(gas),
    rng,
  });
  const image = createRegisterImage(profile, fw);

  let responding = true;
  let responseDelayMs = 0;
  let corruption: Corruption | null = null;
  let slaveFailure = false;
  const failIfBroken = () => {
    if (slaveFailure)
      throw new ModbusException(ExceptionCode.SlaveDeviceFailure, `${opts.id} internal failure`);
  };

  let lastClock = opts.clock?.();
  const sync = () => {
    if (!opts.clock) return;
    const t = opts.clock();
    if (lastClock !== undefined && t > lastClock) advance(t - lastClock);
    lastClock = t;
  };

  function advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_ADVANCE_MS)
      throw new RangeError(`advance(${ms}): need 0..${MAX_ADVANCE_MS} ms`);
    let left = ms;
    while (left > 0) {
      const dt = Math.min(STEP_MS, left);
      left -= dt;
      sensor.step(dt);
      fw.step(dt);
    }
  }

  const checkGas = (gas: GasId) => {
    if (!(gas in GASES)) throw new RangeError(`${opts.id}: unknown gas "${gas}"`);
  };

  const device: SimDevice = {
    id: opts.id,
    unit,
    profile,
    rng,
    setConcentration(gas, value) {
      checkGas(gas);
      if (!Number.isFinite(value) || value < 0)
        throw new RangeError(`${opts.id}: ${gas} concentration must be a finite number ≥ 0, got ${value}`);
      sync();
      sensor.expose(gas, value);
    },
    getConcentration(gas) {
      checkGas(gas);
      return sensor.exposure(gas);
    },
    reported(gas) {
      checkGas(gas);
      sync();
      return fw.reported(gas);
    },
    setFault(f) {
      if (f !== null && !SIM_FAULTS.includes(f)) throw new RangeError(`${opts.id}: unknown fault "${f}"`);
      sync();
      fw.setFault(f);
    },
    get fault() {
      return fw.fault;
    },
    setDrift(gas, perHour) {
      checkGas(gas);
      if (!Number.isFinite(perHour)) throw new RangeError(`${opts.id}: drift must be finite`);
      sync();
      sensor.setDrift(gas, perHour);
    },
    setStuck(on) {
      sync();
      sensor.freeze(null);
      if (!on) return;
      // What the device reports now, so a sensor stuck during warm-up stays at 0.
      const values = new Map<GasId, number>();
      for (const gas of sensor.gases()) values.set(gas, fw.reported(gas));
      sensor.freeze(values);
    },
    setResponding(on) {
      responding = on;
    },
    get responding() {
      return responding;
    },
    setResponseDelayMs(ms) {
      if (!Number.isFinite(ms) || ms < 0 || ms > 600_000)
        throw new RangeError(`${opts.id}: response delay ${ms} ms`);
      responseDelayMs = ms;
    },
    get responseDelayMs() {
      return responseDelayMs;
    },
    setCorruption(c) {
      if (c && (!(c.probability >= 0 && c.probability <= 1) || (c.mode !== 'crc' && c.mode !== 'garble')))
        throw new RangeError(`${opts.id}: corruption needs mode crc|garble and probability 0..1`);
      corruption = c;
    },
    setSlaveFailure(on) {
      slaveFailure = on;
    },
    setCoilWriteFailures(coil, count = Number.POSITIVE_INFINITY) {
      fw.setCoilWriteFailures(coil, count);
    },
    shouldCorrupt() {
      if (!corruption || corruption.probability === 0) return null;
      return rng.next() < corruption.probability ? corruption.mode : null;
    },
    powerOn() {
      sync();
      fw.powerOn();
    },
    startBumpTest(durationMs = 30_000) {
      sync();
      fw.startBumpTest(durationMs);
    },
    coils() {
      return fw.coils();
    },
    readRegisters(fc, address, count) {
      sync();
      image.checkRead(fc, count);
      failIfBroken();
      return image.read(fc, address, count);
    },
    writeRegister(address, value) {
      device.writeRegisters(address, [value]);
    },
    writeRegisters(address, values) {
      sync();
      image.modbus();
      failIfBroken();
      image.write(address, values);
    },
    readCoils(address, count) {
      sync();
      image.checkCoils(address, count);
      failIfBroken();
      return Array.from({ length: count }, (_, i) => fw.coil(address + i));
    },
    writeCoil(address, value) {
      device.writeCoils(address, [value]);
    },
    writeCoils(address, values) {
      sync();
      image.checkCoils(address, values.length);
      failIfBroken();
      image.checkOutputs(address, values.length);
      // All or nothing: a failing relay driver refuses the whole write.
      fw.switchCoils(address, values);
    },
    advance(ms) {
      advance(ms);
    },
    now() {
      sync();
      return fw.now();
    },
    snapshot() {
      sync();
      const f = fw.flags();
      const values: Partial<Record<GasId, number>> = {};
      for (const gas of profileGases(profile)) values[gas] = fw.reported(gas);
      return {
        id: opts.id,
        unit,
        timeMs: fw.now(),
        status: fw.status(f),
        flags: f,
        faultCode: fw.model.faultCode(),
        fault: fw.fault,
        values,
        coils: fw.coils(),
      };
    },
  };
  return device;
}
