/**
 * A valve-close (or fan-on) write that fails is retried until it goes through, even when the alarm
 * has cleared in the meantime: clearing only switches the sounder off. Against a firmware-sim
 * gaswatch-lel over Modbus TCP whose valve coil refuses writes (exception 4, a stuck relay driver),
 * uplink down.
 */
import { createDevice } from '@gaswatch/firmware-sim';
import { builtinProfile, type DeviceEvent } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaledClock } from './helpers/clock.js';
import { startOfflineGateway } from './helpers/offline-gateway.js';

const profile = builtinProfile('gaswatch-lel');
const coilOf = (name: string) => {
  if (profile.transport !== 'modbus') throw new Error('gaswatch-lel is a Modbus profile');
  const o = profile.outputs.find((x) => x.name === name);
  if (!o) throw new Error(`gaswatch-lel has no ${name} output`);
  return o.coil;
};

describe('local outputs: a failed valve or fan write survives the alarm clearing', () => {
  const sim = createDevice({ id: 'lel-o', profile: 'gaswatch-lel', unit: 5 });
  let rig: Awaited<ReturnType<typeof startOfflineGateway>> | undefined;
  const events: DeviceEvent[] = [];
  let readings = 0;

  beforeAll(async () => {
    sim.setConcentration('LEL', 0);
    sim.setConcentration('CO', 0);
    rig = await startOfflineGateway({
      sim,
      device: { id: 'lel-o', unit: 5, profile: 'gaswatch-lel', pollIntervalS: 1, location: 'kitchen' },
      clock: scaledClock(10),
      wire: (g) => {
        g.on('event', (_d, e) => events.push(e));
        g.on('reading', () => {
          readings++;
        });
      },
    });
    await waitFor(() => readings >= 2, 'clean-air readings', 10_000);
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('LEL 30 % with the valve coil failing: sounder and fan on, valve still open, retried after the clear', async () => {
    expect(sim.coils()).toEqual({ sounder: false, valve: false, fan: false });
    sim.setCoilWriteFailures(coilOf('valve')); // every write fails until released
    sim.setConcentration('LEL', 30); // ≥ 25 %LEL: first alarm (combustible)
    await waitFor(() => sim.coils().fan === true, 'fan on', 10_000);
    expect(sim.coils()).toEqual({ sounder: true, valve: false, fan: true });
    expect(events.find((e) => e.type === 'alarm_raised')).toMatchObject({ gas: 'LEL' });

    // The gas falls below the clear level (22.5 %LEL) while the valve write still fails.
    sim.setConcentration('LEL', 20);
    await waitFor(() => events.some((e) => e.type === 'alarm_cleared'), 'alarm cleared', 10_000);
    await waitFor(() => sim.coils().sounder === false, 'sounder off', 10_000);
    const n = readings;
    await waitFor(() => readings >= n + 3, 'more polls after the clear', 10_000);
    expect(sim.coils().valve).toBe(false); // still failing

    // The relay driver recovers: the pending valve close goes through although the alarm is over.
    sim.setCoilWriteFailures(coilOf('valve'), 0);
    await waitFor(() => sim.coils().valve === true, 'valve closed after the clear', 10_000);
    expect(sim.coils()).toEqual({ sounder: false, valve: true, fan: true });
    const lastInterlock = () => events.filter((e) => e.type === 'interlock').at(-1);
    await waitFor(() => lastInterlock()?.outputs?.valve === true, 'interlock event for the valve', 10_000);
    const last = lastInterlock();
    expect(last?.outputs).toEqual({ valve: true });
    expect(last?.message).toMatch(/cleared; still switching valve/);
    // Done once: later polls write nothing more.
    const interlocks = events.filter((e) => e.type === 'interlock').length;
    const m = readings;
    await waitFor(() => readings >= m + 3, 'more polls', 10_000);
    expect(events.filter((e) => e.type === 'interlock').length).toBe(interlocks);
  });

  it('valve and fan writes that fail once are retried; the gas gone at once does not drop them', async () => {
    // Reset on site: valve open, fan off.
    sim.writeCoil(coilOf('valve'), false);
    sim.writeCoil(coilOf('fan'), false);
    const before = events.length;
    sim.setCoilWriteFailures(coilOf('valve'), 1);
    sim.setCoilWriteFailures(coilOf('fan'), 1);
    sim.setConcentration('LEL', 30);
    await waitFor(() => events.slice(before).some((e) => e.type === 'alarm_raised'), 'raised', 10_000);
    sim.setConcentration('LEL', 0);
    await waitFor(
      () => sim.coils().valve === true && sim.coils().fan === true,
      'valve and fan switched',
      10_000,
    );
    await waitFor(() => events.slice(before).some((e) => e.type === 'alarm_cleared'), 'cleared', 10_000);
    await waitFor(() => sim.coils().sounder === false, 'sounder off', 10_000);
    expect(sim.coils()).toEqual({ sounder: false, valve: true, fan: true });
  });
});
