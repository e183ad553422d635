/**
 * The household CO detector's own alarm. The dose math lives once in @gaswatch/shared (SPEC §6, STYLE
 * "one source of truth"); this file only adapts the shared rule set to the device's sampling loop.
 */
import { createRuleSet } from '@gaswatch/shared';

export type CoStandard = 'ul2034' | 'en50291';
export const CO_STANDARDS: readonly CoStandard[] = ['ul2034', 'en50291'];

/** What the device needs from an alarm curve: feed one sample, learn whether the alarm sounds. */
export interface CoAlarmCurve {
  /** One CO sample (ppm) at scenario time `nowMs` (strictly increasing); true while the alarm is on. */
  sample(ppm: number, nowMs: number): boolean;
}

export type CoAlarmFactory = (standard: CoStandard) => CoAlarmCurve;

/** The SPEC §6 rule set (`createRuleSet('ul2034' | 'en50291')`), CO conditions only. */
export const sharedCoAlarm: CoAlarmFactory = (standard) => {
  const rules = createRuleSet(standard);
  let state = rules.initial();
  return {
    sample(ppm, nowMs) {
      const r = rules.step(state, { ts: nowMs, values: { CO: ppm }, status: 'ok' });
      state = r.state;
      return r.active.some((c) => c.gas === 'CO');
    },
  };
};
