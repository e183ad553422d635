/**
 * A disk that refuses the journal write (full, or failing): the readings of that group commit are
 * not acknowledged, and their resend is taken again — never answered "duplicate" while nothing
 * durable holds it. The disk error is real: the journal's next segment file is a symlink to
 * /dev/full, whose every write(2) fails with ENOSPC.
 */
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePayload, topics } from '@gaswatch/shared';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createBus } from '../src/bus.js';
import { createDeviceRegistry } from '../src/ingest/devices.js';
import { createDrainer } from '../src/ingest/drainer.js';
import { createIngest, type IngestOutcome } from '../src/ingest/ingest.js';
import { createJournal, type Journal } from '../src/ingest/journal.js';
import { createCoreMetrics } from '../src/metrics.js';
import { createEmbeddedStore } from '../src/store/embedded.js';
import { reading } from './helpers.js';

const T0 = Date.parse('2026-11-23T08:00:00Z');
const logger = pino({ level: 'silent' });
const segment = (dir: string, n: number) => join(dir, `seg-${String(n).padStart(12, '0')}.jsonl`);

function rig(dir: string) {
  const journal = createJournal({ dir: join(dir, 'journal'), logger });
  journal.open();
  const registry = new Registry();
  const metrics = createCoreMetrics(registry);
  // The drainer is never started: the test looks at what the journal holds on disk.
  const drainer = createDrainer({
    journal,
    store: createEmbeddedStore({ dir: join(dir, 'store'), logger }),
    logger,
    metrics,
    batchSize: 5_000,
    flushMs: 50,
  });
  const ingest = createIngest({
    journal,
    drainer,
    devices: createDeviceRegistry(),
    bus: createBus(),
    metrics,
    logger,
    clock: () => T0,
    bufferMax: 100_000,
    batchSize: 5_000,
  });
  /** Handles one reading as the broker would; resolves with what the broker is told. */
  const send = (seq: number) =>
    new Promise<IngestOutcome | Error>((resolve) => {
      const payload = encodePayload('reading', reading(seq, T0 + seq * 1_000));
      ingest.handle(topics.reading('gw-1', 'co-1'), payload, (err, outcome) =>
        resolve(err ?? (outcome as IngestOutcome)),
      );
    });
  return { journal, ingest, registry, send };
}

const seqsOnDisk = (dir: string) => {
  const j: Journal = createJournal({ dir: join(dir, 'journal'), logger });
  j.open();
  const seqs = [...j.buffer()].map((r) => r.seq);
  j.close();
  return seqs;
};

describe('journal write failures', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a reading whose journal write failed is not acknowledged, and its resend is stored, not dropped as a duplicate', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-journal-err-'));
    const { journal, registry, send } = rig(dir);
    expect(await send(0)).toBe('accepted');

    // The disk fills up under the next segment.
    symlinkSync('/dev/full', segment(join(dir, 'journal'), 2));
    journal.seal();
    // The reading and a resend of it in the same tick (a stalled uplink delivering both): the
    // resend is no duplicate of something durable, so neither is acknowledged.
    const [failed, resentSameTick] = await Promise.all([send(1), send(1)]);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toMatch(/ENOSPC/);
    expect(resentSameTick).toBeInstanceOf(Error);
    expect(journal.writeError).toMatch(/ENOSPC/);
    expect(await registry.getSingleMetricAsString('gaswatch_ingest_journal_errors_total')).toMatch(/ 1$/m);

    // The gateway resends: the journal moves to a new file, and the reading is taken.
    expect(await send(1)).toBe('accepted');
    expect(journal.writeError).toBeNull();
    // Now it is durable, so a further resend is a duplicate.
    expect(await send(1)).toBe('duplicate');

    // The drainer seals the segment in the same tick as a group commit and its write fails:
    // that group is not acknowledged either, and its resend is taken.
    symlinkSync('/dev/full', segment(join(dir, 'journal'), 4));
    journal.seal();
    const pending = send(2);
    expect(() => journal.seal()).toThrow(/ENOSPC/);
    expect(await pending).toBeInstanceOf(Error);
    expect(await send(2)).toBe('accepted');

    // A seal that cannot open the next file (a directory in its way) changes nothing: the
    // current file keeps taking readings, and the next seal works once the way is clear.
    const blocked = segment(join(dir, 'journal'), 6);
    mkdirSync(blocked);
    expect(() => journal.seal()).toThrow(/EISDIR/);
    expect(await send(3)).toBe('accepted');
    rmdirSync(blocked);
    journal.seal();
    expect(await send(4)).toBe('accepted');

    // What a restart after kill -9 would replay: every acknowledged reading, once.
    expect(seqsOnDisk(dir)).toEqual([0, 1, 2, 3, 4]);
    journal.close();
  });
});
