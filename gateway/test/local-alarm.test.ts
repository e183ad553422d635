/**
 * Local safety with the uplink down: a CO alarm on a gaswatch-lel detector closes the valve coil,
 * starts the fan and the sounder; `silence` turns the sounder off and never reopens the valve; when
 * the alarm clears the valve stays closed. Runs on scenario time (60× the wall clock) because the
 * EN 50291 fast tier needs 300 ppm for 2 minutes.
 */
import { createDevice } from '@gaswatch/firmware-sim';
import type { DeviceEvent } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway.js';
import { scaledClock } from './helpers/clock.js';
import { startOfflineGateway } from './helpers/offline-gateway.js';

describe('local alarm on a gaswatch-lel detector, uplink down', () => {
  const sim = createDevice({ id: 'lel1', profile: 'gaswatch-lel', unit: 3 });
  let rig: Awaited<ReturnType<typeof startOfflineGateway>> | undefined;
  let gateway: Gateway;
  const events: DeviceEvent[] = [];

  beforeAll(async () => {
    rig = await startOfflineGateway({
      sim,
      device: { id: 'lel1', unit: 3, profile: 'gaswatch-lel', pollIntervalS: 5, location: 'kitchen' },
      busId: 'kitchen-tcp',
      clock: scaledClock(60),
      wire: (g) => g.on('event', (_d, e) => events.push(e)),
    });
    gateway = rig.gateway;
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('clean air: no alarm, all outputs off', async () => {
    sim.setConcentration('CO', 0);
    sim.setConcentration('LEL', 0);
    await waitFor(() => (gateway.devices.get('lel1')?.readings ?? 0) >= 3, 'readings', 10_000);
    expect(gateway.uplink.connected).toBe(false);
    expect(sim.coils()).toEqual({ sounder: false, valve: false, fan: false });
    expect(events).toEqual([]);
  });

  it('400 ppm CO raises the local alarm and closes the valve with no uplink', async () => {
    sim.setConcentration('CO', 400);
    // The interlock event follows the last coil write (sounder, valve, fan).
    await waitFor(() => events.some((e) => e.type === 'interlock'), 'outputs switched', 20_000);
    expect(sim.coils()).toEqual({ sounder: true, valve: true, fan: true });
    expect(gateway.uplink.connected).toBe(false);
    const raised = events.find((e) => e.type === 'alarm_raised');
    expect(raised).toMatchObject({ gas: 'CO', severity: 'critical' });
    expect(events.find((e) => e.type === 'interlock')?.outputs).toEqual({
      sounder: true,
      valve: true,
      fan: true,
    });
    // The events wait in the outbox for the uplink, ahead of the readings.
    const first = await gateway.outbox.take();
    expect(first?.topic).toBe('gaswatch/v1/gw-test/lel1/event');
    gateway.outbox.release(first!);
  });

  it('silence turns the sounder off and leaves the valve closed', async () => {
    const r = await gateway.handleCommand({ v: 1, id: 'c1', type: 'silence', device: 'lel1' });
    expect(r.ok).toBe(true);
    expect(sim.coils()).toEqual({ sounder: false, valve: true, fan: true });
    expect(events.some((e) => e.type === 'silenced')).toBe(true);
    // Still in alarm: later polls must not turn the silenced sounder back on.
    const n = gateway.devices.get('lel1')!.readings;
    await waitFor(() => gateway.devices.get('lel1')!.readings >= n + 3, 'more polls', 10_000);
    expect(sim.coils().sounder).toBe(false);
  });

  it('when the gas is gone the alarm clears but the valve stays closed', async () => {
    sim.setConcentration('CO', 0);
    await waitFor(() => events.some((e) => e.type === 'alarm_cleared'), 'alarm cleared', 20_000);
    const n = gateway.devices.get('lel1')!.readings;
    await waitFor(() => gateway.devices.get('lel1')!.readings >= n + 2, 'more polls', 10_000);
    expect(sim.coils().valve).toBe(true);
    expect(sim.coils().sounder).toBe(false);
  });

  it('a silence command for an unknown device is refused with a reason', async () => {
    expect(await gateway.handleCommand({ v: 1, id: 'c2', type: 'silence', device: 'nope' })).toEqual({
      ok: false,
      message: 'no device "nope" on this gateway',
    });
  });
});
