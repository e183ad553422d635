/** Test-only masters: mbpoll (a real third-party master) and a small TCP/RTU master of our own. */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { SerialPort } from 'serialport';
import { encodeRtuFrame, encodeTcpAdu, expectedResponseLength } from '../src/index.js';

export interface MbpollResult {
  code: number;
  out: string;
  /** Values by reference number as printed ("[3]: 	352"). */
  values: Map<number, number>;
}

/** Runs mbpoll once (-1 is always added) and parses the values it printed. */
export function mbpoll(args: string[], timeoutMs = 15_000): Promise<MbpollResult> {
  return new Promise((resolve) => {
    execFile('mbpoll', [...args, '-1'], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const out = `${stdout}${stderr}`;
      const values = new Map<number, number>();
      for (const m of stdout.matchAll(/^\[(\d+)\]:\s+(-?[\d.]+(?:e[-+]?\d+)?)/gm))
        values.set(Number(m[1]), Number(m[2]));
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out, values });
    });
  });
}

/** Sends one Modbus TCP request and returns the response PDU (or null on time-out). */
export function tcpRequest(
  port: number,
  unit: number,
  pdu: Buffer,
  timeoutMs = 2000,
): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(null);
    }, timeoutMs);
    sock.on('connect', () => sock.write(encodeTcpAdu(0x1234, unit, pdu)));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 6 && buf.length >= 6 + buf.readUInt16BE(4)) {
        clearTimeout(timer);
        sock.destroy();
        if (buf.readUInt16BE(0) !== 0x1234) reject(new Error('transaction id not echoed'));
        resolve(Buffer.from(buf.subarray(7, 6 + buf.readUInt16BE(4))));
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** A minimal RTU master on a serial path: one request at a time, raw response frames. */
export async function openRtuMaster(path: string) {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  let buf = Buffer.alloc(0);
  let waiter: (() => void) | null = null;
  port.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    waiter?.();
  });
  return {
    /** Sends unit+PDU with CRC; resolves with the raw answer frame, or null after `timeoutMs` of silence. */
    request(unit: number, pdu: Buffer, timeoutMs = 500): Promise<Buffer | null> {
      buf = Buffer.alloc(0);
      return this.send(encodeRtuFrame(unit, pdu), timeoutMs);
    },
    /** Sends raw bytes (e.g. a frame with a broken CRC). */
    send(raw: Buffer, timeoutMs = 500): Promise<Buffer | null> {
      buf = Buffer.alloc(0);
      return new Promise((resolve) => {
        const done = (v: Buffer | null) => {
          clearTimeout(timer);
          waiter = null;
          resolve(v);
        };
        const timer = setTimeout(() => done(buf.length > 0 ? Buffer.from(buf) : null), timeoutMs);
        waiter = () => {
          const len = expectedResponseLength(buf);
          if (len !== null && buf.length >= len) {
            const frame = Buffer.from(buf.subarray(0, len));
            buf = Buffer.from(buf.subarray(len));
            done(frame);
          }
        };
        port.write(raw);
      });
    },
    close: () => new Promise<void>((res) => port.close(() => res())),
  };
}

/** Reads `count` 16-bit values from a register response PDU. */
export function registersOf(pdu: Buffer | null): number[] {
  if (!pdu) throw new Error('no answer');
  if (pdu[0]! & 0x80) throw new Error(`exception ${pdu[1]}`);
  const n = pdu[1]! / 2;
  return Array.from({ length: n }, (_, i) => pdu.readUInt16BE(2 + 2 * i));
}
