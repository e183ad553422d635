// The permit's life (SPEC §7): draft → approved → testing → ready → in_progress ⇄ suspended →
// closed, or cancelled / expired; nothing leaves a terminal state.
import { describe, expect, it } from 'vitest';
import {
  applyPermitAction,
  isTerminalPermitState,
  nextPermitStates,
  PERMIT_ACTIONS,
  PERMIT_STATES,
  type PermitAction,
  type PermitState,
  permitActionBetween,
} from '../../src/permits/index.js';

describe('permit states', () => {
  it('walks the whole life: a stale test, a suspension, a re-test, a close', () => {
    const path: PermitAction[] = [
      'approve',
      'start_test',
      'pass_test',
      'start_test', // the 30-min window passed before entry: test again
      'pass_test',
      'start',
      'suspend',
      'resume', // a short break
      'suspend',
      'start_test', // a long one: test again
      'pass_test',
      'start',
      'close',
    ];
    const states: PermitState[] = ['draft'];
    for (const a of path) states.push(applyPermitAction(states.at(-1)!, a));
    expect(states).toEqual([
      'draft',
      'approved',
      'testing',
      'ready',
      'testing',
      'ready',
      'in_progress',
      'suspended',
      'in_progress',
      'suspended',
      'testing',
      'ready',
      'in_progress',
      'closed',
    ]);
  });

  it('has exactly these transitions', () => {
    expect(Object.fromEntries(PERMIT_STATES.map((s) => [s, nextPermitStates(s)]))).toEqual({
      draft: ['approved', 'cancelled'],
      approved: ['testing', 'cancelled', 'expired'],
      testing: ['ready', 'cancelled', 'expired'],
      ready: ['testing', 'in_progress', 'cancelled', 'expired'],
      in_progress: ['suspended', 'closed', 'cancelled', 'expired'],
      suspended: ['testing', 'in_progress', 'closed', 'cancelled', 'expired'],
      closed: [],
      cancelled: [],
      expired: [],
    });
  });

  it('refuses work without a passed test, and anything after the end', () => {
    const refused: [PermitState, PermitAction][] = [
      ['draft', 'start'], // unapproved
      ['draft', 'start_test'],
      ['approved', 'start'], // untested
      ['testing', 'start'], // test not passed
      ['ready', 'resume'],
      ['in_progress', 'pass_test'],
      ['suspended', 'start'], // resume, or test again
      ['draft', 'expire'], // a draft has no validity yet
      ['approved', 'close'],
      ...PERMIT_ACTIONS.flatMap((a) =>
        (['closed', 'cancelled', 'expired'] as const).map((s) => [s, a] as [PermitState, PermitAction]),
      ),
    ];
    for (const [from, action] of refused) {
      expect(() => applyPermitAction(from, action), `${from} ${action}`).toThrowError(
        expect.objectContaining({ code: 'invalid_transition', message: `a ${from} permit cannot ${action}` }),
      );
    }
  });

  it('names the action between two states, or none', () => {
    expect(permitActionBetween('suspended', 'in_progress')).toBe('resume');
    expect(permitActionBetween('ready', 'testing')).toBe('start_test');
    expect(permitActionBetween('draft', 'in_progress')).toBeNull();
    expect(permitActionBetween('closed', 'in_progress')).toBeNull();
  });

  it('every state is reachable from draft, and every live one can still end', () => {
    const reach = (from: PermitState) => {
      const seen = new Set<PermitState>([from]);
      const queue = [from];
      while (queue.length > 0)
        for (const n of nextPermitStates(queue.shift()!))
          if (!seen.has(n)) {
            seen.add(n);
            queue.push(n);
          }
      return seen;
    };
    expect([...reach('draft')].sort()).toEqual([...PERMIT_STATES].sort());
    for (const s of PERMIT_STATES) {
      expect(isTerminalPermitState(s)).toBe(nextPermitStates(s).length === 0);
      if (!isTerminalPermitState(s)) expect(reach(s).has('cancelled')).toBe(true);
    }
  });
});
