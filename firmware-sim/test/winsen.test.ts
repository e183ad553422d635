// Winsen ZE07/ZE15 module on a socat pty: every frame has a correct checksum (except the ones a fault
// script damages), in active upload and in question-and-answer mode.
import { type PtyPair, startPtyPair, waitFor } from '@gaswatch/shared/testing';
import { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createDevice,
  createWinsenModule,
  type SimDevice,
  type WinsenModule,
  winsenFrame,
} from '../src/index.js';

let pty: PtyPair;
let mod: WinsenModule | undefined;
let host: SerialPort | undefined;
let received: Buffer;

beforeEach(async () => {
  pty = await startPtyPair();
  received = Buffer.alloc(0);
});
afterEach(async () => {
  await mod?.stop();
  if (host?.isOpen) await new Promise<void>((r) => host!.close(() => r()));
  await pty.stop();
  mod = undefined;
  host = undefined;
});

async function start(device: SimDevice, mode: 'active' | 'qa', variant?: 'ze07' | 'ze15') {
  mod = createWinsenModule({ path: pty.a, device, mode, intervalMs: 50, ...(variant ? { variant } : {}) });
  await mod.start();
  host = new SerialPort({ path: pty.b, baudRate: 9600, autoOpen: false });
  await new Promise<void>((res, rej) => host!.open((e) => (e ? rej(e) : res())));
  host.on('data', (d: Buffer) => {
    received = Buffer.concat([received, d]);
  });
}

/** Raw 9-byte chunks as received (no resync: a bad frame stays visible). */
const chunks = () =>
  Array.from({ length: Math.floor(received.length / 9) }, (_, i) => received.subarray(9 * i, 9 * i + 9));

describe('ZE07 active upload', () => {
  it('uploads FF 04 03 01 cH cL rH rL ck with a correct checksum on every frame', async () => {
    const dev = createDevice({ id: 'ze07', profile: 'winsen-ze07' });
    dev.setConcentration('CO', 18.3);
    await start(dev, 'active');
    await waitFor(() => received.length >= 9 * 5, 'five uploads');
    for (const f of chunks()) {
      expect(winsenFrame.checksumOk(f), f.toString('hex')).toBe(true);
      expect([...f.subarray(0, 4)]).toEqual([0xff, 0x04, 0x03, 0x01]);
      expect(winsenFrame.decodeConcentration(f, 'ze07')).toEqual({ ppm: 18.3, fault: false });
      expect(f.readUInt16BE(6)).toBe(5000); // full range 500.0 ppm
    }
  });

  it('switches to question-and-answer on command and answers FF 86 cH cL … with a checksum', async () => {
    const dev = createDevice({ id: 'ze07', profile: 'winsen-ze07' });
    dev.setConcentration('CO', 251.7);
    await start(dev, 'active');
    host!.write(winsenFrame.TO_QA);
    await waitFor(() => mod!.mode === 'qa', 'Q&A mode');
    const uploadsAtSwitch = mod!.stats().uploads;
    for (let i = 0; i < 3; i++) {
      host!.write(winsenFrame.QUERY);
      await waitFor(() => chunks().filter((f) => f[1] === 0x86).length >= i + 1, `reply ${i + 1}`);
    }
    // Uploads already on the wire at the switch may still arrive; no new ones are made in Q&A mode.
    expect(mod!.stats().uploads).toBe(uploadsAtSwitch);
    for (const f of chunks()) expect(winsenFrame.checksumOk(f)).toBe(true);
    const replies = chunks().filter((f) => f[1] === 0x86);
    expect(replies).toHaveLength(3);
    for (const f of replies) expect(winsenFrame.decodeConcentration(f, 'ze07')?.ppm).toBeCloseTo(251.7, 5);
    expect(mod!.stats().replies).toBe(3);
  });
});

describe('Q&A mode', () => {
  it('never uploads, ignores a query with a bad checksum, and answers a good one', async () => {
    const dev = createDevice({ id: 'ze07', profile: 'winsen-ze07' });
    dev.setConcentration('CO', 3);
    await start(dev, 'qa');
    const badQuery = Buffer.from(winsenFrame.QUERY);
    badQuery[8] = 0x78;
    // Serial is ordered: had the bad query been answered, that answer would come first.
    host!.write(Buffer.concat([badQuery, winsenFrame.QUERY]));
    await waitFor(() => received.length >= 9, 'reply');
    expect(mod!.stats()).toMatchObject({ replies: 1, uploads: 0 });
    expect(mod!.stats().badFrames).toBeGreaterThan(0);
    expect(winsenFrame.decodeConcentration(received.subarray(0, 9), 'ze07')?.ppm).toBe(3);
  });

  it('ZE15 sets bit 7 of the high byte on a fault and keeps the value in the low 13 bits', async () => {
    const dev = createDevice({ id: 'ze15', profile: 'winsen-ze07' });
    dev.setConcentration('CO', 42.1);
    dev.setFault('fault');
    await start(dev, 'qa', 'ze15');
    host!.write(winsenFrame.QUERY);
    await waitFor(() => received.length >= 9, 'reply');
    const f = received.subarray(0, 9);
    expect(winsenFrame.checksumOk(f)).toBe(true);
    expect(f[2]! & 0x80).toBe(0x80);
    expect(winsenFrame.decodeConcentration(f, 'ze15')).toEqual({ ppm: 42.1, fault: true });
  });
});

it('a fault script that corrupts checksums damages exactly the frames it counts', async () => {
  const dev = createDevice({ id: 'ze07', profile: 'winsen-ze07', seed: 5 });
  dev.setConcentration('CO', 10);
  dev.setCorruption({ mode: 'crc', probability: 0.5 });
  await start(dev, 'active');
  await waitFor(() => received.length >= 9 * 12, 'twelve uploads');
  await mod!.stop();
  const { uploads, corrupted } = mod!.stats();
  await waitFor(() => received.length >= 9 * uploads, 'every upload sent before stop');
  const frames = chunks();
  expect(frames).toHaveLength(uploads);
  const bad = frames.filter((f) => !winsenFrame.checksumOk(f)).length;
  expect(bad).toBeGreaterThan(0);
  expect(bad).toBe(corrupted);
  for (const f of frames.filter((f) => winsenFrame.checksumOk(f)))
    expect(winsenFrame.decodeConcentration(f, 'ze07')?.ppm).toBe(10);
});
