/**
 * Modbus wire codec, apart from any transport: PDU requests and responses, RTU frames (unit + PDU +
 * CRC) and TCP ADUs (MBAP header + unit + PDU).
 */
import { crcOk, withCrc } from './crc.js';
import { ExceptionCode, ModbusException } from './exceptions.js';

export type ModbusRequest =
  | { fc: 1 | 2 | 3 | 4; address: number; count: number }
  | { fc: 5; address: number; value: boolean }
  | { fc: 6; address: number; value: number }
  | { fc: 15; address: number; values: boolean[] }
  | { fc: 16; address: number; values: number[] };

export const SUPPORTED_FUNCTIONS = [1, 3, 4, 5, 6, 15, 16] as const;

/** Limits from the protocol spec: the largest quantity one request may ask for. */
export const MAX_READ_REGISTERS = 125;
export const MAX_WRITE_REGISTERS = 123;
export const MAX_READ_COILS = 2000;
export const MAX_WRITE_COILS = 1968;

/**
 * Parses a request PDU (function code first). Throws ModbusException 1 for an unknown function and 3
 * for a malformed body (wrong length, byte count, quantity or coil value), as a slave must answer.
 */
export function parseRequestPdu(pdu: Uint8Array): ModbusRequest {
  const b = Buffer.from(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  const fc = b[0];
  const bad = (why: string) => new ModbusException(ExceptionCode.IllegalDataValue, why);
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      if (b.length !== 5) throw bad(`function ${fc} request must be 5 bytes, got ${b.length}`);
      const count = b.readUInt16BE(3);
      const max = fc <= 2 ? MAX_READ_COILS : MAX_READ_REGISTERS;
      if (count < 1 || count > max) throw bad(`quantity ${count} outside 1..${max}`);
      return { fc, address: b.readUInt16BE(1), count };
    }
    case 5: {
      if (b.length !== 5) throw bad(`function 5 request must be 5 bytes, got ${b.length}`);
      const v = b.readUInt16BE(3);
      if (v !== 0xff00 && v !== 0x0000)
        throw bad(`coil value must be 0xFF00 or 0x0000, got 0x${v.toString(16)}`);
      return { fc, address: b.readUInt16BE(1), value: v === 0xff00 };
    }
    case 6:
      if (b.length !== 5) throw bad(`function 6 request must be 5 bytes, got ${b.length}`);
      return { fc, address: b.readUInt16BE(1), value: b.readUInt16BE(3) };
    case 15: {
      if (b.length < 6) throw bad('function 15 request too short');
      const count = b.readUInt16BE(3);
      const byteCount = b[5]!;
      if (count < 1 || count > MAX_WRITE_COILS) throw bad(`quantity ${count} outside 1..${MAX_WRITE_COILS}`);
      if (byteCount !== Math.ceil(count / 8) || b.length !== 6 + byteCount) throw bad('byte count mismatch');
      const values: boolean[] = [];
      for (let i = 0; i < count; i++) values.push(((b[6 + (i >> 3)]! >> (i & 7)) & 1) === 1);
      return { fc, address: b.readUInt16BE(1), values };
    }
    case 16: {
      if (b.length < 6) throw bad('function 16 request too short');
      const count = b.readUInt16BE(3);
      const byteCount = b[5]!;
      if (count < 1 || count > MAX_WRITE_REGISTERS)
        throw bad(`quantity ${count} outside 1..${MAX_WRITE_REGISTERS}`);
      if (byteCount !== count * 2 || b.length !== 6 + byteCount) throw bad('byte count mismatch');
      const values: number[] = [];
      for (let i = 0; i < count; i++) values.push(b.readUInt16BE(6 + 2 * i));
      return { fc, address: b.readUInt16BE(1), values };
    }
    default:
      throw new ModbusException(ExceptionCode.IllegalFunction, `function ${fc} not supported`);
  }
}

/** Encodes a request PDU (used by tests and benchmarks acting as a master). */
export function encodeRequestPdu(req: ModbusRequest): Buffer {
  switch (req.fc) {
    case 1:
    case 2:
    case 3:
    case 4:
      return Buffer.from([req.fc, req.address >> 8, req.address & 0xff, req.count >> 8, req.count & 0xff]);
    case 5:
      return Buffer.from([5, req.address >> 8, req.address & 0xff, req.value ? 0xff : 0, 0]);
    case 6:
      return Buffer.from([6, req.address >> 8, req.address & 0xff, req.value >> 8, req.value & 0xff]);
    case 15: {
      const n = req.values.length;
      const bytes = packBits(req.values);
      return Buffer.concat([
        Buffer.from([15, req.address >> 8, req.address & 0xff, n >> 8, n & 0xff, bytes.length]),
        bytes,
      ]);
    }
    case 16: {
      const n = req.values.length;
      const head = Buffer.from([16, req.address >> 8, req.address & 0xff, n >> 8, n & 0xff, n * 2]);
      const body = Buffer.alloc(n * 2);
      req.values.forEach((v, i) => {
        body.writeUInt16BE(v & 0xffff, 2 * i);
      });
      return Buffer.concat([head, body]);
    }
  }
}

export function packBits(values: readonly boolean[]): Buffer {
  const out = Buffer.alloc(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

/** Response PDU to a read of registers. */
export function registersResponsePdu(fc: 3 | 4, values: readonly number[]): Buffer {
  const out = Buffer.alloc(2 + values.length * 2);
  out[0] = fc;
  out[1] = values.length * 2;
  values.forEach((v, i) => {
    out.writeUInt16BE(v & 0xffff, 2 + 2 * i);
  });
  return out;
}

export function bitsResponsePdu(fc: 1 | 2, values: readonly boolean[]): Buffer {
  const bytes = packBits(values);
  return Buffer.concat([Buffer.from([fc, bytes.length]), bytes]);
}

/** Echo response of functions 5, 6 (the request itself) and 15, 16 (address + quantity). */
export function writeResponsePdu(req: Extract<ModbusRequest, { fc: 5 | 6 | 15 | 16 }>): Buffer {
  if (req.fc === 5 || req.fc === 6) return encodeRequestPdu(req);
  const n = req.values.length;
  return Buffer.from([req.fc, req.address >> 8, req.address & 0xff, n >> 8, n & 0xff]);
}

export function exceptionResponsePdu(fc: number, code: number): Buffer {
  return Buffer.from([(fc | 0x80) & 0xff, code]);
}

/** An RTU frame: unit, PDU, CRC (low byte first). */
export function encodeRtuFrame(unit: number, pdu: Uint8Array): Buffer {
  return withCrc(Buffer.concat([Buffer.from([unit]), pdu]));
}

/** Splits an RTU frame into unit and PDU; null when it is too short or its CRC is wrong. */
export function decodeRtuFrame(frame: Uint8Array): { unit: number; pdu: Buffer } | null {
  if (frame.length < 4 || !crcOk(frame)) return null;
  return { unit: frame[0]!, pdu: Buffer.from(frame.subarray(1, frame.length - 2)) };
}

/**
 * Length of the RTU request frame starting at buf[0], from its function code, or null when more bytes
 * are needed to know it (functions 15/16) or the function is unknown (then only the 3.5-character
 * gap ends the frame).
 */
export function expectedRequestLength(buf: Uint8Array): number | null {
  if (buf.length < 2) return null;
  const fc = buf[1]!;
  if (fc >= 1 && fc <= 6) return 8;
  if (fc === 15 || fc === 16) return buf.length >= 7 ? 9 + buf[6]! : null;
  return null;
}

/** Length of the RTU response frame starting at buf[0] (a master's view), or null when unknown yet. */
export function expectedResponseLength(buf: Uint8Array): number | null {
  if (buf.length < 2) return null;
  const fc = buf[1]!;
  if (fc & 0x80) return 5;
  if (fc >= 1 && fc <= 4) return buf.length >= 3 ? 5 + buf[2]! : null;
  if (fc === 5 || fc === 6 || fc === 15 || fc === 16) return 8;
  return null;
}

/** A Modbus TCP ADU: MBAP header (transaction, protocol 0, length), unit, PDU. */
export function encodeTcpAdu(transactionId: number, unit: number, pdu: Uint8Array): Buffer {
  const out = Buffer.alloc(7 + pdu.length);
  out.writeUInt16BE(transactionId & 0xffff, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(pdu.length + 1, 4);
  out[6] = unit;
  Buffer.from(pdu).copy(out, 7);
  return out;
}

export interface TcpAdu {
  transactionId: number;
  protocolId: number;
  unit: number;
  pdu: Buffer;
}

export class MbapError extends Error {
  readonly code = 'bad_mbap';
}

/**
 * Takes every complete ADU off the front of a stream buffer. Returns the ADUs and the rest. Throws
 * MbapError for a header no valid peer sends (length 0 or over 254): the connection must be dropped.
 */
export function takeTcpAdus(buf: Buffer): { adus: TcpAdu[]; rest: Buffer } {
  const adus: TcpAdu[] = [];
  let off = 0;
  while (buf.length - off >= 7) {
    const len = buf.readUInt16BE(off + 4);
    if (len < 2 || len > 254) throw new MbapError(`MBAP length ${len} outside 2..254`);
    if (buf.length - off < 6 + len) break;
    adus.push({
      transactionId: buf.readUInt16BE(off),
      protocolId: buf.readUInt16BE(off + 2),
      unit: buf[off + 6]!,
      pdu: Buffer.from(buf.subarray(off + 7, off + 6 + len)),
    });
    off += 6 + len;
  }
  return { adus, rest: Buffer.from(buf.subarray(off)) };
}

/** Characters a response PDU puts on an RTU line (unit + PDU + CRC). */
export function rtuLength(pdu: Uint8Array): number {
  return pdu.length + 3;
}
