/**
 * The device-event writer against a real embedded store when its pending file cannot be
 * rewritten (disk trouble): nothing crashes, nothing stops, every event still reaches the store.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceEvent } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createDeviceEventWriter } from '../src/store/device-event-writer.js';
import { deviceEventRecord } from '../src/store/device-events.js';
import { createEmbeddedStore } from '../src/store/embedded.js';
import type { Store } from '../src/store/types.js';

const T0 = Date.parse('2026-11-23T18:00:00.000Z');
const event = (i: number): DeviceEvent => ({
  v: 1,
  ts: new Date(T0 + i * 1_000).toISOString(),
  type: 'interlock',
  outputs: { valve: false },
  message: `valve closed #${i}`,
});

describe('device-event writer with a pending file it cannot rewrite', () => {
  let dir: string;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps storing every event and never rejects', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-evw-'));
    store = createEmbeddedStore({ dir: join(dir, 'store'), logger: pino({ level: 'silent' }) });
    await store.start();
    const file = join(dir, 'pending.jsonl');
    mkdirSync(`${file}.tmp`); // every rewrite of the pending file fails (EISDIR)
    const writer = createDeviceEventWriter({
      store,
      logger: pino({ level: 'silent' }),
      pendingFile: file,
      batchSize: 1,
      retryMs: 20,
    });
    writer.start();
    for (let i = 0; i < 3; i++) writer.add(deviceEventRecord('gw-1', 'boiler', event(i), T0 + i * 1_000));
    await waitFor(
      async () => (await store?.listDeviceEvents({ dev: 'boiler' }))?.length === 3,
      '3 stored',
      10_000,
    );
    // The writer still works after the failed rewrites.
    writer.add(deviceEventRecord('gw-1', 'boiler', event(3), T0 + 3_000));
    await waitFor(
      async () => (await store?.listDeviceEvents({ dev: 'boiler' }))?.length === 4,
      '4th stored',
      10_000,
    );
    expect(writer.pendingCount).toBe(0);
    await writer.stop();
  });
});
