/** Modbus RTU framing: requests, CRC-16/MODBUS, and recognising a response in received bytes. */
import { CrcError, FrameError, ModbusExceptionError } from '../../errors.js';

export function crc16(buf: Uint8Array, end = buf.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) {
    crc ^= buf[i]!;
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

function withCrc(body: number[]): Buffer {
  const buf = Buffer.alloc(body.length + 2);
  body.forEach((b, i) => {
    buf[i] = b;
  });
  buf.writeUInt16LE(crc16(buf, body.length), body.length);
  return buf;
}

/** A request with the length of a normal answer to it. */
export interface RtuRequest {
  unit: number;
  fc: number;
  frame: Buffer;
  /** Bytes of the normal response, CRC included. */
  responseLength: number;
}

export function readRequest(unit: number, fc: 1 | 3 | 4, address: number, count: number): RtuRequest {
  const frame = withCrc([unit, fc, address >> 8, address & 0xff, count >> 8, count & 0xff]);
  const dataBytes = fc === 1 ? Math.ceil(count / 8) : count * 2;
  return { unit, fc, frame, responseLength: 5 + dataBytes };
}

export function writeCoilRequest(unit: number, address: number, value: boolean): RtuRequest {
  const frame = withCrc([unit, 5, address >> 8, address & 0xff, value ? 0xff : 0, 0]);
  return { unit, fc: 5, frame, responseLength: 8 };
}

/** What the receive buffer holds for a request so far. */
export type MatchResult =
  | { kind: 'incomplete' }
  | { kind: 'ok'; pdu: Buffer; skipped: number }
  | { kind: 'error'; error: Error };

/**
 * Looks for the answer to `req` in `buf`. Bytes before a well-formed answer are skipped (and
 * reported by the caller as line noise); a frame with the right header and length but a bad CRC is
 * a CrcError; an exception answer is a ModbusExceptionError.
 */
export function matchResponse(req: RtuRequest, buf: Buffer): MatchResult {
  let crcFailure: Buffer | undefined;
  for (let off = 0; off + 2 <= buf.length; off++) {
    if (buf[off] !== req.unit) continue;
    const fc = buf[off + 1]!;
    let len: number;
    if (fc === req.fc) len = req.responseLength;
    else if (fc === (req.fc | 0x80)) len = 5;
    else continue;
    // A header whose frame is still arriving: wait for the rest.
    if (off + len > buf.length) return { kind: 'incomplete' };
    const frame = buf.subarray(off, off + len);
    if (crc16(frame, len - 2) !== frame.readUInt16LE(len - 2)) {
      crcFailure ??= Buffer.from(frame);
      continue;
    }
    if (fc & 0x80) return { kind: 'error', error: new ModbusExceptionError(frame[2]!, req.fc) };
    if ((req.fc === 3 || req.fc === 4 || req.fc === 1) && frame[2] !== len - 5) {
      return {
        kind: 'error',
        error: new FrameError(`byte count ${frame[2]} does not match the request`, Buffer.from(frame)),
      };
    }
    return { kind: 'ok', pdu: Buffer.from(frame.subarray(1, len - 2)), skipped: off };
  }
  if (crcFailure) return { kind: 'error', error: crcErr(req, crcFailure) };
  return { kind: 'incomplete' };
}

function crcErr(req: RtuRequest, frame: Buffer): CrcError {
  return new CrcError(`CRC error in the answer of unit ${req.unit} (${frame.toString('hex')})`, frame);
}

/** Registers of a function 3/4 answer PDU (fc, byteCount, data...). */
export function registersOf(pdu: Buffer): number[] {
  const n = pdu[1]! / 2;
  // Never a register read past the end as 0: an answer shorter than its byte count is no answer.
  if (pdu.length < 2 + n * 2)
    throw new FrameError(`answer of ${pdu.length} bytes for byte count ${pdu[1]}`, pdu);
  const out: number[] = [];
  // Byte arithmetic, not readUInt16BE: the bounds checks of the latter allocate under --lite-mode.
  for (let i = 0; i < n; i++) out.push((pdu[2 + i * 2]! << 8) | pdu[3 + i * 2]!);
  return out;
}

/** Coil values of a function 1 answer PDU. */
export function coilsOf(pdu: Buffer, count: number): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < count; i++) out.push(((pdu[2 + (i >> 3)]! >> (i & 7)) & 1) === 1);
  return out;
}

/** Bits per character on the wire: start + data + parity + stop. */
export function bitsPerChar(dataBits: number, parity: 'none' | 'even' | 'odd', stopBits: number): number {
  return 1 + dataBits + (parity === 'none' ? 0 : 1) + stopBits;
}

/** Modbus inter-frame silence: 3.5 character times, fixed at 1.75 ms above 19200 baud. */
export function interFrameGapMs(baudRate: number, charBits: number): number {
  if (baudRate > 19200) return 1.75;
  return (3.5 * charBits * 1000) / baudRate;
}
