import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmTransition } from '../../src/bus.js';
import { accepted, deviceState, feed, MIN, makeRig, manualTime, type Rig, series, T0 } from './helpers.js';

/**
 * The engine listens on core's bus; ingest emits synchronously, so a throw in an alarms listener
 * would skip every listener after it (the live WebSocket) and, from a timer, crash the process.
 * Site ids are free text from the gateway (DeviceState.site): names of Object.prototype members
 * must be plain unknown sites, never a lookup into the prototype.
 */
describe('alarm engine: hostile names and listener safety', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  for (const site of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    it(`a device whose site is "${site}" still alarms, and nothing throws into the bus or the offline sweep`, async () => {
      const time = manualTime(T0);
      rig = await makeRig({}, { clock: time.clock, timers: time.timers });
      const st = deviceState('household-co', site);
      const seen: AlarmTransition[] = [];
      let after = 0;
      rig.bus.on('alarm', (t) => seen.push(t));
      // A listener registered after the engine's: it must see every reading.
      rig.bus.on('reading', () => after++);
      rig.bus.on('deviceState', () => after++);

      expect(() =>
        rig?.bus.emit('deviceState', {
          gw: 'gw-h',
          dev: 'co-h',
          state: st,
          device: { gw: 'gw-h', dev: 'co-h', state: st, lastSeen: null },
        }),
      ).not.toThrow();
      // 300 ppm held 2 min: EN 50291 fast tier (the default household standard).
      const readings = series('gw-h', 'co-h', st, T0, T0 + 5 * MIN, 10, { CO: 300 });
      await feed(rig.store, rig.bus, readings);
      await rig.engine.idle();
      expect(after).toBe(1 + readings.length);
      const open = rig.engine.list({ state: 'open', dev: 'co-h' });
      expect(open.map((a) => a.key)).toContain('CO:fast');

      // Silence: the wall-clock offline sweep raises offline for the device (and must not throw).
      expect(() => time.advance(7 * MIN)).not.toThrow();
      await rig.engine.idle();
      expect(rig.engine.list({ state: 'open', dev: 'co-h' }).map((a) => a.key)).toContain('offline');
      // The sweep keeps running: a second device going silent later is still noticed.
      await feed(rig.store, rig.bus, [accepted('gw-h', 'co-h2', null, T0 + 8 * MIN, 0, { CO: 0 })]);
      await rig.engine.idle();
      expect(() => time.advance(3 * MIN)).not.toThrow();
      expect(rig.engine.list({ state: 'open', dev: 'co-h2' }).map((a) => a.key)).toEqual(['offline']);
      // Gateway will for that gateway: no throw into the emitter either.
      expect(() =>
        rig?.bus.emit('gatewayStatus', { gw: 'gw-h', status: { v: 1, online: false } }),
      ).not.toThrow();
      expect(seen.some((t) => t.type === 'raised' && t.key === 'CO:fast')).toBe(true);
    });
  }

  it('a malformed bus event is logged and counted, never thrown into the emitter', async () => {
    rig = await makeRig({});
    let after = 0;
    rig.bus.on('reading', () => after++);
    const bad = accepted('gw-x', 'co-x', null, T0, 0, { CO: 10 }) as unknown as Record<string, unknown>;
    delete bad.device;
    expect(() => rig?.bus.emit('reading', bad as never)).not.toThrow();
    expect(after).toBe(1);
    expect(await rig.registry.getSingleMetricAsString('gaswatch_alarm_readings_skipped_total')).toMatch(
      /reason="listener_error"} 1/,
    );
  });
});
