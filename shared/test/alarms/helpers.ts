import type { AlarmProfileId, AlarmSample, RuleEvent, RuleOptions, RuleSet } from '../../src/index.js';
import { createRuleSet } from '../../src/index.js';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
/** Simulated event time starts here (2026-11-23T00:00:00Z), far from 0 so no code relies on ts = 0. */
export const T0 = Date.UTC(2026, 10, 23);

/** Deep-freezes an object graph so any mutation of a rule set's input state throws. */
export function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

export interface Run<S> {
  state: S;
  events: RuleEvent[];
}

/** Feeds samples in order, collecting every event; freezes each state first to prove purity. */
export function feed<S>(rs: RuleSet<S>, samples: Iterable<AlarmSample>, state: S = rs.initial()): Run<S> {
  const events: RuleEvent[] = [];
  let s = state;
  for (const sample of samples) {
    const r = rs.step(deepFreeze(s), sample);
    events.push(...r.events);
    s = r.state;
  }
  return { state: s, events };
}

/** Constant CO from T0 on, one sample every `everyMs`, for `durationMs` (inclusive). */
export function* constant(
  ppm: number,
  everyMs: number,
  durationMs: number,
  gas: 'CO' = gas0(),
): Generator<AlarmSample> {
  const n = Math.floor(durationMs / everyMs);
  for (let i = 0; i <= n; i++) yield { ts: T0 + i * everyMs, values: { [gas]: ppm }, status: 'ok' };
}
function gas0(): 'CO' {
  return 'CO';
}

/**
 * Time (ms after T0) of the first 'raised' event of a constant CO exposure, or null within the
 * duration. Stops at the first raise, so hours of 1-s samples stay cheap. Does not freeze states.
 */
export function firstRaise(
  profile: AlarmProfileId,
  ppm: number,
  everyMs: number,
  durationMs: number,
  options?: RuleOptions,
): { t: number; key: string; message: string } | null {
  const rs = createRuleSet(profile, options);
  let s = rs.initial();
  for (const sample of constant(ppm, everyMs, durationMs)) {
    const r = rs.step(s, sample);
    s = r.state;
    const e = r.events.find((x) => x.type === 'raised');
    if (e) return { t: e.ts - T0, key: e.condition.key, message: e.condition.message };
  }
  return null;
}

export const SAMPLING_MS = [1_000, 10_000, 60_000] as const;
