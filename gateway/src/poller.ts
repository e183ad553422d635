/**
 * The poll scheduler of one bus: each detector on its own interval, one read at a time (the
 * driver serialises anyway). A detector that keeps failing is marked offline and then polled only
 * every `offlinePollS`, so its timeouts cost the others nothing.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { BusConfig } from './config.js';
import type { Driver, DriverDevice } from './drivers/index.js';
import type { Sample } from './sample.js';

export interface PolledDevice extends DriverDevice {
  /** Consecutive failed polls. */
  failures: number;
  /** Next poll time (clock ms). */
  due: number;
}

export interface PollerHooks {
  onSample(dev: PolledDevice, sample: Sample): void | Promise<void>;
  onFailure(dev: PolledDevice, err: Error): void | Promise<void>;
}

export interface Poller {
  start(): void;
  stop(): Promise<void>;
  /** Polls every detector as soon as possible (after a reopened port). */
  pollAllNow(): void;
  /**
   * How long the poll under way has been running (ms, monotonic), 0 while the loop waits for the next
   * due detector, Infinity once the loop has crashed: the systemd watchdog's view of this bus.
   */
  busyMs(): number;
}

export function createPoller(opts: {
  bus: BusConfig;
  driver: Driver;
  devices: PolledDevice[];
  clock: Clock;
  logger: Logger;
  hooks: PollerHooks;
  isOffline: (dev: PolledDevice) => boolean;
}): Poller {
  const { bus, driver, devices, clock, hooks } = opts;
  let running = false;
  let timer: unknown;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  /** Monotonic time the poll under way started (a wall clock step must not look stuck); undefined while waiting. */
  let busySince: number | undefined;
  let crashed = false;
  const elapsedBase = () => clock.monotonic?.() ?? clock.now();

  function sleepUntil(t: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (timer !== undefined) clock.clearTimeout(timer);
        timer = undefined;
        wake = undefined;
        resolve();
      };
      wake = done;
      timer = clock.setTimeout(done, Math.max(0, t - clock.now()));
    });
  }

  async function run(): Promise<void> {
    const start = clock.now();
    // All due at once: detectors with the same interval are then polled back to back, in config
    // order, from one wake-up (the bus serialises them anyway), and their readings share one
    // group commit and one MQTT write. Spread 5 ms apart, each poll was a timer and a wake-up
    // of its own (docs/gateway.md "CPU per reading").
    devices.forEach((d) => {
      d.due = start;
    });
    while (running) {
      // A clock stepped backwards leaves due times far in the future: polling (and local safety)
      // would stop for as long as the step. Nothing is ever due later than its longest wait.
      // Indexed loops: under --lite-mode a for-of allocates an iterator result per element, and
      // this runs for every poll (docs/gateway.md "CPU per reading").
      const nowMs = clock.now();
      let next: PolledDevice | undefined;
      for (let i = 0; i < devices.length; i++) {
        const d = devices[i]!;
        const longest = Math.max(d.config.pollIntervalS, bus.offlinePollS) * 1000;
        if (d.due > nowMs + longest) d.due = nowMs + d.config.pollIntervalS * 1000;
        if (!next || d.due < next.due) next = d;
      }
      if (!next) return;
      if (next.due > clock.now()) {
        await sleepUntil(next.due);
        continue;
      }
      const dev = next;
      const scheduled = dev.due;
      busySince = elapsedBase();
      let sample: Sample | undefined;
      let failure: Error | undefined;
      try {
        sample = await driver.read(dev);
        dev.failures = 0;
      } catch (err) {
        dev.failures++;
        failure = err as Error;
      }
      try {
        if (sample) await hooks.onSample(dev, sample);
        else await hooks.onFailure(dev, failure!);
      } catch (err) {
        dev.log.error({ err }, 'handling a poll result failed');
      }
      busySince = undefined;
      const now = clock.now();
      if (opts.isOffline(dev)) dev.due = now + bus.offlinePollS * 1000;
      else {
        const interval = dev.config.pollIntervalS * 1000;
        dev.due = scheduled + interval;
        // Fell more than one interval behind (bus overloaded, clock jump): start afresh from now.
        if (dev.due < now - interval || dev.due > now + interval) dev.due = now + interval;
      }
    }
  }

  return {
    start() {
      running = true;
      crashed = false;
      loop = run().catch((err) => {
        crashed = true;
        opts.logger.fatal({ err }, 'poll loop crashed');
      });
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
    pollAllNow() {
      const now = clock.now();
      for (const d of devices) d.due = Math.min(d.due, now);
      wake?.();
    },
    busyMs() {
      if (crashed) return Number.POSITIVE_INFINITY;
      return busySince === undefined ? 0 : Math.max(0, elapsedBase() - busySince);
    },
  };
}
