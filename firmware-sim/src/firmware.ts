/**
 * The firmware of a simulated detector: its clock, warm-up, faults, bump test, relay coils, and its
 * model's own logic (alarm latches, fault codes, model registers; devices/models.ts). It reads the
 * sensor's output and decides what the device reports; how that is laid out in registers is
 * register-image.ts's business.
 */
import type { GasId, Profile, ReadingStatus, StatusFlag } from '@gaswatch/shared';
import { createModel, type DeviceModel, type ModelContext, type ModelOptions } from './devices/models.js';
import type { SimFault } from './faults.js';
import { ExceptionCode, ModbusException } from './modbus/exceptions.js';
import type { Rng } from './random.js';

export interface FirmwareOptions {
  /** Device id, for error messages. */
  id: string;
  profile: Profile;
  /** Options the model reads (the CO detector's standard and alarm curve). */
  model: ModelOptions;
  /** Start in warm-up, as after power-on. */
  warmup: boolean;
  /** The sensing element's output for a gas, canonical units. */
  sense(gas: GasId): number;
  /** The device's seeded generator, for the model. */
  rng: Rng;
}

export interface Firmware {
  /** Scenario time since creation, ms. */
  now(): number;
  /** What the device reports for a gas: the sensor's output, 0 during warm-up. */
  reported(gas: GasId): number;
  readonly fault: SimFault | null;
  setFault(fault: SimFault | null): void;
  warmingUp(): boolean;
  /** Status flags: warm-up, fault, end of life, bump test, and the model's own (alarms). */
  flags(): Partial<Record<StatusFlag, boolean>>;
  /** The reading status the flags mean. */
  status(flags: Partial<Record<StatusFlag, boolean>>): ReadingStatus;
  /** The model: fault code, extra registers and bits, writable registers. */
  readonly model: DeviceModel;
  /** Restart as after a power cycle: warm-up again, bump test stopped, the model reset. */
  powerOn(): void;
  /** Throws when the model has no bump test. */
  startBumpTest(durationMs: number): void;
  /** One step of scenario time (≤ 1 s), after the sensor has moved on. */
  step(dtMs: number): void;
  /** Coil states by output name. */
  coils(): Record<string, boolean>;
  isOutput(coil: number): boolean;
  coil(address: number): boolean;
  /** See SimDevice.setCoilWriteFailures. */
  setCoilWriteFailures(coil: number, count: number): void;
  /** Switches relays; a failing relay driver refuses the whole write with exception 4. */
  switchCoils(address: number, values: readonly boolean[]): void;
}

export function createFirmware(opts: FirmwareOptions): Firmware {
  const { id, profile } = opts;
  let now = 0;
  let fault: SimFault | null = null;
  let warmupUntil = opts.warmup ? profile.warmupS * 1000 : 0;
  let bumpUntil = -1;
  const coilState = new Map<number, boolean>();
  /** Coil → writes still to refuse. */
  const coilWriteFailures = new Map<number, number>();
  if (profile.transport === 'modbus') for (const o of profile.outputs) coilState.set(o.coil, false);

  const warmingUp = () => now < warmupUntil;
  const reported = (gas: GasId): number => (warmingUp() ? 0 : opts.sense(gas));

  const ctx: ModelContext = {
    id,
    profile,
    options: opts.model,
    now: () => now,
    reported,
    get fault() {
      return fault;
    },
    warmingUp,
    bumpTesting: () => now < bumpUntil,
    rng: opts.rng,
  };
  const model = createModel(ctx);

  return {
    now: () => now,
    reported,
    get fault() {
      return fault;
    },
    setFault(f) {
      fault = f;
    },
    warmingUp,
    flags: () => ({
      warmup: now < warmupUntil,
      fault: fault !== null,
      eol: fault === 'sensor_eol',
      bumpTest: now < bumpUntil,
      ...model.flags(),
    }),
    status(f) {
      if (f.fault || f.eol) return 'fault';
      if (f.warmup) return 'warmup';
      if (f.calibrating) return 'calibrating';
      if (f.bumpTest) return 'bump_test';
      return 'ok';
    },
    model,
    powerOn() {
      warmupUntil = now + profile.warmupS * 1000;
      bumpUntil = -1;
      model.powerOn?.();
    },
    startBumpTest(durationMs) {
      if (!model.bumpTestDone) throw new Error(`${profile.id} has no bump test`);
      bumpUntil = now + durationMs;
    },
    step(dt) {
      now += dt;
      if (bumpUntil >= 0 && now >= bumpUntil) {
        bumpUntil = -1;
        model.bumpTestDone?.(fault === null);
      }
      model.step?.(dt);
    },
    coils() {
      const out: Record<string, boolean> = {};
      if (profile.transport === 'modbus')
        for (const o of profile.outputs) out[o.name] = coilState.get(o.coil) ?? false;
      return out;
    },
    isOutput: (coil) => coilState.has(coil),
    coil: (address) => coilState.get(address) ?? false,
    setCoilWriteFailures(coil, count) {
      if (!coilState.has(coil)) throw new RangeError(`${id}: coil ${coil} is not an output`);
      if (!(count >= 0)) throw new RangeError(`${id}: coil write failure count must be ≥ 0, got ${count}`);
      if (count === 0) coilWriteFailures.delete(coil);
      else coilWriteFailures.set(coil, count);
    },
    switchCoils(address, values) {
      for (let i = 0; i < values.length; i++) {
        const left = coilWriteFailures.get(address + i) ?? 0;
        if (left > 0) {
          coilWriteFailures.set(address + i, left - 1);
          throw new ModbusException(
            ExceptionCode.SlaveDeviceFailure,
            `${id} coil ${address + i} driver failure`,
          );
        }
      }
      values.forEach((v, i) => {
        coilState.set(address + i, v);
      });
    },
  };
}
