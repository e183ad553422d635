/**
 * A misbehaving RTU slave on a real pty: it answers from firmware-sim devices but lets the test
 * put garbage on the line before or instead of an answer.
 */
import {
  decodeRtuFrame,
  encodeRtuFrame,
  expectedRequestLength,
  type SimDevice,
  serveRequest,
} from '@gaswatch/firmware-sim';
import { SerialPort } from 'serialport';

export type NoiseMode = 'none' | 'garbage-only' | 'garbage-then-answer';

export async function startNoisySlave(path: string, devices: SimDevice[]) {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  let mode: NoiseMode = 'none';
  let buf = Buffer.alloc(0);
  const garbage = () => Buffer.from([0x00, 0x13, 0x37, 0xfe, 0x81, 0x42, 0x07, 0x99, 0x01]);
  port.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    const len = expectedRequestLength(buf);
    if (len === null || buf.length < len) return;
    const frame = buf.subarray(0, len);
    buf = buf.subarray(len);
    const decoded = decodeRtuFrame(frame);
    const dev = decoded && devices.find((x) => x.unit === decoded.unit);
    if (!decoded || !dev) return;
    const answer = encodeRtuFrame(decoded.unit, serveRequest(dev, decoded.pdu).pdu);
    if (mode === 'garbage-only') port.write(garbage());
    else if (mode === 'garbage-then-answer') port.write(Buffer.concat([garbage(), answer]));
    else port.write(answer);
  });
  return {
    setMode(m: NoiseMode) {
      mode = m;
    },
    stop: () => new Promise<void>((res) => port.close(() => res())),
  };
}
