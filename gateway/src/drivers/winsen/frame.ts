/** Winsen ZE07/ZE15-CO UART frames: 9 bytes, FF start byte, checksum = (~sum(bytes 1..7) + 1) & 0xFF. */

export const FRAME_LENGTH = 9;
export const QUERY = Buffer.from([0xff, 0x01, 0x86, 0x00, 0x00, 0x00, 0x00, 0x00, 0x79]);
export const SET_QA = Buffer.from([0xff, 0x01, 0x78, 0x04, 0x00, 0x00, 0x00, 0x00, 0x83]);
export const SET_ACTIVE = Buffer.from([0xff, 0x01, 0x78, 0x03, 0x00, 0x00, 0x00, 0x00, 0x84]);

export function checksum(frame: Uint8Array): number {
  let sum = 0;
  for (let i = 1; i <= 7; i++) sum += frame[i]!;
  return (~sum + 1) & 0xff;
}

export interface WinsenValue {
  kind: 'upload' | 'answer';
  ppm: number;
  fault: boolean;
  /** The module's full range (ppm), sent in every active upload; a Q&A answer does not carry it. */
  fullScale?: number;
}

const tenths = (hi: number, lo: number) => Math.round((hi * 256 + lo) * 10) / 100;

/** Decodes a frame whose checksum is already checked; null when it is neither an upload nor an answer. */
export function decodeFrame(frame: Uint8Array, variant: 'ze07' | 'ze15'): WinsenValue | null {
  let hi: number;
  let lo: number;
  let kind: WinsenValue['kind'];
  if (frame[1] === 0x04) {
    kind = 'upload';
    hi = frame[4]!;
    lo = frame[5]!;
  } else if (frame[1] === 0x86) {
    kind = 'answer';
    hi = frame[2]!;
    lo = frame[3]!;
  } else return null;
  const fault = variant === 'ze15' && (hi & 0x80) !== 0;
  const h = variant === 'ze15' ? hi & 0x1f : hi;
  const value: WinsenValue = { kind, ppm: tenths(h, lo), fault };
  const range = kind === 'upload' ? tenths(frame[6]!, frame[7]!) : 0;
  if (range > 0) value.fullScale = range;
  return value;
}

export type ScanEvent =
  | { kind: 'frame'; frame: Buffer }
  | { kind: 'bad-checksum'; frame: Buffer }
  | { kind: 'noise'; bytes: number };

/**
 * Splits a receive buffer into frames. Returns the events and the unconsumed tail. A frame with a
 * bad checksum is reported and skipped one byte at a time so a real frame inside it is still found.
 */
export function scan(buf: Buffer): { events: ScanEvent[]; rest: Buffer } {
  const events: ScanEvent[] = [];
  let i = 0;
  let noise = 0;
  while (i < buf.length) {
    if (buf[i] !== 0xff) {
      noise++;
      i++;
      continue;
    }
    if (buf.length - i < FRAME_LENGTH) break;
    const frame = buf.subarray(i, i + FRAME_LENGTH);
    if (checksum(frame) === frame[8]) {
      if (noise) events.push({ kind: 'noise', bytes: noise });
      noise = 0;
      events.push({ kind: 'frame', frame: Buffer.from(frame) });
      i += FRAME_LENGTH;
    } else {
      if (noise) events.push({ kind: 'noise', bytes: noise });
      noise = 0;
      events.push({ kind: 'bad-checksum', frame: Buffer.from(frame) });
      i++;
    }
  }
  if (noise) events.push({ kind: 'noise', bytes: noise });
  return { events, rest: Buffer.from(buf.subarray(i)) };
}
