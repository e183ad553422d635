/**
 * The poll scheduler on simulated time: per-device intervals without drift, and a detector that
 * stops answering is polled only every offlinePollS once offline. The "bus" here is a
 * firmware-sim device read in-process (the wire is covered by the driver contract suite).
 */
import { createDevice, type SimDevice } from '@gaswatch/firmware-sim';
import type { ModbusProfile } from '@gaswatch/shared';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import { ModbusTcpBusSchema } from '../src/config.js';
import type { Driver } from '../src/drivers/index.js';
import { TimeoutError } from '../src/errors.js';
import { decodeSample, planReads, type RegisterImage, storeBlock } from '../src/modbus/profile-reader.js';
import { createPoller, type PolledDevice } from '../src/poller.js';
import { driverDevice } from './helpers/devices.js';
import { testLogger } from './helpers/log.js';

/** A clock whose time moves only in `advance`, running due timers in order. */
function manualClock(start = 1_700_000_000_000) {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const flush = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  const clock: Clock & { advance(ms: number): Promise<void> } = {
    now: () => now,
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(id) {
      timers.delete(id as number);
    },
    async advance(ms) {
      const end = now + ms;
      for (let guard = 0; guard < 100_000; guard++) {
        await flush();
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const t of timers) if (t[1].at <= end && (!next || t[1].at < next[1].at)) next = t;
        if (!next) break;
        timers.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].fn();
      }
      now = end;
      await flush();
    },
  };
  return clock;
}

/** Reads a simulated device in-process; a non-responding one costs `timeoutMs` of clock time. */
function simDriver(
  clock: ReturnType<typeof manualClock>,
  sims: Map<number, SimDevice>,
  timeoutMs: number,
): Driver {
  return {
    open: true,
    start: async () => {},
    stop: async () => {},
    async read(d) {
      const sim = sims.get(d.config.unit)!;
      if (!sim.responding) {
        await new Promise((r) => clock.setTimeout(() => r(undefined), timeoutMs));
        throw new TimeoutError(`unit ${d.config.unit} did not answer`);
      }
      const profile = d.profile as ModbusProfile;
      const image: RegisterImage = new Map();
      for (const b of planReads(profile)) storeBlock(image, b, sim.readRegisters(b.fc, b.address, b.count));
      return decodeSample(profile, image, clock.now());
    },
    writeCoil: async () => {},
    readCoils: async () => [],
  };
}

describe('poll scheduler (simulated time)', () => {
  it('keeps each detector on its own interval, and backs off an offline one', async () => {
    const clock = manualClock();
    const sims = new Map(
      [1, 2, 3].map((u) => [u, createDevice({ id: `d${u}`, profile: 'gaswatch-co', unit: u })]),
    );
    const bus = ModbusTcpBusSchema.parse({
      id: 'b',
      type: 'modbus-tcp',
      host: 'x',
      offlineAfter: 3,
      offlinePollS: 30,
      devices: [{ id: 'd1', unit: 1, profile: 'gaswatch-co', site: 's', location: 'l' }],
    });
    const mk = (u: number, pollIntervalS: number): PolledDevice => ({
      ...driverDevice(`d${u}`, u, 'gaswatch-co', { pollIntervalS }),
      failures: 0,
      due: 0,
    });
    const devices = [mk(1, 1), mk(2, 5), mk(3, 1)];
    const samples = new Map<string, number[]>();
    const failures = new Map<string, number[]>();
    const offline = new Set<string>();
    sims.get(3)!.setResponding(false);
    const poller = createPoller({
      bus,
      driver: simDriver(clock, sims, 300),
      devices,
      clock,
      logger: testLogger(),
      isOffline: (d) => offline.has(d.config.id),
      hooks: {
        onSample: (d, s) => {
          samples.set(d.config.id, [...(samples.get(d.config.id) ?? []), s.ts]);
        },
        onFailure: (d) => {
          failures.set(d.config.id, [...(failures.get(d.config.id) ?? []), clock.now()]);
          if (d.failures >= bus.offlineAfter) offline.add(d.config.id);
        },
      },
    });
    poller.start();
    await clock.advance(120_000);
    await poller.stop();

    const d1 = samples.get('d1')!;
    const d2 = samples.get('d2')!;
    // 120 s at 1 s and at 5 s; the dead detector's 300 ms timeouts do not shift the others' schedule.
    expect(d1.length).toBeGreaterThanOrEqual(119);
    expect(d1.length).toBeLessThanOrEqual(121);
    expect(d2.length).toBeGreaterThanOrEqual(23);
    expect(d2.length).toBeLessThanOrEqual(25);
    const gaps = d1.slice(1).map((t, i) => t - d1[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1_300);
    expect(d1.at(-1)! - d1[0]!).toBeGreaterThanOrEqual(118_000);
    // Dead: 3 failures a second apart, then one poll per 30 s.
    const f3 = failures.get('d3')!;
    expect(samples.get('d3')).toBeUndefined();
    expect(f3.length).toBeGreaterThanOrEqual(6);
    expect(f3.length).toBeLessThanOrEqual(7);
    const later = f3.slice(3).map((t, i) => t - f3[i + 2]!);
    for (const g of later) expect(g).toBeGreaterThanOrEqual(30_000);
  });
});
