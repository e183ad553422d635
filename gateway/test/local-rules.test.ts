/**
 * Which set points the gateway's local rules use (and bump tests judge against): the shared rule
 * set of the detector's profile; `alarms.siteType: household` makes it a home's (GB 15322).
 */
import { describe, expect, it } from 'vitest';
import { localRuleSet } from '../src/local-alarms.js';
import { makeConfig, oneTcpBus } from './helpers/config.js';

const lel = { id: 'kitchen-lel', unit: 1, profile: 'gaswatch-lel', pollIntervalS: 5 };
const configWith = (alarms: Record<string, unknown>) =>
  makeConfig({
    url: 'mqtt://127.0.0.1:1',
    outboxDir: '/nonexistent',
    buses: [oneTcpBus(1502, lel)],
    extra: { alarms },
  });
const config = (household: boolean) => configWith({ siteType: household ? 'household' : 'workplace' });

/** Keys raised by one clean-status sample of `values`. */
function raisedBy(household: boolean, values: Record<string, number>): string[] {
  const rules = localRuleSet('combustible', config(household));
  const { events } = rules.step(rules.initial(), { ts: 0, values, status: 'ok' });
  return events.filter((e) => e.type === 'raised').map((e) => `${e.condition.key} ${e.condition.threshold}`);
}

describe('local combustible rules', () => {
  it('in a household, 12 %LEL on any combustible channel raises the first alarm (10 %LEL)', () => {
    expect(raisedBy(true, { LEL: 12 })).toEqual(['LEL:low 10']);
    expect(raisedBy(true, { CH4: 12 })).toEqual(['CH4:low 10']);
    expect(raisedBy(true, { C3H8: 12 })).toEqual(['C3H8:low 10']);
  });

  it('elsewhere the first alarm is 25 %LEL (GB/T 50493-2019), and the second 50 in both', () => {
    expect(raisedBy(false, { LEL: 12, CH4: 12 })).toEqual([]);
    expect(raisedBy(false, { CH4: 26 })).toEqual(['CH4:low 25']);
    expect(raisedBy(true, { LEL: 50 })).toEqual(['LEL:low 10', 'LEL:high 50']);
  });

  it('refuses the keys of older configs and says what to write instead', () => {
    expect(() => configWith({ household: true })).toThrow(
      /alarms\.household: "household" was renamed: write "siteType: household" instead/,
    );
    expect(() => configWith({ householdStandard: 'ul2034' })).toThrow(
      /alarms\.householdStandard: "householdStandard" was renamed: write "coStandard: ul2034" instead/,
    );
  });
});
