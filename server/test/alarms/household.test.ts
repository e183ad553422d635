import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_SITE, writeDemoServerConfig } from '@gaswatch/firmware-sim/system';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { accepted, deviceState, feed, MIN, makeRig, type Rig, series, T0 } from './helpers.js';

/**
 * SPEC §6: a combustible detector's first alarm is 25 %LEL (GB/T 50493-2019), 10 %LEL in a home
 * (GB 15322). A site says it is a home with `type: household`.
 */
describe('alarm engine: combustible detectors on household and workplace sites', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  const config = {
    sites: {
      'flat-9': { type: 'household' },
      'boiler-house': { type: 'workplace' },
      'flat-15': {
        type: 'household',
        alarms: { combustible: { options: { thresholds: { 'LEL:low': 15 } } } },
      },
    },
  };

  it('12 %LEL raises the first alarm (10 %LEL) in a household, not on a workplace site', async () => {
    rig = await makeRig(config);
    const home = deviceState('combustible', 'flat-9');
    const plant = deviceState('combustible', 'boiler-house');
    await feed(rig.store, rig.bus, [
      ...series('gw', 'kitchen-lel', home, T0, T0 + 3 * MIN, 10, { LEL: 12 }),
      ...series('gw', 'boiler-lel', plant, T0, T0 + 3 * MIN, 10, { LEL: 12 }),
    ]);
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'kitchen-lel' })).toMatchObject([
      {
        key: 'LEL:low',
        severity: 'warning',
        threshold: 10,
        state: 'active',
        raisedAt: T0,
        message: 'LEL 12 %LEL ≥ 10 %LEL (GB 15322 household first alarm)',
      },
    ]);
    expect(rig.engine.list({ dev: 'boiler-lel' })).toEqual([]);

    // The workplace detector is watched all the same: its first alarm is at 25 %LEL.
    await feed(rig.store, rig.bus, [accepted('gw', 'boiler-lel', plant, T0 + 3 * MIN, 18, { LEL: 26 })]);
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'boiler-lel' })).toMatchObject([{ key: 'LEL:low', threshold: 25 }]);
  });

  it('the second alarm stays at 50 %LEL in a household, and a site override of the first alarm wins', async () => {
    rig = await makeRig(config);
    const home = deviceState('combustible', 'flat-9');
    const other = deviceState('combustible', 'flat-15');
    await feed(rig.store, rig.bus, [
      ...series('gw', 'kitchen-lel', home, T0, T0 + MIN, 10, { LEL: 49 }),
      ...series('gw', 'hall-lel', other, T0, T0 + MIN, 10, { LEL: 12 }),
    ]);
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'kitchen-lel' }).map((a) => [a.key, a.threshold])).toEqual([
      ['LEL:low', 10],
    ]);
    expect(rig.engine.list({ dev: 'hall-lel' })).toEqual([]);
    await feed(rig.store, rig.bus, [
      accepted('gw', 'kitchen-lel', home, T0 + MIN, 6, { LEL: 50 }),
      accepted('gw', 'hall-lel', other, T0 + MIN, 6, { LEL: 15 }),
    ]);
    await rig.engine.idle();
    expect(
      rig.engine
        .list({ dev: 'kitchen-lel' })
        .map((a) => [a.key, a.threshold])
        .sort(),
    ).toEqual([
      ['LEL:high', 50],
      ['LEL:low', 10],
    ]);
    expect(rig.engine.list({ dev: 'hall-lel' }).map((a) => [a.key, a.threshold])).toEqual([['LEL:low', 15]]);
  });

  it('a detector whose readings came before its DeviceState takes the household first alarm once the site is known', async () => {
    rig = await makeRig(config);
    // No DeviceState yet: its kind is inferred from the LEL channel, its site is unknown (workplace).
    await feed(rig.store, rig.bus, series('gw', 'new-lel', null, T0, T0 + MIN, 10, { LEL: 12 }));
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'new-lel' })).toEqual([]);
    const home = deviceState('combustible', 'flat-9');
    await feed(rig.store, rig.bus, series('gw', 'new-lel', home, T0 + MIN, T0 + 2 * MIN, 10, { LEL: 12 }, 6));
    await rig.engine.idle();
    expect(rig.engine.list({ dev: 'new-lel' }).map((a) => [a.key, a.threshold])).toEqual([['LEL:low', 10]]);
  });

  it("the one-box demo's site is a household: its kitchen detector alarms at 12 %LEL", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-demo-config-'));
    try {
      const { gaswatch } = loadConfig({ GASWATCH_CONFIG: writeDemoServerConfig(dir) });
      rig = await makeRig(gaswatch);
      const kitchen = deviceState('combustible', DEMO_SITE);
      await feed(
        rig.store,
        rig.bus,
        series('one-box', 'kitchen-lel', kitchen, T0, T0 + MIN, 10, { LEL: 12 }),
      );
      await rig.engine.idle();
      expect(rig.engine.list({ dev: 'kitchen-lel' }).map((a) => [a.key, a.threshold])).toEqual([
        ['LEL:low', 10],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
