/** Modbus register codec shared by the gateway (decode) and firmware-sim (encode). */

export const REGISTER_TYPES = ['uint16', 'int16', 'uint32', 'int32', 'float32'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];
/** `be`: high word first (Modbus convention); `le`: low word first (e.g. Honeywell Midas). */
export type WordOrder = 'be' | 'le';

export function registerCount(type: RegisterType): 1 | 2 {
  return type === 'uint16' || type === 'int16' ? 1 : 2;
}

/** Decodes one value from its registers (each 0..65535). */
export function decodeRegisters(
  regs: readonly number[],
  type: RegisterType,
  order: WordOrder = 'be',
): number {
  const n = registerCount(type);
  if (regs.length < n) throw new RangeError(`${type} needs ${n} registers, got ${regs.length}`);
  const buf = Buffer.alloc(4);
  if (n === 1) {
    buf.writeUInt16BE(regs[0]! & 0xffff, 0);
    return type === 'int16' ? buf.readInt16BE(0) : buf.readUInt16BE(0);
  }
  const [hi, lo] = order === 'be' ? [regs[0]!, regs[1]!] : [regs[1]!, regs[0]!];
  buf.writeUInt16BE(hi & 0xffff, 0);
  buf.writeUInt16BE(lo & 0xffff, 2);
  if (type === 'uint32') return buf.readUInt32BE(0);
  if (type === 'int32') return buf.readInt32BE(0);
  return buf.readFloatBE(0);
}

/** Encodes one value into its registers; integers are rounded and clamped to the type's range. */
export function encodeRegisters(value: number, type: RegisterType, order: WordOrder = 'be'): number[] {
  const buf = Buffer.alloc(4);
  switch (type) {
    case 'uint16':
      return [clamp(Math.round(value), 0, 0xffff)];
    case 'int16':
      buf.writeInt16BE(clamp(Math.round(value), -0x8000, 0x7fff), 0);
      return [buf.readUInt16BE(0)];
    case 'uint32':
      buf.writeUInt32BE(clamp(Math.round(value), 0, 0xffffffff), 0);
      break;
    case 'int32':
      buf.writeInt32BE(clamp(Math.round(value), -0x80000000, 0x7fffffff), 0);
      break;
    case 'float32':
      buf.writeFloatBE(value, 0);
      break;
  }
  const hi = buf.readUInt16BE(0);
  const lo = buf.readUInt16BE(2);
  return order === 'be' ? [hi, lo] : [lo, hi];
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
