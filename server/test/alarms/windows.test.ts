import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceState, feed, MIN, makeRig, type Rig, series, T0 } from './helpers.js';

/**
 * SPEC §6 household CO windows, driven through the ENGINE in event time: each device sees a
 * constant concentration from T0, one reading every 10 s over 6 simulated hours, emitted on the
 * bus as core's ingest does. The wall clock never moves: only the readings' own time counts.
 */
const cases = [
  { dev: 'ul-30', site: 'home-ul', ppm: 30, window: null },
  { dev: 'ul-70', site: 'home-ul', ppm: 70, window: [60, 240] },
  { dev: 'ul-150', site: 'home-ul', ppm: 150, window: [10, 50] },
  { dev: 'ul-400', site: 'home-ul', ppm: 400, window: [4, 15] },
  // EN 50291: 30 ppm must not alarm within 120 min (checked over the whole run: never).
  { dev: 'en-30', site: 'home-en', ppm: 30, window: null },
  { dev: 'en-50', site: 'home-en', ppm: 50, window: [60, 90] },
  { dev: 'en-100', site: 'home-en', ppm: 100, window: [10, 40] },
  { dev: 'en-300', site: 'home-en', ppm: 300, window: [0, 3] },
] as const;

describe('household CO windows through the alarm engine (event time)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await makeRig({
      sites: { 'home-ul': { coStandard: 'ul2034' }, 'home-en': { coStandard: 'en50291' } },
    });
    for (const c of cases) {
      const state = deviceState('household-co', c.site);
      await feed(rig.store, rig.bus, series('gw-1', c.dev, state, T0, T0 + 360 * MIN, 10, { CO: c.ppm }));
    }
    await rig.engine.idle();
  });
  afterAll(async () => {
    await rig?.close();
  });

  for (const c of cases) {
    const label = c.window === null ? 'never alarms' : `alarms within ${c.window[0]}–${c.window[1]} min`;
    it(`${c.site === 'home-ul' ? 'UL 2034' : 'EN 50291'}: ${c.ppm} ppm ${label}`, () => {
      const alarms = rig.engine.list({ dev: c.dev });
      if (c.window === null) {
        expect(alarms).toEqual([]);
        return;
      }
      const first = alarms.reduce((m, a) => (a.raisedAt < m.raisedAt ? a : m));
      const minutes = (first.raisedAt - T0) / MIN;
      expect(minutes).toBeGreaterThanOrEqual(c.window[0]);
      expect(minutes).toBeLessThanOrEqual(c.window[1]);
      expect(first.profile).toBe(c.site === 'home-ul' ? 'ul2034' : 'en50291');
      expect(first.gas).toBe('CO');
      expect(first.state).toBe('active');
      expect(first.late).toBe(false);
      // A constant exposure is one episode: one alarm per condition, never a second one.
      const keys = alarms.map((a) => a.key);
      expect(new Set(keys).size).toBe(keys.length);
    });
  }

  it('uses the dose tier for slow exposures and the fast tier at 300 ppm (EN 50291)', () => {
    expect(rig.engine.list({ dev: 'en-50' }).map((a) => a.key)).toEqual(['CO:dose']);
    expect(rig.engine.list({ dev: 'en-300' }).map((a) => a.key)).toContain('CO:fast');
    expect(rig.engine.list({ dev: 'ul-150' }).map((a) => a.key)).toEqual(['CO:dose']);
  });

  it('announced and stored one raised event per alarm', async () => {
    const events = await rig.records.listAlarmEvents();
    const raised = events.filter((e) => e.data.type === 'raised');
    expect(raised.length).toBe(rig.engine.list({ limit: 1000 }).length);
    expect(new Set(raised.map((e) => e.alarmId)).size).toBe(raised.length);
  });
});

describe('confined-space exposure limits through the engine', () => {
  let rig: Rig;
  afterAll(async () => {
    await rig?.close();
  });

  it('28 ppm CO (32.1 mg/m³ at 25 °C) raises STEL when the 15-min mean reaches 30 mg/m³, not the 35 ppm alarm', async () => {
    rig = await makeRig({});
    const state = deviceState('multigas', 'tank-7');
    await feed(
      rig.store,
      rig.bus,
      series('gw-2', 'fourgas-1', state, T0, T0 + 30 * MIN, 10, { O2: 20.9, LEL: 0, CO: 28, H2S: 0 }),
    );
    await rig.engine.idle();
    const alarms = rig.engine.list({ dev: 'fourgas-1' });
    const stel = alarms.find((a) => a.key === 'CO:stel');
    expect(stel).toBeDefined();
    // Hand-computed: the window mean C·t/15 min reaches 30 at t = 15 × 30 / 32.08 = 14.03 min.
    const minutes = ((stel?.raisedAt ?? 0) - T0) / MIN;
    expect(minutes).toBeGreaterThanOrEqual(13.9);
    expect(minutes).toBeLessThanOrEqual(14.2);
    expect(alarms.find((a) => a.key === 'CO:low')).toBeUndefined();
  });
});
