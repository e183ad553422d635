/**
 * The device registry file (DATA_DIR/devices.json): after a restart the console knows every
 * device's site, location and last reading before the devices speak again. It is written in
 * pieces, one device at a time (issue 18), and must read back as the registry was.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceState, Reading } from '@gaswatch/shared';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createDeviceRegistry } from '../src/ingest/devices.js';
import { createRegistryFile } from '../src/ingest/registry-file.js';
import { tempDir } from './helpers.js';

const tmp = tempDir('gaswatch-registry-file-');
afterAll(() => tmp.remove());
const logger = pino({ level: 'silent' });
const t0 = Date.parse('2026-12-07T08:00:00Z');

const state = (i: number): DeviceState => ({
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
const reading = (i: number): Reading => ({
  v: 1,
  ts: new Date(t0 + i).toISOString(),
  seq: i,
  values: { CO: i % 50 },
  status: 'ok',
});

describe('device registry file', () => {
  it('reads back every device as it was, across more than one written piece', () => {
    const path = join(tmp.dir, 'devices.json');
    const devices = createDeviceRegistry();
    // ~20 000 devices: several 1 MB pieces.
    for (let i = 0; i < 20_000; i++) {
      devices.observeState(`gw-${i % 4}`, `d${i}`, state(i));
      devices.observeReading(`gw-${i % 4}`, `d${i}`, reading(i), t0 + i, t0 + i + 50);
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
    devices.observeState('gw-0', 'a', state(0));
    const file = createRegistryFile({ path, devices, logger });
    file.stop();
    const before = readFileSync(path, 'utf8');
    file.stop(); // nothing changed: the file stays as it is
    expect(readFileSync(path, 'utf8')).toBe(before);

    devices.observeReading('gw-0', 'a', reading(7), t0 + 7, t0 + 60);
    file.stop();
    const after = JSON.parse(readFileSync(path, 'utf8')) as { devices: { lastReading: Reading | null }[] };
    expect(after.devices[0]?.lastReading?.seq).toBe(7);
  });
});
