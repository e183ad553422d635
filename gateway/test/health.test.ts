/**
 * What the systemd watchdog reads: a poll loop stuck in a read that never ends (a driver bug, a
 * wedged adapter) stops the pings once it has run longer than any poll can, so systemd restarts
 * the gateway; an idle loop, however long its detectors' intervals, and a bus waiting for its
 * adapter are healthy. Real pollers on a clock the test moves; the monotonic time moves with it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import { type BusConfig, BusConfigSchema } from '../src/config.js';
import type { Driver } from '../src/drivers/index.js';
import { checkHealth, pollHangMs } from '../src/health.js';
import { createPoller, type PolledDevice, type Poller } from '../src/poller.js';
import { driverDevice } from './helpers/devices.js';
import { testLogger } from './helpers/log.js';

function clockAt(start = 1_700_000_000_000) {
  let now = start;
  const clock: Clock & { advance(ms: number): void } = {
    now: () => now,
    monotonic: () => now - start,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    advance(ms) {
      now += ms;
    },
  };
  return clock;
}

const bus = BusConfigSchema.parse({
  id: 'rs485-0',
  type: 'modbus-rtu',
  path: '/dev/serial/by-id/usb-FTDI-if00-port0',
  timeoutMs: 300,
  retries: 1,
  devices: [{ id: 'co1', unit: 1, profile: 'gaswatch-co', pollIntervalS: 3600, site: 's', location: 'l' }],
}) as BusConfig;

/** A driver whose reads never answer (open or not, as the test says). */
const hangingDriver = (open: boolean): Driver => ({
  open,
  start: async () => {},
  stop: async () => {},
  read: () => new Promise(() => {}),
  writeCoil: async () => {},
  readCoils: async () => [],
});

const pollers: Poller[] = [];
afterEach(() => {
  for (const p of pollers.splice(0)) void p.stop();
});

function slotWith(driver: Driver, clock: Clock) {
  const device: PolledDevice = { ...driverDevice('co1', 1, 'gaswatch-co'), failures: 0, due: 0 };
  const poller = createPoller({
    bus,
    driver,
    devices: [device],
    clock,
    logger: testLogger(),
    isOffline: () => false,
    hooks: { onSample: () => {}, onFailure: () => {} },
  });
  pollers.push(poller);
  return { bus, driver, poller, devices: [], log: testLogger() };
}

const parts = (slot: ReturnType<typeof slotWith>) => ({
  slots: [slot],
  devices: [],
  uplink: { connected: true },
  outbox: { depth: 0 },
});

describe('gateway health', () => {
  it('stays healthy while a poll takes what it may, and turns unhealthy when one hangs past that', async () => {
    const clock = clockAt();
    const slot = slotWith(hangingDriver(true), clock);
    slot.poller.start();
    await new Promise((r) => setImmediate(r)); // the first read is under way (and never returns)
    expect(pollHangMs(bus)).toBe(2 * 300 * 2 + 60_000);
    clock.advance(pollHangMs(bus));
    expect(checkHealth(parts(slot))).toMatchObject({ ok: true });
    clock.advance(1000);
    const h = checkHealth(parts(slot));
    expect(h.ok).toBe(false);
    expect(h.problem).toBe('poll loop of bus rs485-0 stuck for 62 s');
    expect(h.summary).toContain('poll loop of bus rs485-0 stuck');
  });

  it('is healthy with an idle loop and a bus waiting for its adapter, and says which', () => {
    const clock = clockAt();
    const slot = slotWith(hangingDriver(false), clock); // not started: idle, as between polls
    clock.advance(24 * 3600 * 1000);
    expect(checkHealth(parts(slot))).toEqual({
      ok: true,
      summary:
        'bus rs485-0 waiting for /dev/serial/by-id/usb-FTDI-if00-port0; 0/0 detectors answering; uplink connected; outbox 0',
    });
  });
});
