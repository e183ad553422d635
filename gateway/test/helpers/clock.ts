import type { Clock } from '../../src/clock.js';

/** Scenario time: runs `factor` times faster than the wall clock, starting now (+ offset). */
export function scaledClock(factor: number, offsetMs = 0): Clock {
  const t0 = Date.now();
  return {
    now: () => t0 + offsetMs + (Date.now() - t0) * factor,
    setTimeout: (fn, ms) => setTimeout(fn, ms / factor),
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };
}
