/** RS-485 wire time: what a real line at `baud` would take, which a pty does not simulate. */
export type Parity = 'none' | 'even' | 'odd';

/** Bits on the wire per character: start + 8 data + parity or second stop bit + stop (11), 8N1: 10. */
export function bitsPerChar(parity: Parity, stopBits: 1 | 2 = 1): number {
  return 1 + 8 + (parity === 'none' ? 0 : 1) + stopBits;
}

/** Milliseconds one character takes. */
export function charTimeMs(baud: number, parity: Parity, stopBits: 1 | 2 = 1): number {
  return (bitsPerChar(parity, stopBits) * 1000) / baud;
}

/** The 3.5-character silence that ends an RTU frame; fixed 1.75 ms above 19200 baud (Modbus over serial line §2.5.1.1). */
export function interFrameGapMs(baud: number, parity: Parity, stopBits: 1 | 2 = 1): number {
  return baud > 19200 ? 1.75 : 3.5 * charTimeMs(baud, parity, stopBits);
}
