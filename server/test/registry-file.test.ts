/**
 * DATA_DIR/devices.json: what the console knows of every device right after a restart, before the
 * devices speak again. Saved a slice at a time (a large registry must not stall the server while
 * it is written, issue 18), whole at stop, only when the registry changed; it must read back as
 * the registry was.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceState, Reading } from '@gaswatch/shared';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createDeviceRegistry } from '../src/ingest/devices.js';
import { createRegistryFile, SAVE_SLICE } from '../src/ingest/registry-file.js';
import { quietLogger, tempDir } from './helpers.js';

const NOW = Date.parse('2026-12-07T03:00:00Z');
const state = (site: string): DeviceState => ({
  v: 1,
  ts: new Date(NOW).toISOString(),
  online: true,
  model: 'gaswatch-co',
  kind: 'household-co',
  site,
  location: 'bedroom',
  lastError: null,
  pollIntervalS: 60,
});
const reading = (seq: number, co: number): Reading => ({
  v: 1,
  ts: new Date(NOW + seq * 60_000).toISOString(),
  seq,
  values: { CO: co },
  status: 'ok',
});

/** Resolves once `ok()` holds (checked every 20 ms, at most 10 s). */
async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(ok()).toBe(true);
}

describe('device registry file', () => {
  const dirs: { remove(): void }[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });

  it('a registry of several slices is saved whole, saved again only when a device changed, and restored', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.dir, 'devices.json');
    const devices = createDeviceRegistry();
    const n = 2 * SAVE_SLICE + 500; // three slices
    for (let i = 0; i < n; i++) {
      devices.observeState(`gw-${i % 4}`, `co-${i}`, state(`site-${i % 10}`));
      devices.observeReading(`gw-${i % 4}`, `co-${i}`, reading(0, 1), NOW, NOW);
    }
    devices.observeStatus('gw-0', {
      v: 1,
      online: true,
      ts: new Date(NOW).toISOString(),
      version: '0.1.0',
      uptimeS: 1,
      outboxDepth: 0,
    });
    const file = createRegistryFile({ path, devices, logger: quietLogger(), intervalMs: 20 });
    file.start();
    try {
      await until(() => {
        try {
          return statSync(path).size > 0;
        } catch {
          return false;
        }
      });
      const first = JSON.parse(readFileSync(path, 'utf8'));
      expect(first.devices).toHaveLength(n);
      expect(first.gateways.map(([gw]: [string]) => gw)).toEqual(['gw-0']);
      const written = statSync(path).mtimeMs;
      const ino = statSync(path).ino;

      // Nothing changed: several rounds later the file is the same one.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(statSync(path).ino).toBe(ino);
      expect(statSync(path).mtimeMs).toBe(written);

      // A device in the last slice reads again: saved again, with its new reading.
      devices.observeReading('gw-3', `co-${n - 1}`, reading(1, 7), NOW + 60_000, NOW + 60_000);
      await until(() => statSync(path).ino !== ino);
      const second = JSON.parse(readFileSync(path, 'utf8'));
      expect(second.devices.find((d: { dev: string }) => d.dev === `co-${n - 1}`).lastReading.values).toEqual(
        {
          CO: 7,
        },
      );
    } finally {
      // A device first heard just before the stop is in the file the stop writes.
      devices.observeState('gw-9', 'late-one', state('site-x'));
      file.stop();
    }

    const restored = createDeviceRegistry();
    createRegistryFile({ path, devices: restored, logger: quietLogger() }).load();
    expect(restored.size()).toBe(n + 1);
    expect(restored.get('co-17')).toMatchObject({ gw: 'gw-1', state: { site: 'site-7' }, lastTs: NOW });
    expect(restored.get(`co-${n - 1}`)?.lastReading?.values).toEqual({ CO: 7 });
    expect(restored.get('late-one')?.state?.site).toBe('site-x');
    expect(restored.gateways().get('gw-0')?.online).toBe(true);
  });
});

const tmp = tempDir('gaswatch-registry-file-');
afterAll(() => tmp.remove());
const logger = pino({ level: 'silent' });
const t0 = Date.parse('2026-12-07T08:00:00Z');

const stateOf = (i: number): DeviceState => ({
  v: 1,
  ts: new Date(t0).toISOString(),
  online: true,
  model: 'gaswatch-co',
  kind: 'household-co',
  site: `site-${i % 7}`,
  location: i % 2 === 0 ? 'bedroom' : '卧室',
  lastError: null,
  pollIntervalS: 60,
});
const readingOf = (i: number): Reading => ({
  v: 1,
  ts: new Date(t0 + i).toISOString(),
  seq: i,
  values: { CO: i % 50 },
  status: 'ok',
});

describe('device registry file, read back', () => {
  it('reads back every device as it was, across more than one written piece', () => {
    const path = join(tmp.dir, 'devices.json');
    const devices = createDeviceRegistry();
    // ~20 000 devices: several 1 MB pieces.
    for (let i = 0; i < 20_000; i++) {
      devices.observeState(`gw-${i % 4}`, `d${i}`, stateOf(i));
      devices.observeReading(`gw-${i % 4}`, `d${i}`, readingOf(i), t0 + i, t0 + i + 50);
    }
    devices.observeStatus('gw-1', { v: 1, online: false, ts: new Date(t0).toISOString() });
    const file = createRegistryFile({ path, devices, logger });
    file.stop(); // saves
    expect(statSync(path).size).toBeGreaterThan(2 << 20);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(JSON.parse(JSON.stringify(devices.snapshot())));

    const again = createDeviceRegistry();
    createRegistryFile({ path, devices: again, logger }).load();
    expect(again.size()).toBe(20_000);
    const d = again.get('d12345');
    expect(d?.state?.site).toBe('site-4');
    expect(d?.state?.location).toBe('卧室');
    expect(d?.lastReading?.values).toEqual({ CO: 12345 % 50 });
    expect(d?.lastTs).toBe(t0 + 12345);
    expect(again.gateways().get('gw-1')?.online).toBe(false);
  });

  it('writes again only when the registry changed', () => {
    const path = join(tmp.dir, 'changes.json');
    const devices = createDeviceRegistry();
    devices.observeState('gw-0', 'a', stateOf(0));
    const file = createRegistryFile({ path, devices, logger });
    file.stop();
    const before = readFileSync(path, 'utf8');
    file.stop(); // nothing changed: the file stays as it is
    expect(readFileSync(path, 'utf8')).toBe(before);

    devices.observeReading('gw-0', 'a', readingOf(7), t0 + 7, t0 + 60);
    file.stop();
    const after = JSON.parse(readFileSync(path, 'utf8')) as { devices: { lastReading: Reading | null }[] };
    expect(after.devices[0]?.lastReading?.seq).toBe(7);
  });

  it('loads a file the registry wrote before it kept times as numbers, and writes it back the same', () => {
    // As the code before issue 18's merged record wrote it (2026-12-07, 3395e10): the parsed
    // payloads whole, an offset time and a detector's extras among them.
    const old = {
      v: 1,
      devices: [
        {
          gw: 'gw-0',
          dev: 'co-1',
          state: { ...stateOf(1), ts: '2026-12-07T16:00:00+08:00' },
          lastSeen: t0 + 5_000,
          lastReading: {
            v: 1,
            ts: '2026-12-07T08:00:01Z',
            seq: 41,
            values: { CO: 12.5 },
            status: 'fault',
            faults: ['sensor_eol'],
            quality: { CO: 'bad' },
            alarm: false,
          },
          lastTs: t0 + 1_000,
        },
        {
          gw: 'gw-0',
          dev: 'co-2',
          state: stateOf(2),
          lastSeen: t0,
          lastReading: readingOf(2),
          lastTs: t0 + 2,
        },
        { gw: 'gw-1', dev: 'co-3', state: null, lastSeen: null, lastReading: null, lastTs: null },
      ],
      gateways: [['gw-0', { v: 1, online: false, ts: new Date(t0).toISOString() }]],
    };
    const path = join(tmp.dir, 'old.json');
    writeFileSync(path, JSON.stringify(old));
    const devices = createDeviceRegistry();
    createRegistryFile({ path, devices, logger }).load();
    // Every device reads as the file said, to the text of each time.
    expect(JSON.parse(JSON.stringify(devices.snapshot()))).toEqual(old);
    expect(devices.get('co-1')?.lastTs).toBe(t0 + 1_000);
    expect(devices.get('co-3')).toMatchObject({ state: null, lastReading: null, lastSeen: null });

    const again = join(tmp.dir, 'old-again.json');
    createRegistryFile({ path: again, devices, logger }).stop();
    expect(JSON.parse(readFileSync(again, 'utf8'))).toEqual(old);
  });
});

describe('device registry file, edited by hand', () => {
  it('a time that is none is handed back as it was written, not refused', () => {
    const path = join(tmp.dir, 'hand.json');
    const odd = {
      v: 1,
      devices: [
        {
          gw: 'gw-0',
          dev: 'co-9',
          state: { ...stateOf(9), ts: 'yesterday' },
          lastSeen: t0,
          lastReading: { ...readingOf(9), ts: 'yesterday' },
          lastTs: t0 + 9,
        },
      ],
      gateways: [],
    };
    writeFileSync(path, JSON.stringify(odd));
    const devices = createDeviceRegistry();
    createRegistryFile({ path, devices, logger }).load();
    expect(devices.get('co-9')?.state?.ts).toBe('yesterday');
    expect(devices.get('co-9')?.lastReading).toEqual({ ...readingOf(9), ts: 'yesterday' });
    expect(devices.get('co-9')?.lastTs).toBe(t0 + 9);
  });
});
