import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutbox, type Outbox } from '../src/outbox.js';
import { failingReads, slowReads, slowWrites } from './helpers/level-faults.js';
import { testLogger } from './helpers/log.js';

const dirs: string[] = [];
const open: Outbox[] = [];
const restore: (() => void)[] = [];
afterEach(async () => {
  for (const r of restore.splice(0)) r();
  for (const o of open.splice(0)) await o.stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function make(dir: string, maxReadings = 1000): Promise<Outbox> {
  const o = createOutbox({ dir, maxReadings, logger: testLogger() });
  await o.start();
  open.push(o);
  return o;
}
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'gw-outbox-'));
  dirs.push(d);
  return d;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first entry take() hands out within `ms`. */
async function takeWithin(o: Outbox, ms: number) {
  const until = Date.now() + ms;
  for (;;) {
    const e = await o.take();
    if (e || Date.now() > until) return e;
    await sleep(2);
  }
}

const reading = (dev: string) => (seq: number) => ({
  topic: `t/${dev}`,
  payload: JSON.stringify({ dev, seq }),
});

describe('outbox', () => {
  it('keeps readings in order until acknowledged, across a reopen, with seq continuing per device', async () => {
    const dir = tmp();
    const a = await make(dir);
    expect(await a.appendReading('d1', reading('d1'))).toBe(0);
    expect(await a.appendReading('d2', reading('d2'))).toBe(0);
    expect(await a.appendReading('d1', reading('d1'))).toBe(1);
    const first = await a.take();
    expect(JSON.parse(first!.payload)).toEqual({ dev: 'd1', seq: 0 });
    await a.ack(first!);
    // Taken but not acknowledged: must survive the restart.
    await a.take();
    expect(a.depth).toBe(2);
    await a.stop();
    open.pop();
    const b = await make(dir);
    expect(b.depth).toBe(2);
    const got = [];
    for (let e = await b.take(); e; e = await b.take()) got.push(JSON.parse(e.payload));
    expect(got).toEqual([
      { dev: 'd2', seq: 0 },
      { dev: 'd1', seq: 1 },
    ]);
    expect(await b.appendReading('d1', reading('d1'))).toBe(2);
    expect(await b.appendReading('d2', reading('d2'))).toBe(1);
  });

  it('events jump the queue ahead of backlog readings', async () => {
    const o = await make(tmp());
    for (let i = 0; i < 5; i++) await o.appendReading('d', reading('d'));
    await o.appendEvent('t/event', '{"alarm":1}');
    expect((await o.take())!.topic).toBe('t/event');
    expect((await o.take())!.topic).toBe('t/d');
  });

  it('a released entry is sent again, in order', async () => {
    const o = await make(tmp());
    for (let i = 0; i < 3; i++) await o.appendReading('d', reading('d'));
    const e0 = (await o.take())!;
    const e1 = (await o.take())!;
    o.release(e1);
    o.release(e0);
    expect(JSON.parse((await o.take())!.payload).seq).toBe(0);
    expect(JSON.parse((await o.take())!.payload).seq).toBe(1);
    expect(JSON.parse((await o.take())!.payload).seq).toBe(2);
    expect(await o.take()).toBeUndefined();
  });

  it('when full, drops the oldest readings and counts them, persistently', async () => {
    const dir = tmp();
    const o = await make(dir, 10);
    for (let i = 0; i < 15; i++) await o.appendReading('d', reading('d'));
    expect(o.depth).toBe(10);
    expect(o.dropped).toBe(5);
    expect(JSON.parse((await o.take())!.payload).seq).toBe(5);
    await o.stop();
    open.pop();
    const again = await make(dir, 10);
    expect(again.dropped).toBe(5);
    expect(again.depth).toBe(10);
  });

  it('a payload that cannot be built stores nothing and does not use a seq', async () => {
    const o = await make(tmp());
    await expect(
      o.appendReading('d', () => {
        throw new Error('schema says no');
      }),
    ).rejects.toThrow('schema says no');
    expect(o.depth).toBe(0);
    expect(await o.appendReading('d', reading('d'))).toBe(0);
  });

  it('a reading sent and acknowledged before its own write returned is not counted below zero', async () => {
    // The CI failure this reproduces: depth went to -1, the status failed its schema and the
    // gateway shut down.
    const o = await make(tmp());
    restore.push(slowWrites('batch', 'after', 100));
    const appended = o.appendReading('d', reading('d'));
    const e = await takeWithin(o, 2_000);
    expect(e, 'the write is visible before it returns').toBeDefined();
    await o.ack(e!);
    expect(o.depth).toBe(0);
    expect(await appended).toBe(0);
    expect(o.depth).toBe(0);
  });

  it('a full outbox drops the oldest waiting reading, not one delivered whose delete is still being written', async () => {
    const dir = tmp();
    const o = await make(dir, 10);
    for (let i = 0; i < 10; i++) await o.appendReading('d', reading('d'));
    const first = (await o.take())!;
    restore.push(slowWrites('del', 'before', 200));
    const acked = o.ack(first); // the broker has seq 0; its delete is not on disk yet
    await o.appendReading('d', reading('d'));
    await o.appendReading('d', reading('d')); // 11 waiting: the oldest waiting one goes
    await acked;
    expect(o.dropped).toBe(1);
    expect(o.depth).toBe(10);
    expect(JSON.parse((await o.take())!.payload).seq, 'seq 1 was dropped, seq 0 was delivered').toBe(2);
    await o.stop();
    open.pop();
    const again = await make(dir, 10);
    expect(again.depth, 'what was counted is what is on disk').toBe(10);
    expect(again.dropped).toBe(1);
  });

  it('a full outbox never drops a reading that take() is reading from disk at that moment', async () => {
    const dir = tmp();
    const o = await make(dir, 10);
    for (let i = 0; i < 10; i++) await o.appendReading('d', reading('d'));
    restore.push(slowReads(100));
    const taking = o.take(); // reads seq 0..9 from disk, slowly
    await sleep(20);
    await o.appendReading('d', reading('d')); // 11 waiting: the oldest is dropped meanwhile
    const first = (await taking)!;
    restore.pop()?.();
    expect(o.dropped).toBe(1);
    const sent = [JSON.parse(first.payload).seq];
    await o.ack(first);
    for (let e = await o.take(); e; e = await o.take()) {
      sent.push(JSON.parse(e.payload).seq);
      await o.ack(e);
    }
    // Each reading either dropped or sent, never both: 11 in all, 10 sent, depth back to 0.
    expect(sent).toHaveLength(10);
    expect(new Set(sent).size).toBe(10);
    expect(o.depth).toBe(0);
    await o.stop();
    open.pop();
    expect((await make(dir, 10)).depth).toBe(0);
  });

  it('a full outbox still takes a reading while take() fails to read the disk', async () => {
    const o = await make(tmp(), 10);
    for (let i = 0; i < 10; i++) await o.appendReading('d', reading('d'));
    restore.push(failingReads(1));
    restore.push(slowReads(100)); // the read fails, 100 ms late
    const taking = o.take().catch((err: Error) => err);
    await sleep(20);
    // The drop waits for that read; its failure is take()'s to report, not this append's.
    expect(await o.appendReading('d', reading('d'))).toBe(10);
    expect(await taking).toBeInstanceOf(Error);
    for (const r of restore.splice(0).reverse()) r();
    expect(o.dropped).toBe(1);
    expect(o.depth).toBe(10);
  });
});
