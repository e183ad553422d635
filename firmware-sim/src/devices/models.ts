/**
 * Each detector model's own logic, run by the firmware (firmware.ts) and laid out by the generic
 * register image (register-image.ts). A profile without a model here (a user's own profile file)
 * still works: channels, fault and warm-up bits.
 */
import type { GasId, Profile, StatusFlag } from '@gaswatch/shared';
import type { SimFault } from '../faults.js';
import { ExceptionCode, ModbusException } from '../modbus/exceptions.js';
import { hash32, type Rng } from '../random.js';
import {
  CO_STANDARDS,
  type CoAlarmCurve,
  type CoAlarmFactory,
  type CoStandard,
  sharedCoAlarm,
} from './co-alarm.js';

/** Device options a model reads. */
export interface ModelOptions {
  /** gaswatch-co: which standard its own alarm follows (default en50291). */
  standard?: CoStandard;
  /** The CO alarm curve implementation (default: the shared SPEC §6 rule set). */
  coAlarm?: CoAlarmFactory;
}

/** What a device model sees of the firmware: the state it may read and a few levers. */
export interface ModelContext {
  readonly id: string;
  readonly profile: Profile;
  readonly options: ModelOptions;
  now(): number;
  /** What the device reports for a gas (0 during warm-up). */
  reported(gas: GasId): number;
  readonly fault: SimFault | null;
  warmingUp(): boolean;
  bumpTesting(): boolean;
  readonly rng: Rng;
}

export interface DeviceModel {
  /** One scenario-time step (≤ 1 s), after the core state moved on. */
  step?(dtMs: number): void;
  /** Status flags this model adds or overrides. */
  flags(): Partial<Record<StatusFlag, boolean>>;
  /** Bits ORed into the status word that have no named flag (e.g. Midas warning level). */
  extraStatusBits?(): number;
  /** Value of the profile's fault-code register. */
  faultCode(): number;
  /** Extra registers: [function, address, value]. */
  registers?(): Array<[3 | 4, number, number]>;
  /** Decimals register value for a channel that uses one (default 1). */
  decimals?(gas: GasId): number;
  /**
   * A holding-register write (functions 6/16). Throws ModbusException when not allowed; with
   * `apply` false it only checks, so a multi-register write is all or nothing.
   */
  writeRegister?(address: number, value: number, apply: boolean): void;
  /** Present on models with a bump test; called when one ends (passed = no fault). */
  bumpTestDone?(passed: boolean): void;
  powerOn?(): void;
}

function faultNumber(
  map: Partial<Record<SimFault, number>>,
  fault: SimFault | null,
  fallback: number,
): number {
  if (fault === null) return 0;
  return map[fault] ?? fallback;
}

const readOnly = (address: number): never => {
  throw new ModbusException(ExceptionCode.IllegalDataAddress, `register ${address} is read-only`);
};

/** gaswatch-co: own EN 50291 / UL 2034 alarm, peak, sensor life, serial number. */
function gaswatchCo(ctx: ModelContext): DeviceModel {
  let standard = ctx.options.standard ?? 'en50291';
  if (!CO_STANDARDS.includes(standard)) throw new RangeError(`${ctx.id}: unknown standard "${standard}"`);
  const factory = ctx.options.coAlarm ?? sharedCoAlarm;
  let curve: CoAlarmCurve = factory(standard);
  let alarm = false;
  let peak = 0;
  // Sensor life: 10 years from manufacture, minus a per-device age, counted down in scenario time.
  const lifeDays0 = 3650 - (hash32(ctx.id) % 400);
  const serial = hash32(`serial:${ctx.id}`) % 100_000_000;
  const lifeLeft = () => Math.max(0, Math.floor(lifeDays0 - ctx.now() / 86_400_000));
  const eol = () => ctx.fault === 'sensor_eol' || lifeLeft() === 0;
  return {
    step() {
      if (ctx.warmingUp()) return;
      const co = ctx.reported('CO');
      peak = Math.max(peak, co);
      // A detector in fault does not trust its cell: no alarm from it (the fault bit says why).
      if (ctx.fault !== null || eol()) {
        alarm = false;
        return;
      }
      alarm = curve.sample(co, ctx.now());
    },
    flags: () => ({ alarm, eol: eol(), fault: ctx.fault !== null || eol() }),
    faultCode: () =>
      eol() && ctx.fault === null
        ? 2
        : faultNumber({ sensor_open: 1, sensor_eol: 2, self_test: 3 }, ctx.fault, 3),
    registers: () => [
      [3, 3, standard === 'ul2034' ? 0 : 1],
      [3, 4, Math.min(0xffff, Math.round(Math.max(peak, ctx.warmingUp() ? 0 : ctx.reported('CO')) * 10))],
      [3, 5, eol() ? 0 : lifeLeft()],
      [3, 6, Math.floor(serial / 65536)],
      [3, 7, serial % 65536],
    ],
    writeRegister(address, value, apply) {
      if (address !== 3) readOnly(address);
      if (value !== 0 && value !== 1)
        throw new ModbusException(
          ExceptionCode.IllegalDataValue,
          `standard must be 0 (UL 2034) or 1 (EN 50291), got ${value}`,
        );
      if (!apply) return;
      const next = value === 0 ? 'ul2034' : 'en50291';
      if (next !== standard) {
        standard = next;
        curve = factory(standard);
        alarm = false;
      }
    },
    powerOn() {
      curve = factory(standard);
      alarm = false;
      peak = 0;
    },
  };
}

/**
 * One of a detector's own alarm levels, with hysteresis as real detectors have (GB 15322, EN 60079-29-1):
 * raised when the value reaches the set point, held until it is back past the set point by a band,
 * so a level sitting at the set point (with sensor noise) does not chatter.
 */
interface Trip {
  gas: GasId;
  level: 'low' | 'high';
  raised(v: number): boolean;
  cleared(v: number): boolean;
}

/** Hysteresis of the detectors' own alarms on a rising gas: cleared below set point − 10 %. */
const ALARM_HYSTERESIS = 0.1;
/** Oxygen's band, in %vol (10 % of 19.5 would be above normal air). */
const O2_BAND = 0.2;

/** An alarm at ≥ set point (a toxic or flammable gas); the set point may change (writable). */
const rising = (gas: GasId, level: Trip['level'], setPoint: () => number): Trip => ({
  gas,
  level,
  raised: (v) => v >= setPoint(),
  cleared: (v) => v < setPoint() * (1 - ALARM_HYSTERESIS),
});
const at = (n: number) => () => n;

/** The latched state of a detector's trips; cleared by a fault, warm-up or power cycle. */
function alarmLatch(ctx: ModelContext, trips: readonly Trip[]) {
  const on = trips.map(() => false);
  const any = (level: Trip['level']) => trips.some((t, i) => on[i] && t.level === level);
  return {
    /** Moves the latches on to the current values; a high alarm implies the low one. */
    update(): { low: boolean; high: boolean } {
      if (ctx.warmingUp() || ctx.fault !== null) on.fill(false);
      else
        trips.forEach((t, i) => {
          const v = ctx.reported(t.gas);
          if (t.raised(v)) on[i] = true;
          else if (t.cleared(v)) on[i] = false;
        });
      const high = any('high');
      return { low: high || any('low'), high };
    },
    reset() {
      on.fill(false);
    },
  };
}

/** SPEC §6 confined-space set points, as the 4-gas detector's own low/high alarms. */
const FOUR_GAS_TRIPS: readonly Trip[] = [
  // O2 deficiency below 19.5 (low) and 18 %vol (high); enrichment above 23.5 is high.
  { gas: 'O2', level: 'low', raised: (v) => v < 19.5, cleared: (v) => v >= 19.5 + O2_BAND },
  { gas: 'O2', level: 'high', raised: (v) => v < 18, cleared: (v) => v >= 18 + O2_BAND },
  { gas: 'O2', level: 'high', raised: (v) => v > 23.5, cleared: (v) => v <= 23.5 - O2_BAND },
  rising('LEL', 'low', at(10)),
  rising('LEL', 'high', at(20)),
  rising('CO', 'low', at(35)),
  rising('CO', 'high', at(200)),
  rising('H2S', 'low', at(10)),
  rising('H2S', 'high', at(15)),
];

/** gaswatch-4gas: low/high alarms, bump test with its age, calibration age. */
function gaswatch4gas(ctx: ModelContext): DeviceModel {
  let lastBumpMs: number | null = null;
  const calAgeDays0 = 30;
  const latch = alarmLatch(ctx, FOUR_GAS_TRIPS);
  return {
    step: () => void latch.update(),
    flags: () => {
      const a = latch.update();
      return { lowAlarm: a.low, highAlarm: a.high };
    },
    powerOn: () => latch.reset(),
    faultCode: () =>
      faultNumber(
        { o2_cell: 1, lel_bead: 2, co_cell: 3, h2s_cell: 4, pump: 5, sensor_eol: 3, sensor_open: 3 },
        ctx.fault,
        5,
      ),
    registers: () => [
      [4, 6, lastBumpMs === null ? 65535 : Math.min(65534, Math.floor((ctx.now() - lastBumpMs) / 3_600_000))],
      [4, 7, Math.min(65535, Math.floor(calAgeDays0 + ctx.now() / 86_400_000))],
    ],
    decimals: () => 1,
    bumpTestDone(passed) {
      if (passed) lastBumpMs = ctx.now();
    },
  };
}

/**
 * gaswatch-lel: first/second alarm at writable set points, each with hysteresis (raised at ≥ set
 * point, cleared below set point − 10 %, as GB 15322 detectors do, so a level at the set point does
 * not chatter); relays are switched by the gateway.
 */
function gaswatchLel(ctx: ModelContext): DeviceModel {
  const sp = [25, 50];
  const latch = alarmLatch(ctx, [rising('LEL', 'low', () => sp[0]!), rising('LEL', 'high', () => sp[1]!)]);
  return {
    step: () => void latch.update(),
    flags: () => {
      const a = latch.update();
      return { lowAlarm: a.low, highAlarm: a.high };
    },
    powerOn: () => latch.reset(),
    faultCode: () =>
      faultNumber({ lel_bead: 1, sensor_open: 1, co_cell: 2, sensor_eol: 2, supply_low: 3 }, ctx.fault, 1),
    registers: () => [
      [3, 5, sp[0]!],
      [3, 6, sp[1]!],
    ],
    writeRegister(address, value, apply) {
      if (address !== 5 && address !== 6) readOnly(address);
      if (value < 1 || value > 100)
        throw new ModbusException(
          ExceptionCode.IllegalDataValue,
          `set point must be 1..100 %LEL, got ${value}`,
        );
      if (apply) sp[address - 5] = value;
    },
  };
}

/** Midas (CO cartridge): state field, fault level, low/high alarm at 35/200 ppm, unit ppm. */
function midas(ctx: ModelContext): DeviceModel {
  const latch = alarmLatch(ctx, [rising('CO', 'low', at(35)), rising('CO', 'high', at(200))]);
  return {
    step: () => void latch.update(),
    flags: () => {
      const a = latch.update();
      return { lowAlarm: a.low, highAlarm: a.high };
    },
    powerOn: () => latch.reset(),
    // Fault level in bits 4–5: a fault is level 2 (bit 5, the profile's fault bit).
    faultCode: () => faultNumber({ sensor_open: 11, sensor_eol: 14, self_test: 21 }, ctx.fault, 1),
    registers: () => [[3, 6, 0]],
    bumpTestDone() {},
  };
}

/** Winsen ZE07/ZE15: value only; the ZE15 fault flag comes from the generic fault bit. */
function winsen(): DeviceModel {
  return { flags: () => ({}), faultCode: () => 0 };
}

function generic(ctx: ModelContext): DeviceModel {
  return { flags: () => ({}), faultCode: () => (ctx.fault === null ? 0 : 1) };
}

export function createModel(ctx: ModelContext): DeviceModel {
  switch (ctx.profile.id) {
    case 'gaswatch-co':
      return gaswatchCo(ctx);
    case 'gaswatch-4gas':
      return gaswatch4gas(ctx);
    case 'gaswatch-lel':
      return gaswatchLel(ctx);
    case 'midas':
      return midas(ctx);
    default:
      return ctx.profile.transport === 'winsen' ? winsen() : generic(ctx);
  }
}
