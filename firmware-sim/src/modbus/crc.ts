/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), as appended low byte first to every RTU frame. */

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

export function crc16(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ buf[i]!) & 0xff]!;
  return crc;
}

/** Appends the CRC (low byte first) to a unit+PDU buffer. */
export function withCrc(frame: Buffer): Buffer {
  const crc = crc16(frame);
  const out = Buffer.alloc(frame.length + 2);
  frame.copy(out);
  out.writeUInt16LE(crc, frame.length);
  return out;
}

/** True when the last two bytes are the CRC of the rest. */
export function crcOk(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const crc = crc16(frame, 0, frame.length - 2);
  return frame[frame.length - 2] === (crc & 0xff) && frame[frame.length - 1] === crc >>> 8;
}
