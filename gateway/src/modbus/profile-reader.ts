/**
 * Reading a Modbus detector by its profile: which registers to fetch in as few requests as the map
 * allows, and how to turn them into a Sample. Shared by the RTU and TCP drivers.
 */
import {
  decodeRegisters,
  GASES,
  type GasId,
  type GasUnit,
  type ModbusProfile,
  type Profile,
  type ReadingStatus,
  registerCount,
} from '@gaswatch/shared';
import { DriverError } from '../errors.js';
import type { Sample } from '../sample.js';

/** One read request: function code, first address, register count. */
export interface RegisterBlock {
  fc: 3 | 4;
  address: number;
  count: number;
}

/** Registers of one poll, by function code then address. */
export type RegisterImage = Map<3 | 4, Map<number, number>>;

/** Modbus allows at most 125 registers per read. */
const MAX_REGS = 125;

/** Negative drift down to this fraction of the channel's full scale reads as 0 (quality uncertain). */
export const NEGATIVE_DRIFT_FRACTION = 0.02;
/**
 * The drift floor for a channel without a full scale, by canonical unit (about 2 % of a typical
 * range: CO 0–500 ppm, O2 0–25 %vol, 0–100 %LEL).
 */
export const NEGATIVE_DRIFT_FLOOR: Readonly<Record<GasUnit, number>> = { ppm: -10, '%vol': -0.5, '%LEL': -2 };

/** The lowest value of a channel still taken as drift around zero. */
export function negativeDriftFloor(gas: GasId, fullScale: number | undefined): number {
  return fullScale !== undefined && fullScale > 0
    ? -NEGATIVE_DRIFT_FRACTION * fullScale
    : NEGATIVE_DRIFT_FLOOR[GASES[gas].unit];
}

/**
 * Plans the reads for one profile: every register the profile needs, merged into blocks when the
 * holes between them are at most `maxGap` registers (reading a hole is cheaper than a new request).
 */
export function planReads(profile: ModbusProfile, maxGap = 4): RegisterBlock[] {
  const wanted = new Map<3 | 4, Set<number>>([
    [3, new Set()],
    [4, new Set()],
  ]);
  const add = (fc: 3 | 4, address: number, n = 1) => {
    for (let i = 0; i < n; i++) wanted.get(fc)!.add(address + i);
  };
  for (const c of profile.channels) {
    add(c.fc, c.address, registerCount(c.type));
    if (c.decimalsRegister !== undefined) add(c.fc, c.decimalsRegister);
  }
  if (profile.status) add(profile.status.fc, profile.status.address);
  if (profile.faultCode) add(profile.faultCode.fc, profile.faultCode.address);
  const blocks: RegisterBlock[] = [];
  for (const [fc, set] of wanted) {
    const addrs = [...set].sort((a, b) => a - b);
    let cur: RegisterBlock | undefined;
    for (const a of addrs) {
      if (cur && a - (cur.address + cur.count) <= maxGap && a - cur.address + 1 <= MAX_REGS) {
        cur.count = a - cur.address + 1;
      } else {
        cur = { fc, address: a, count: 1 };
        blocks.push(cur);
      }
    }
  }
  return blocks;
}

/** Puts the answer to one block into the image. */
export function storeBlock(image: RegisterImage, block: RegisterBlock, regs: readonly number[]): void {
  if (regs.length < block.count)
    throw new DriverError('bad_frame', `asked ${block.count} registers, got ${regs.length}`);
  let m = image.get(block.fc);
  if (!m) {
    m = new Map();
    image.set(block.fc, m);
  }
  for (let i = 0; i < block.count; i++) m.set(block.address + i, regs[i]!);
}

function reg(image: RegisterImage, fc: 3 | 4, address: number): number {
  const v = image.get(fc)?.get(address);
  if (v === undefined) throw new DriverError('register_not_read', `register ${fc}:${address} was not read`);
  return v;
}

/**
 * Turns one poll's registers into a Sample. Throws DriverError when no channel has a usable value.
 *
 * Per channel: a NaN/Inf value, a bad decimals register, or a value below the negative drift floor
 * (`negativeDriftFloor`: −2 % of full scale) is no concentration: the channel is left out, its
 * quality is 'bad' and the fault `negative_<GAS>` names a broken sensor (never a clean 0). Drift
 * between the floor and 0 reads 0 with quality 'uncertain'. A value at or above full scale is over
 * range: kept (the gas is at least that much) with quality 'bad'.
 */
export function decodeSample(profile: ModbusProfile, image: RegisterImage, ts: number): Sample {
  const values: Partial<Record<GasId, number>> = {};
  const quality: Partial<Record<GasId, 'good' | 'bad' | 'uncertain'>> = {};
  const faults: string[] = [];
  for (const c of profile.channels) {
    const n = registerCount(c.type);
    const regs: number[] = [];
    for (let i = 0; i < n; i++) regs.push(reg(image, c.fc, c.address + i));
    const raw = decodeRegisters(regs, c.type, c.wordOrder);
    let v = raw;
    if (c.scale !== undefined) v = raw * c.scale;
    else if (c.decimalsRegister !== undefined) {
      const dec = reg(image, c.fc, c.decimalsRegister);
      if (dec > 6) {
        quality[c.gas] = 'bad';
        continue;
      }
      v = raw / 10 ** dec;
    }
    if (!Number.isFinite(v)) {
      // A NaN/Inf float is no concentration: leave the channel out rather than invent a number.
      quality[c.gas] = 'bad';
      continue;
    }
    v = Math.round(v * 1e6) / 1e6;
    if (v < 0) {
      if (v < negativeDriftFloor(c.gas, c.fullScale)) {
        // Far below zero (e.g. −3276.8 from a broken cell): no concentration, and not clean air.
        quality[c.gas] = 'bad';
        faults.push(`negative_${c.gas}`);
        continue;
      }
      // Small negative drift around zero; the payload contract has no negative concentrations.
      quality[c.gas] = 'uncertain';
      v = 0;
    }
    // At full scale the sensor is pinned: the gas is at least that much (over range).
    if (c.fullScale !== undefined && v >= c.fullScale) quality[c.gas] = 'bad';
    values[c.gas] = Math.min(v, 1_000_000);
  }
  if (Object.keys(values).length === 0) {
    const why = faults.length ? `; ${faults.join(', ')}` : '';
    throw new DriverError(
      'no_usable_value',
      `no usable channel value (${Object.keys(quality).join(', ')} bad${why})`,
    );
  }
  const sample: Sample = { ts, values, status: 'ok' };
  if (Object.keys(quality).length) sample.quality = quality;
  if (profile.status) {
    const word = reg(image, profile.status.fc, profile.status.address);
    const bit = (b: number | undefined) => b !== undefined && ((word >> b) & 1) === 1;
    const bits = profile.status.bits;
    let status: ReadingStatus = 'ok';
    if (profile.status.state) {
      const { shift, width, values: map } = profile.status.state;
      const field = (word >> shift) & ((1 << width) - 1);
      status = map[String(field)] ?? 'ok';
    }
    const rank: Record<ReadingStatus, number> = { ok: 0, warmup: 1, bump_test: 2, calibrating: 3, fault: 4 };
    const raise = (s: ReadingStatus) => {
      if (rank[s] > rank[status]) status = s;
    };
    if (bit(bits.warmup)) raise('warmup');
    if (bit(bits.bumpTest)) raise('bump_test');
    if (bit(bits.calibrating)) raise('calibrating');
    if (bit(bits.fault)) {
      raise('fault');
      faults.push('fault');
    }
    if (bit(bits.eol)) faults.push('sensor_eol');
    if (bits.alarm !== undefined || bits.lowAlarm !== undefined || bits.highAlarm !== undefined) {
      sample.alarm = bit(bits.alarm) || bit(bits.lowAlarm) || bit(bits.highAlarm);
    }
    sample.status = status;
  }
  if (profile.faultCode) {
    const code = reg(image, profile.faultCode.fc, profile.faultCode.address);
    if (code !== 0) faults.push(`code_${code}`);
  }
  if (faults.length) sample.faults = faults;
  return sample;
}

/** Fetches the registers of one planned block from the detector (one Modbus transaction). */
export type BlockReader = (block: RegisterBlock) => Promise<readonly number[]>;

/**
 * Reads one detector by its profile: the planned blocks (planned once per profile), then the
 * decoded Sample stamped with `now()` after the last block. The transport only supplies
 * `readBlock`.
 */
export function createProfileReader(): (
  profile: Profile,
  readBlock: BlockReader,
  now: () => number,
) => Promise<Sample> {
  const plans = new WeakMap<ModbusProfile, RegisterBlock[]>();
  return async (profile, readBlock, now) => {
    if (profile.transport !== 'modbus')
      throw new DriverError('bad_profile', `profile ${profile.id} is not a Modbus profile`);
    let plan = plans.get(profile);
    if (!plan) {
      plan = planReads(profile);
      plans.set(profile, plan);
    }
    const image: RegisterImage = new Map();
    for (const block of plan) storeBlock(image, block, await readBlock(block));
    return decodeSample(profile, image, now());
  };
}
