/** Winsen ZE07/ZE15 UART frames (SPEC §3): 9 bytes, 0xFF first, checksum = (~(sum of bytes 1..7) + 1) & 0xFF. */

export const FRAME_LENGTH = 9;
export const QUERY = Buffer.from([0xff, 0x01, 0x86, 0, 0, 0, 0, 0, 0x79]);
export const TO_QA = Buffer.from([0xff, 0x01, 0x78, 0x04, 0, 0, 0, 0, 0x83]);
export const TO_ACTIVE = Buffer.from([0xff, 0x01, 0x78, 0x03, 0, 0, 0, 0, 0x84]);
/** Full range of the ZE07-CO / ZE15-CO, 0.1 ppm counts (500.0 ppm). */
export const FULL_RANGE = 5000;

export function checksum(frame: Uint8Array): number {
  let sum = 0;
  for (let i = 1; i <= 7; i++) sum += frame[i]!;
  return (~sum + 1) & 0xff;
}

export function checksumOk(frame: Uint8Array): boolean {
  return frame.length === FRAME_LENGTH && frame[0] === 0xff && frame[8] === checksum(frame);
}

function finish(bytes: number[]): Buffer {
  const b = Buffer.from(bytes);
  b[8] = checksum(b);
  return b;
}

/**
 * High and low concentration bytes for `ppm`, pinned at the full range as the cell is; ZE15 sets
 * bit 7 of the high byte on a fault.
 */
export function concentrationBytes(ppm: number, variant: 'ze07' | 'ze15', fault: boolean): [number, number] {
  const v = Math.min(FULL_RANGE, Math.max(0, Math.round(ppm * 10)));
  let hi = v >> 8;
  if (variant === 'ze15' && fault) hi |= 0x80;
  return [hi, v & 0xff];
}

/** Active upload: FF 04 03 01 cH cL rH rL ck (gas CO, unit ppm, 1 decimal, full range). */
export function activeFrame(ppm: number, variant: 'ze07' | 'ze15', fault: boolean): Buffer {
  const [hi, lo] = concentrationBytes(ppm, variant, fault);
  return finish([0xff, 0x04, 0x03, 0x01, hi, lo, FULL_RANGE >> 8, FULL_RANGE & 0xff, 0]);
}

/** Reply to the query: FF 86 cH cL 00 00 00 00 ck. */
export function qaReplyFrame(ppm: number, variant: 'ze07' | 'ze15', fault: boolean): Buffer {
  const [hi, lo] = concentrationBytes(ppm, variant, fault);
  return finish([0xff, 0x86, hi, lo, 0, 0, 0, 0, 0]);
}

/** Decodes the concentration (ppm) and ZE15 fault flag from an active or Q&A frame; null if not one. */
export function decodeConcentration(
  frame: Uint8Array,
  variant: 'ze07' | 'ze15',
): { ppm: number; fault: boolean } | null {
  if (!checksumOk(frame)) return null;
  let hi: number;
  let lo: number;
  if (frame[1] === 0x04) [hi, lo] = [frame[4]!, frame[5]!];
  else if (frame[1] === 0x86) [hi, lo] = [frame[2]!, frame[3]!];
  else return null;
  const fault = variant === 'ze15' && (hi & 0x80) !== 0;
  if (variant === 'ze15') hi &= 0x1f;
  return { ppm: ((hi << 8) | lo) / 10, fault };
}

/** Splits a byte stream into 9-byte frames starting with 0xFF, resynchronising after noise. */
export function takeFrames(buf: Buffer): { frames: Buffer[]; rest: Buffer; skipped: number } {
  const frames: Buffer[] = [];
  let off = 0;
  let skipped = 0;
  while (buf.length - off >= FRAME_LENGTH) {
    if (buf[off] !== 0xff || !checksumOk(buf.subarray(off, off + FRAME_LENGTH))) {
      off++;
      skipped++;
      continue;
    }
    frames.push(Buffer.from(buf.subarray(off, off + FRAME_LENGTH)));
    off += FRAME_LENGTH;
  }
  return { frames, rest: Buffer.from(buf.subarray(off)), skipped };
}
