/**
 * The Modbus face of a simulated detector: its register table and coils, laid out by the same profile
 * file the gateway decodes (SPEC §3), and the exceptions a real slave answers for a request outside
 * them. What the values are is the firmware's business (firmware.ts).
 */
import { encodeRegisters, type ModbusProfile, type Profile, STATUS_FLAGS } from '@gaswatch/shared';
import type { Firmware } from './firmware.js';
import { ExceptionCode, ModbusException } from './modbus/exceptions.js';
import { MAX_READ_COILS, MAX_READ_REGISTERS } from './modbus/frame.js';

export interface RegisterImage {
  /** The profile's Modbus map; exception 1 when the profile does not speak Modbus. */
  modbus(): ModbusProfile;
  /** Exception 1 for a function other than 3/4, exception 3 for a count outside 1..125. */
  checkRead(fc: number, count: number): void;
  /** The whole register table of one function, address → value. */
  table(fc: 3 | 4): Map<number, number>;
  /** `count` registers from `address`; exception 2 outside the table. */
  read(fc: 3 | 4, address: number, count: number): number[];
  /** Holding-register writes through the model, all or nothing; exception 2 when none are writable. */
  write(address: number, values: readonly number[]): void;
  /** Exception 1 without coils, 3 for a bad count, 2 past the last coil. */
  checkCoils(address: number, count: number): void;
  /** Exception 2 when a coil in the range is not an output. */
  checkOutputs(address: number, count: number): void;
}

export function createRegisterImage(profile: Profile, fw: Firmware): RegisterImage {
  const modbus = (): ModbusProfile => {
    if (profile.transport !== 'modbus')
      throw new ModbusException(ExceptionCode.IllegalFunction, `${profile.id} does not speak Modbus`);
    return profile;
  };

  const table = (fc: 3 | 4): Map<number, number> => {
    const p = modbus();
    const regs = new Map<number, number>();
    const f = fw.flags();
    const model = fw.model;
    for (const ch of p.channels) {
      if (ch.fc !== fc) continue;
      let raw = fw.reported(ch.gas);
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
        const s = fw.status(f);
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

  return {
    modbus,
    checkRead(fc, count) {
      if (fc !== 3 && fc !== 4) throw new ModbusException(ExceptionCode.IllegalFunction, `function ${fc}`);
      if (!Number.isInteger(count) || count < 1 || count > MAX_READ_REGISTERS)
        throw new ModbusException(
          ExceptionCode.IllegalDataValue,
          `count ${count} outside 1..${MAX_READ_REGISTERS}`,
        );
    },
    table,
    read(fc, address, count) {
      const regs = table(fc);
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
    write(address, values) {
      const write = fw.model.writeRegister;
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
    checkCoils(address, count) {
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
    },
    checkOutputs(address, count) {
      for (let i = 0; i < count; i++)
        if (!fw.isOutput(address + i))
          throw new ModbusException(ExceptionCode.IllegalDataAddress, `coil ${address + i} is not an output`);
    },
  };
}
