/** Modbus TCP application data units: MBAP header (transaction id, protocol 0, length) + unit + PDU. */

export function encodeAdu(transactionId: number, unit: number, pdu: Uint8Array): Buffer {
  const buf = Buffer.alloc(7 + pdu.length);
  buf.writeUInt16BE(transactionId & 0xffff, 0);
  buf.writeUInt16BE(0, 2);
  buf.writeUInt16BE(pdu.length + 1, 4);
  buf[6] = unit;
  buf.set(pdu, 7);
  return buf;
}

export interface Adu {
  transactionId: number;
  unit: number;
  pdu: Buffer;
}

/** Splits received bytes into ADUs; `rest` waits for more bytes. Throws on a header no server sends. */
export function takeAdus(buf: Buffer): { adus: Adu[]; rest: Buffer } {
  const adus: Adu[] = [];
  let off = 0;
  while (buf.length - off >= 7) {
    const protocol = buf.readUInt16BE(off + 2);
    const len = buf.readUInt16BE(off + 4);
    if (protocol !== 0 || len < 2 || len > 254)
      throw new RangeError(`bad MBAP header ${buf.subarray(off, off + 7).toString('hex')}`);
    if (buf.length - off < 6 + len) break;
    adus.push({
      transactionId: buf.readUInt16BE(off),
      unit: buf[off + 6]!,
      pdu: Buffer.from(buf.subarray(off + 7, off + 6 + len)),
    });
    off += 6 + len;
  }
  return { adus, rest: Buffer.from(buf.subarray(off)) };
}
