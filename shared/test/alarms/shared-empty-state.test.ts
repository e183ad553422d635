// Rule states share one frozen empty record where they have no entries (issue 18: a server keeps a
// state per device). One device's alarm must never show up in another device's state.
import { describe, expect, it } from 'vitest';
import { createRuleSet } from '../../src/index.js';

const t0 = Date.parse('2026-12-07T08:00:00Z');

describe('rule state with shared empty records', () => {
  it("raising an alarm on one device leaves another device's state, and the earlier state, untouched", () => {
    const rules = createRuleSet('combustible');
    const quiet = rules.step(rules.initial(), { ts: t0, values: { LEL: 0 }, status: 'ok' }).state;
    const other = rules.step(rules.initial(), { ts: t0, values: { LEL: 1 }, status: 'ok' }).state;
    const loud = rules.step(quiet, { ts: t0 + 1_000, values: { LEL: 40 }, status: 'ok' });
    expect(loud.active.map((c) => c.key).length).toBeGreaterThan(0);
    expect(Object.keys(loud.state.active).length).toBeGreaterThan(0);
    expect(quiet.active).toEqual({});
    expect(other.active).toEqual({});
    expect(rules.initial().active).toEqual({});
    // The other device keeps stepping from its own state: nothing raised.
    const next = rules.step(other, { ts: t0 + 2_000, values: { LEL: 1 }, status: 'ok' });
    expect(next.active).toEqual([]);
  });

  it('a cleared alarm leaves the state as a state that never had one (JSON alike)', () => {
    const rules = createRuleSet('combustible');
    let s = rules.step(rules.initial(), { ts: t0, values: { LEL: 40 }, status: 'ok' }).state;
    expect(Object.keys(s.active).length).toBeGreaterThan(0);
    for (let k = 1; k <= 5; k++)
      s = rules.step(s, { ts: t0 + k * 1_000, values: { LEL: 0 }, status: 'ok' }).state;
    expect(s.active).toEqual({});
    expect(JSON.parse(JSON.stringify(s)).active).toEqual({});
  });
});
