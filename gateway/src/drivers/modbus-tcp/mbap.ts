/**
 * Modbus TCP application data units: MBAP header (transaction id, protocol 0, length) + unit + PDU.
 * Only what the driver sends (requests of one function code and two 16-bit words: reads of coils
 * and registers, a coil write) and a header check for what it receives; the PDUs of answers stay
 * views of the received chunk.
 */

/** Bytes of every request the driver sends: MBAP (7) + function code + two 16-bit words. */
export const REQUEST_BYTES = 12;

/** Writes a request ADU into `buf` (at least REQUEST_BYTES long). */
export function writeRequest(
  buf: Buffer,
  transactionId: number,
  unit: number,
  fc: number,
  word1: number,
  word2: number,
): Buffer {
  buf[0] = transactionId >> 8;
  buf[1] = transactionId & 0xff;
  buf[2] = 0;
  buf[3] = 0; // protocol 0
  buf[4] = 0;
  buf[5] = 6; // unit + 5 bytes of PDU
  buf[6] = unit;
  buf[7] = fc;
  buf[8] = word1 >> 8;
  buf[9] = word1 & 0xff;
  buf[10] = word2 >> 8;
  buf[11] = word2 & 0xff;
  return buf;
}

/**
 * Length of the ADU starting at `off` (header included), or 0 when its header has not fully
 * arrived. Throws on a header no server sends (the connection cannot be trusted after it).
 */
export function aduLength(buf: Buffer, off: number): number {
  if (buf.length - off < 7) return 0;
  const protocol = (buf[off + 2]! << 8) | buf[off + 3]!;
  const len = (buf[off + 4]! << 8) | buf[off + 5]!;
  if (protocol !== 0 || len < 2 || len > 254)
    throw new RangeError(`bad MBAP header ${buf.subarray(off, off + 7).toString('hex')}`);
  return 6 + len;
}
