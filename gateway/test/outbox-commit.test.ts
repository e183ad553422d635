/**
 * The outbox's group commit (docs/gateway.md "Outbox"): readings that arrive within `commitMs`
 * share one synced write. What an append has promised must hold through a SIGKILL: every reading
 * whose append resolved is on disk after the kill, and each device's seqs on disk run 0..n with no
 * hole, so the server never sees a gap for a reading that was never published.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTsNode, waitFor } from '@gaswatch/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutbox, type Outbox } from '../src/outbox.js';
import { testLogger } from './helpers/log.js';

const WRITER = fileURLToPath(new URL('./helpers/outbox-writer.ts', import.meta.url));
const dirs: string[] = [];
const open: Outbox[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'gw-commit-'));
  dirs.push(d);
  return d;
};

async function reopen(dir: string): Promise<Outbox> {
  const o = createOutbox({ dir, maxReadings: 1_000_000, logger: testLogger(), keepWritten: true });
  await o.start();
  open.push(o);
  return o;
}

/** Every reading on disk, by device, in take() order. */
async function stored(o: Outbox): Promise<Map<string, number[]>> {
  const by = new Map<string, number[]>();
  for (let e = await o.take(); e; e = await o.take()) {
    const { dev, seq } = JSON.parse(e.payload) as { dev: string; seq: number };
    by.set(dev, [...(by.get(dev) ?? []), seq]);
  }
  return by;
}

describe('outbox group commit', () => {
  it('readings of one window resolve together, are handed out in order from memory, and survive a reopen', async () => {
    const dir = tmp();
    const o = createOutbox({ dir, maxReadings: 1000, logger: testLogger(), commitMs: 50, keepWritten: true });
    await o.start();
    open.push(o);
    const seqs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        o.appendReading(`d${i % 2}`, (seq) => ({
          topic: 't',
          payload: JSON.stringify({ dev: `d${i % 2}`, seq }),
        })),
      ),
    );
    expect(seqs).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    expect(o.depth).toBe(10);
    const first = (await o.take())!;
    expect(JSON.parse(first.payload)).toEqual({ dev: 'd0', seq: 0 });
    await o.ack(first);
    await o.stop();
    open.pop();
    const again = await reopen(dir);
    expect(again.depth).toBe(9);
    expect(await stored(again)).toEqual(
      new Map([
        ['d1', [0, 1, 2, 3, 4]],
        ['d0', [1, 2, 3, 4]],
      ]),
    );
  });

  it('a SIGKILL keeps every reading whose append resolved, and leaves no hole in any seq', async () => {
    const dir = tmp();
    const writer = startTsNode(WRITER, [dir, '100']);
    await writer.waitForOutput(/"ready":true/, 30_000);
    const resolved = () => [...writer.output().matchAll(/\{"stored":\["(d\d)",(\d+)\]\}/g)];
    await waitFor(() => resolved().length >= 300, '300 readings stored', 30_000, 20);
    await writer.stop('SIGKILL');
    const promised = resolved();

    const o = await reopen(dir);
    const onDisk = await stored(o);
    for (const dev of ['d0', 'd1', 'd2']) {
      const seqs = onDisk.get(dev) ?? [];
      // Contiguous from 0: no seq given to a reading that did not reach the disk.
      expect(seqs, `${dev} seqs on disk`).toEqual(Array.from({ length: seqs.length }, (_, k) => k));
      expect(o.lastSeq(dev)).toBe(seqs.length - 1);
      // Everything an append promised is there.
      const maxPromised = Math.max(...promised.filter((m) => m[1] === dev).map((m) => Number(m[2])));
      expect(seqs.length - 1, `${dev}: last seq on disk`).toBeGreaterThanOrEqual(maxPromised);
    }
    // The next reading of a device continues right after the last one on disk.
    const next = await o.appendReading('d0', () => ({ topic: 't', payload: '{}' }));
    expect(next).toBe((onDisk.get('d0') ?? []).length);
  });
});
