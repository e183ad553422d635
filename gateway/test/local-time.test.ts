/**
 * Local alarms run on a monotonic time base: a Pi whose clock steps backwards (no RTC, NTP late,
 * someone fixing the date) keeps accumulating dose and on-delays at the rate time really passes,
 * and a forward step does not fast-forward them. Unit level with an injected clock (scenario time),
 * and end to end through a gateway polling a firmware-sim gaswatch-lel whose clock is stepped back
 * an hour mid-run.
 */
import { createDevice } from '@gaswatch/firmware-sim';
import { builtinProfile, type DeviceEvent } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import type { GatewayConfig } from '../src/config.js';
import type { Driver, DriverDevice } from '../src/drivers/index.js';
import { createLocalAlarm, createRuleTime } from '../src/local-alarms.js';
import type { Sample } from '../src/sample.js';
import { testLogger } from './helpers/log.js';
import { startOfflineGateway } from './helpers/offline-gateway.js';

const T = Date.parse('2026-11-23T12:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

/** A scenario clock the test drives: wall time can be stepped, monotonic time only advances. */
function scenarioClock() {
  let wall = T;
  let mono = 1_000;
  const clock: Clock = {
    now: () => wall,
    monotonic: () => mono,
    setTimeout: () => undefined,
    clearTimeout: () => {},
  };
  return {
    clock,
    /** Time really passes. */
    advance(ms: number) {
      wall += ms;
      mono += ms;
    },
    /** The wall clock is set: nothing really elapses. */
    stepWall(ms: number) {
      wall += ms;
    },
  };
}

const silentLog = testLogger();

/** A local alarm on a gaswatch-co detector (EN 50291) whose coil writes always work. */
function coAlarm(clock?: Clock) {
  const events: DeviceEvent[] = [];
  const device = {
    config: { id: 'co', outputs: true, pollIntervalS: 10 },
    profile: builtinProfile('gaswatch-co'),
    log: silentLog,
  } as unknown as DriverDevice;
  const driver = { writeCoil: async () => {} } as unknown as Driver;
  const config = { alarms: { coStandard: 'en50291', siteType: 'workplace' } } as GatewayConfig;
  const alarm = createLocalAlarm({
    config,
    driver,
    device,
    emit: (e) => events.push({ v: 1, ...e }),
    ...(clock ? { clock } : {}),
  });
  return { alarm, events };
}

const co = (ts: number, ppm: number): Sample => ({ ts, values: { CO: ppm }, status: 'ok' });

/**
 * Clean air, then CO at `ppm` sampled every 10 s of real time for up to `maxS`; the wall clock is
 * stepped by `stepMs` just before the exposure, or `stepAtS` seconds into it. Returns the real
 * seconds of exposure until the local alarm, or null.
 */
async function exposure(opts: {
  stepMs: number;
  stepAtS?: number;
  ppm: number;
  maxS: number;
  monotonic: boolean;
}) {
  const sc = scenarioClock();
  const { alarm, events } = coAlarm(opts.monotonic ? sc.clock : undefined);
  await alarm.onSample(co(sc.clock.now(), 0));
  sc.advance(10_000);
  for (let s = 0; s <= opts.maxS; s += 10) {
    if (s === (opts.stepAtS ?? 0)) sc.stepWall(opts.stepMs);
    await alarm.onSample(co(sc.clock.now(), opts.ppm));
    if (alarm.active.length) {
      const raised = events.find((e) => e.type === 'alarm_raised');
      // The event carries the gateway's wall time of that sample, stepped or not.
      expect(raised?.ts).toBe(new Date(sc.clock.now()).toISOString());
      return { s, rule: raised?.rule };
    }
    sc.advance(10_000);
  }
  return null;
}

describe('local alarm time base', () => {
  for (const monotonic of [true, false]) {
    const base = monotonic ? 'clock.monotonic()' : 'sample times (no monotonic clock)';
    it(`a clock stepped back 60 min does not stop the alarm (400 ppm: fast tier at 120 s) — ${base}`, async () => {
      const steady = await exposure({ stepMs: 0, ppm: 400, maxS: 30 * 60, monotonic });
      expect(steady).toEqual({ s: 120, rule: 'en50291-fast' });
      expect(await exposure({ stepMs: -HOUR, ppm: 400, maxS: 30 * 60, monotonic })).toEqual(steady);
    });

    it(`a clock stepped back 60 min does not slow the dose (100 ppm: 23 min) — ${base}`, async () => {
      const steady = await exposure({ stepMs: 0, ppm: 100, maxS: 40 * 60, monotonic });
      expect(steady).toEqual({ s: 23 * 60, rule: 'en50291-slow' });
      expect(await exposure({ stepMs: -HOUR, ppm: 100, maxS: 40 * 60, monotonic })).toEqual(steady);
    });
  }

  it('with clock.monotonic() a forward step of the wall clock does not fast-forward on-delay or dose', async () => {
    // 9 min forward while the on-delay runs (30 s in) and while the dose builds (5 min in).
    const fast = { stepMs: 9 * MIN, stepAtS: 30, ppm: 400, maxS: 30 * 60 };
    const dose = { stepMs: 9 * MIN, stepAtS: 300, ppm: 100, maxS: 40 * 60 };
    expect(await exposure({ ...fast, monotonic: true })).toEqual({ s: 120, rule: 'en50291-fast' });
    expect(await exposure({ ...dose, monotonic: true })).toEqual({ s: 23 * 60, rule: 'en50291-slow' });
    // On sample times alone the step would count as elapsed (why the gateway's clock has monotonic()).
    expect((await exposure({ ...fast, monotonic: false }))?.s).toBe(30);
    expect((await exposure({ ...dose, monotonic: false }))!.s).toBeLessThan(23 * 60);
  });

  it('rule time is strictly increasing, starts at the first wall time and follows the time base', () => {
    let mono = 500;
    const withMono = createRuleTime(() => mono, 5_000);
    expect(withMono(T)).toBe(T);
    mono += 5_000;
    expect(withMono(T - HOUR)).toBe(T + 5_000); // wall stepped back: monotonic decides
    expect(withMono(T - HOUR)).toBe(T + 5_001); // no time passed: still strictly increasing
    mono += 2_000.4;
    expect(withMono(T + 2 * HOUR)).toBe(T + 7_000); // wall stepped forward: monotonic decides
    const derived = createRuleTime(undefined, 5_000);
    expect(derived(T)).toBe(T);
    expect(derived(T + 5_000)).toBe(T + 5_000);
    expect(derived(T - HOUR)).toBe(T + 10_000); // backwards: one poll interval
    expect(derived(T - HOUR + 5_000)).toBe(T + 15_000); // then the steps of the new wall time
    expect(derived(T - HOUR + 5_000)).toBe(T + 15_001);
  });
});

describe('gateway polling a gaswatch-lel whose clock steps back 60 min', () => {
  const sim = createDevice({ id: 'lel-t', profile: 'gaswatch-lel', unit: 4 });
  let rig: Awaited<ReturnType<typeof startOfflineGateway>> | undefined;
  const events: DeviceEvent[] = [];
  const samples: Sample[] = [];
  // Scenario time 60× the wall clock; `offset` is where the operator set the clock.
  const t0 = Date.now();
  let offset = 0;
  const clock: Clock = {
    now: () => t0 + offset + (Date.now() - t0) * 60,
    setTimeout: (fn, ms) => setTimeout(fn, ms / 60),
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };

  beforeAll(async () => {
    rig = await startOfflineGateway({
      sim,
      device: { id: 'lel-t', unit: 4, profile: 'gaswatch-lel', pollIntervalS: 5, location: 'kitchen' },
      clock,
      wire: (g) => {
        g.on('event', (_d, e) => events.push(e));
        g.on('reading', (_d, s) => samples.push(s));
      },
    });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('400 ppm CO after the step raises the fast tier 2 min (scenario time) later and closes the valve', async () => {
    sim.setConcentration('CO', 0);
    await waitFor(() => samples.length >= 3, 'clean-air readings', 10_000);
    offset -= HOUR;
    const n = samples.length;
    await waitFor(() => samples.length >= n + 2, 'readings after the step', 10_000);
    sim.setConcentration('CO', 400);
    await waitFor(
      () => events.some((e) => e.type === 'interlock'),
      'outputs switched by the local alarm',
      20_000,
    );
    const raised = events.find((e) => e.type === 'alarm_raised');
    expect(raised).toMatchObject({ gas: 'CO', rule: 'en50291-fast', severity: 'critical' });
    const first = samples.find((s) => (s.values.CO ?? 0) >= 400);
    expect(first, 'a 400 ppm sample').toBeDefined();
    // Samples and the event are on the stepped-back clock: at least the 2-min on-delay after the
    // first 400 ppm sample (never fast-forwarded), and not stuck (the old code needed 120 000 samples).
    const heldMs = Date.parse(raised!.ts) - first!.ts;
    expect(first!.ts).toBeLessThan(t0);
    expect(heldMs).toBeGreaterThanOrEqual(120_000);
    expect(heldMs).toBeLessThan(10 * MIN);
    expect(sim.coils()).toEqual({ sounder: true, valve: true, fan: true });
  });
});
