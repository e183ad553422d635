// The wire codecs on their own: CRC-16/MODBUS, PDUs, MBAP framing, Winsen checksums.
import { describe, expect, it } from 'vitest';
import {
  crc16,
  crcOk,
  decodeRtuFrame,
  encodeRequestPdu,
  encodeRtuFrame,
  encodeTcpAdu,
  expectedRequestLength,
  MbapError,
  type ModbusException,
  type ModbusRequest,
  parseRequestPdu,
  takeTcpAdus,
  winsenFrame,
} from '../src/index.js';

describe('RTU', () => {
  it('CRC of the textbook request 01 03 00 00 00 0A is C5 CD', () => {
    const f = encodeRtuFrame(1, encodeRequestPdu({ fc: 3, address: 0, count: 10 }));
    expect(f.toString('hex')).toBe('01030000000ac5cd');
    expect(crc16(Buffer.from('123456789'))).toBe(0x4b37); // CRC-16/MODBUS check value
    expect(crcOk(f)).toBe(true);
    f[3]! ^= 1;
    expect(crcOk(f)).toBe(false);
    expect(decodeRtuFrame(f)).toBeNull();
  });

  it('knows request lengths from the function code (8 bytes, or 9 + byte count for 15/16)', () => {
    expect(expectedRequestLength(encodeRtuFrame(1, encodeRequestPdu({ fc: 4, address: 0, count: 2 })))).toBe(
      8,
    );
    const f16 = encodeRtuFrame(1, encodeRequestPdu({ fc: 16, address: 5, values: [1, 2, 3] }));
    expect(expectedRequestLength(f16)).toBe(f16.length);
    expect(expectedRequestLength(Buffer.from([1, 0x2b, 0]))).toBeNull();
  });
});

describe('PDU', () => {
  it('round-trips every supported request', () => {
    const reqs: ModbusRequest[] = [
      { fc: 1, address: 3, count: 10 },
      { fc: 3, address: 0, count: 125 },
      { fc: 4, address: 9, count: 1 },
      { fc: 5, address: 2, value: true },
      { fc: 6, address: 3, value: 0xbeef },
      { fc: 15, address: 0, values: [true, false, true, true, false, false, false, false, true] },
      { fc: 16, address: 7, values: [1, 65535] },
    ];
    for (const req of reqs) expect(parseRequestPdu(encodeRequestPdu(req))).toEqual(req);
  });

  it('rejects what a slave must reject, with the exception code it must answer', () => {
    const code = (pdu: number[]) => {
      try {
        parseRequestPdu(Buffer.from(pdu));
      } catch (e) {
        return (e as ModbusException).exceptionCode;
      }
      return 0;
    };
    expect(code([0x08, 0, 0, 0, 0])).toBe(1); // diagnostics: not supported
    expect(code([3, 0, 0, 0, 0])).toBe(3); // quantity 0
    expect(code([3, 0, 0, 0, 126])).toBe(3); // quantity > 125
    expect(code([5, 0, 0, 0x12, 0x34])).toBe(3); // coil value neither FF00 nor 0000
    expect(code([16, 0, 0, 0, 2, 3, 0, 0, 0])).toBe(3); // byte count mismatch
    expect(code([3, 0, 0])).toBe(3); // truncated
  });
});

describe('MBAP', () => {
  it('splits a stream into ADUs across chunk boundaries', () => {
    const a = encodeTcpAdu(1, 1, encodeRequestPdu({ fc: 3, address: 0, count: 2 }));
    const b = encodeTcpAdu(2, 7, encodeRequestPdu({ fc: 6, address: 3, value: 1 }));
    const stream = Buffer.concat([a, b]);
    const first = takeTcpAdus(stream.subarray(0, a.length + 3));
    expect(first.adus.map((x) => x.transactionId)).toEqual([1]);
    const second = takeTcpAdus(Buffer.concat([first.rest, stream.subarray(a.length + 3)]));
    expect(second.adus).toEqual([
      { transactionId: 2, protocolId: 0, unit: 7, pdu: encodeRequestPdu({ fc: 6, address: 3, value: 1 }) },
    ]);
    expect(second.rest.length).toBe(0);
  });

  it('a length no peer sends is an error (the server drops the connection)', () => {
    expect(() => takeTcpAdus(Buffer.from([0, 1, 0, 0, 0xff, 0xff, 1, 3]))).toThrow(MbapError);
  });
});

describe('Winsen', () => {
  it('checksum matches the datasheet examples (query …79, to-Q&A …83, to-active …84)', () => {
    expect(winsenFrame.checksum(winsenFrame.QUERY)).toBe(0x79);
    expect(winsenFrame.checksum(winsenFrame.TO_QA)).toBe(0x83);
    expect(winsenFrame.checksum(winsenFrame.TO_ACTIVE)).toBe(0x84);
  });

  it('resynchronises on noise and keeps only frames with a good checksum', () => {
    const good = winsenFrame.activeFrame(12.5, 'ze07', false);
    const bad = Buffer.from(good);
    bad[8]! ^= 1;
    const { frames, skipped } = winsenFrame.takeFrames(
      Buffer.concat([Buffer.from([0x00, 0xff, 0x12]), good, bad, good]),
    );
    expect(frames).toEqual([good, good]);
    expect(skipped).toBeGreaterThan(0);
    expect(winsenFrame.decodeConcentration(good, 'ze07')).toEqual({ ppm: 12.5, fault: false });
  });
});
