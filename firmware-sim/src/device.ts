/**
 * A simulated detector: what its sensor sees, its own logic (warm-up, alarms, faults, bump test) and
 * the Modbus register image built from the same profile file the gateway decodes (SPEC §3).
 */
import {
  builtinProfile,
  encodeRegisters,
  GASES,
  type GasId,
  type ModbusProfile,
  type Profile,
  type ReadingStatus,
  STATUS_FLAGS,
  type StatusFlag,
} from '@gaswatch/shared';
import type { CoAlarmFactory, CoStandard } from './devices/co-alarm.js';
import { createModel, type DeviceModel } from './devices/models.js';
import { ExceptionCode, ModbusException } from './modbus/exceptions.js';
import { MAX_READ_COILS, MAX_READ_REGISTERS } from './modbus/frame.js';
import { createRng, hash32, type Rng } from './random.js';
import { OUTDOOR_AIR } from './scenario/room.js';

/**
 * Faults a device can be put into. `fault` is a generic internal fault; the others map to the
 * profile's fault-code register (see docs/firmware-sim.md for each model's numbers).
 */
export const SIM_FAULTS = [
  'fault',
  'sensor_eol',
  'sensor_open',
  'self_test',
  'o2_cell',
  'lel_bead',
  'co_cell',
  'h2s_cell',
  'pump',
  'supply_low',
] as const;
export type SimFault = (typeof SIM_FAULTS)[number];

/** Deliberate damage to the frames a transport sends for this device (fault scripts). */
export interface Corruption {
  /** crc: flip the CRC (RTU) so the master must reject it; garble: flip a random payload byte. */
  mode: 'crc' | 'garble';
  /** Chance for each response, 0..1, drawn from the device's seeded generator. */
  probability: number;
}

export interface DeviceOptions {
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
  /** gaswatch-co: which standard its own alarm follows (default en50291). */
  standard?: CoStandard;
  /** Standard deviation of sensor noise in the gas's canonical unit (default 0: exact values). */
  noise?: number;
  /**
   * Sensor response time T90 in seconds: the reading follows a step change as a first-order lag,
   * reaching 90 % of it after T90 (electrochemical CO cells ~30–60 s). Default 0: instant.
   */
  t90S?: number;
  /** The CO alarm curve implementation (default: the shared SPEC §6 rule set). */
  coAlarm?: CoAlarmFactory;
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

/** Context a device model sees: the core state it may read and a few levers. */
export interface ModelContext {
  readonly id: string;
  readonly profile: Profile;
  readonly options: DeviceOptions;
  now(): number;
  reported(gas: GasId): number;
  readonly fault: SimFault | null;
  warmingUp(): boolean;
  bumpTesting(): boolean;
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
  // Noise has its own stream, so how often a master polls (fault draws) cannot change the noise.
  const noiseRng = createRng(hash32(`noise:${seed}`));
  const ambient = new Map<GasId, number>();
  for (const gas of profileGases(profile)) ambient.set(gas, OUTDOOR_AIR[gas] ?? 0);
  const drift = new Map<GasId, { perHour: number; offset: number }>();
  const noise = new Map<GasId, number>();
  let stuck: Map<GasId, number> | null = null;
  let fault: SimFault | null = null;
  let now = 0;
  let warmupUntil = opts.warmup ? profile.warmupS * 1000 : 0;
  let bumpUntil = -1;
  let responding = true;
  let responseDelayMs = 0;
  let corruption: Corruption | null = null;
  let slaveFailure = false;
  const failIfBroken = () => {
    if (slaveFailure)
      throw new ModbusException(ExceptionCode.SlaveDeviceFailure, `${opts.id} internal failure`);
  };
  const coilState = new Map<number, boolean>();
  /** Coil → writes still to refuse. */
  const coilWriteFailures = new Map<number, number>();
  if (profile.transport === 'modbus') for (const o of profile.outputs) coilState.set(o.coil, false);
  let lastClock = opts.clock?.();
  const t90S = opts.t90S ?? 0;
  if (!Number.isFinite(t90S) || t90S < 0) throw new RangeError(`${opts.id}: t90S must be ≥ 0, got ${t90S}`);
  // 1 − e^(−T90/τ) = 0.9  ⇒  τ = T90 / ln 10
  const tauMs = (t90S * 1000) / Math.LN10;
  const sensed = new Map<GasId, number>(ambient);

  const sync = () => {
    if (!opts.clock) return;
    const t = opts.clock();
    if (lastClock !== undefined && t > lastClock) advance(t - lastClock);
    lastClock = t;
  };

  const fullScale = (gas: GasId): number | undefined =>
    profile.transport === 'modbus' ? profile.channels.find((c) => c.gas === gas)?.fullScale : undefined;

  const rawReported = (gas: GasId): number => {
    if (now < warmupUntil) return 0;
    if (stuck?.has(gas)) return stuck.get(gas)!;
    const seen = tauMs > 0 ? (sensed.get(gas) ?? 0) : (ambient.get(gas) ?? 0);
    const v = seen + (drift.get(gas)?.offset ?? 0) + (noise.get(gas) ?? 0);
    const fs = fullScale(gas);
    return Math.max(0, fs === undefined ? v : Math.min(fs, v));
  };

  const ctx: ModelContext = {
    id: opts.id,
    profile,
    options: opts,
    now: () => now,
    reported: rawReported,
    get fault() {
      return fault;
    },
    warmingUp: () => now < warmupUntil,
    bumpTesting: () => now < bumpUntil,
    rng,
  };
  const model: DeviceModel = createModel(ctx);

  function advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_ADVANCE_MS)
      throw new RangeError(`advance(${ms}): need 0..${MAX_ADVANCE_MS} ms`);
    let left = ms;
    while (left > 0) {
      const dt = Math.min(STEP_MS, left);
      left -= dt;
      now += dt;
      for (const d of drift.values()) d.offset += (d.perHour * dt) / 3_600_000;
      if (tauMs > 0) {
        const k = Math.exp(-dt / tauMs);
        for (const [gas, c] of ambient) sensed.set(gas, c + ((sensed.get(gas) ?? c) - c) * k);
      }
      if (opts.noise) for (const gas of ambient.keys()) noise.set(gas, noiseRng.normal() * opts.noise);
      if (bumpUntil >= 0 && now >= bumpUntil) {
        bumpUntil = -1;
        model.bumpTestDone?.(fault === null);
      }
      model.step?.(dt);
    }
  }

  const checkGas = (gas: GasId) => {
    if (!(gas in GASES)) throw new RangeError(`${opts.id}: unknown gas "${gas}"`);
  };

  const modbus = (): ModbusProfile => {
    if (profile.transport !== 'modbus')
      throw new ModbusException(ExceptionCode.IllegalFunction, `${profile.id} does not speak Modbus`);
    return profile;
  };

  const flags = (): Partial<Record<StatusFlag, boolean>> => {
    const f: Partial<Record<StatusFlag, boolean>> = {
      warmup: now < warmupUntil,
      fault: fault !== null,
      eol: fault === 'sensor_eol',
      bumpTest: now < bumpUntil,
      ...model.flags(),
    };
    return f;
  };

  const status = (f: Partial<Record<StatusFlag, boolean>>): ReadingStatus => {
    if (f.fault || f.eol) return 'fault';
    if (f.warmup) return 'warmup';
    if (f.calibrating) return 'calibrating';
    if (f.bumpTest) return 'bump_test';
    return 'ok';
  };

  /** The whole register table of one function, address → value. */
  const image = (fc: 3 | 4): Map<number, number> => {
    const p = modbus();
    const regs = new Map<number, number>();
    const f = flags();
    for (const ch of p.channels) {
      if (ch.fc !== fc) continue;
      let raw = rawReported(ch.gas);
      if (ch.decimalsRegister !== undefined) {
        const decimals = model.decimals?.(ch.gas) ?? 1;
        regs.set(ch.decimalsRegister, decimals);
        raw *= 10 ** decimals;
      } else if (ch.scale !== undefined) raw /= ch.scale;
      encodeRegisters(raw, ch.type, ch.wordOrder).forEach((v, i) => {
        regs.set(ch.address + i, v);
      });
    }
    if (p.status && p.status.fc === fc) {
      let word = 0;
      for (const flag of STATUS_FLAGS) {
        const bit = p.status.bits[flag];
        if (bit !== undefined && f[flag]) word |= 1 << bit;
      }
      if (p.status.state) {
        const s = status(f);
        const entry = Object.entries(p.status.state.values).find(([, v]) => v === s);
        if (entry) word |= (Number(entry[0]) & ((1 << p.status.state.width) - 1)) << p.status.state.shift;
      }
      word |= model.extraStatusBits?.() ?? 0;
      regs.set(p.status.address, word & 0xffff);
    }
    if (p.faultCode && p.faultCode.fc === fc) regs.set(p.faultCode.address, model.faultCode());
    for (const [rfc, address, value] of model.registers?.() ?? [])
      if (rfc === fc) regs.set(address, value & 0xffff);
    return regs;
  };

  const coilRange = (address: number, count: number) => {
    const p = modbus();
    if (p.outputs.length === 0)
      throw new ModbusException(ExceptionCode.IllegalFunction, `${p.id} has no coils`);
    const max = Math.max(...p.outputs.map((o) => o.coil));
    if (count < 1 || count > MAX_READ_COILS)
      throw new ModbusException(ExceptionCode.IllegalDataValue, `count ${count}`);
    if (address + count - 1 > max)
      throw new ModbusException(
        ExceptionCode.IllegalDataAddress,
        `coils ${address}..${address + count - 1} beyond ${max}`,
      );
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
      ambient.set(gas, value);
    },
    getConcentration(gas) {
      checkGas(gas);
      return ambient.get(gas) ?? 0;
    },
    reported(gas) {
      checkGas(gas);
      sync();
      return rawReported(gas);
    },
    setFault(f) {
      if (f !== null && !SIM_FAULTS.includes(f)) throw new RangeError(`${opts.id}: unknown fault "${f}"`);
      sync();
      fault = f;
    },
    get fault() {
      return fault;
    },
    setDrift(gas, perHour) {
      checkGas(gas);
      if (!Number.isFinite(perHour)) throw new RangeError(`${opts.id}: drift must be finite`);
      sync();
      const d = drift.get(gas);
      if (d) d.perHour = perHour;
      else drift.set(gas, { perHour, offset: 0 });
    },
    setStuck(on) {
      sync();
      if (!on) stuck = null;
      else {
        stuck = new Map();
        for (const gas of ambient.keys()) stuck.set(gas, rawReported(gas));
      }
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
      if (!coilState.has(coil)) throw new RangeError(`${opts.id}: coil ${coil} is not an output`);
      if (!(count >= 0))
        throw new RangeError(`${opts.id}: coil write failure count must be ≥ 0, got ${count}`);
      if (count === 0) coilWriteFailures.delete(coil);
      else coilWriteFailures.set(coil, count);
    },
    shouldCorrupt() {
      if (!corruption || corruption.probability === 0) return null;
      return rng.next() < corruption.probability ? corruption.mode : null;
    },
    powerOn() {
      sync();
      warmupUntil = now + profile.warmupS * 1000;
      bumpUntil = -1;
      model.powerOn?.();
    },
    startBumpTest(durationMs = 30_000) {
      sync();
      if (!model.bumpTestDone) throw new Error(`${profile.id} has no bump test`);
      bumpUntil = now + durationMs;
    },
    coils() {
      const out: Record<string, boolean> = {};
      if (profile.transport === 'modbus')
        for (const o of profile.outputs) out[o.name] = coilState.get(o.coil) ?? false;
      return out;
    },
    readRegisters(fc, address, count) {
      sync();
      if (fc !== 3 && fc !== 4) throw new ModbusException(ExceptionCode.IllegalFunction, `function ${fc}`);
      if (!Number.isInteger(count) || count < 1 || count > MAX_READ_REGISTERS)
        throw new ModbusException(
          ExceptionCode.IllegalDataValue,
          `count ${count} outside 1..${MAX_READ_REGISTERS}`,
        );
      failIfBroken();
      const regs = image(fc);
      if (regs.size === 0)
        throw new ModbusException(
          ExceptionCode.IllegalDataAddress,
          `${profile.id} has no registers for function ${fc}`,
        );
      const max = Math.max(...regs.keys());
      if (address < 0 || address + count - 1 > max)
        throw new ModbusException(
          ExceptionCode.IllegalDataAddress,
          `registers ${address}..${address + count - 1} outside 0..${max} (function ${fc})`,
        );
      // Gaps inside the table (e.g. Midas 40002) read 0, as on the real devices.
      return Array.from({ length: count }, (_, i) => regs.get(address + i) ?? 0);
    },
    writeRegister(address, value) {
      device.writeRegisters(address, [value]);
    },
    writeRegisters(address, values) {
      sync();
      modbus();
      failIfBroken();
      const write = model.writeRegister;
      if (!write)
        throw new ModbusException(
          ExceptionCode.IllegalDataAddress,
          `${profile.id} has no writable registers`,
        );
      // All or nothing: check every register before changing any.
      for (const apply of [false, true])
        values.forEach((v, i) => {
          write(address + i, v & 0xffff, apply);
        });
    },
    readCoils(address, count) {
      sync();
      coilRange(address, count);
      failIfBroken();
      return Array.from({ length: count }, (_, i) => coilState.get(address + i) ?? false);
    },
    writeCoil(address, value) {
      device.writeCoils(address, [value]);
    },
    writeCoils(address, values) {
      sync();
      coilRange(address, values.length);
      failIfBroken();
      values.forEach((_, i) => {
        if (!coilState.has(address + i))
          throw new ModbusException(ExceptionCode.IllegalDataAddress, `coil ${address + i} is not an output`);
      });
      // All or nothing: a failing relay driver refuses the whole write.
      for (let i = 0; i < values.length; i++) {
        const left = coilWriteFailures.get(address + i) ?? 0;
        if (left > 0) {
          coilWriteFailures.set(address + i, left - 1);
          throw new ModbusException(
            ExceptionCode.SlaveDeviceFailure,
            `${opts.id} coil ${address + i} driver failure`,
          );
        }
      }
      values.forEach((v, i) => {
        coilState.set(address + i, v);
      });
    },
    advance(ms) {
      advance(ms);
    },
    now() {
      sync();
      return now;
    },
    snapshot() {
      sync();
      const f = flags();
      const values: Partial<Record<GasId, number>> = {};
      for (const gas of profileGases(profile)) values[gas] = rawReported(gas);
      return {
        id: opts.id,
        unit,
        timeMs: now,
        status: status(f),
        flags: f,
        faultCode: model.faultCode(),
        fault,
        values,
      };
    },
  };
  return device;
}

/** The gases a profile measures. */
export function profileGases(profile: Profile): GasId[] {
  return profile.transport === 'modbus' ? profile.channels.map((c) => c.gas) : [profile.gas];
}
