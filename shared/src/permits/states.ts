import { z } from 'zod';
import { PermitRuleError } from './errors.js';

/**
 * A permit's life (SPEC §7): draft → approved → testing → ready → in_progress ⇄ suspended →
 * closed, or cancelled / expired. Which transitions exist is here; who may take them, and the
 * checks that gate them (a passed test for `ready`, the 30-min window for `start`, the
 * interruption limit for `resume`), are the server's, using timing.ts.
 */
export const PERMIT_STATES = [
  'draft',
  'approved',
  'testing',
  'ready',
  'in_progress',
  'suspended',
  'closed',
  'cancelled',
  'expired',
] as const;
export const PermitStateSchema = z.enum(PERMIT_STATES);
export type PermitState = z.infer<typeof PermitStateSchema>;

/** Nothing leaves these: a closed, cancelled or expired permit is a record. */
export const TERMINAL_PERMIT_STATES = [
  'closed',
  'cancelled',
  'expired',
] as const satisfies readonly PermitState[];

/**
 * Each transition by name: the server's routes and the audit log speak these.
 * - approve: the approver by level signs (draft → approved).
 * - start_test: gas testing begins (approved → testing); also a re-test when the passed test
 *   went stale (ready → testing) or after an interruption that needs one (suspended → testing).
 * - pass_test: every required reading passed (testing → ready). A failed test stays in testing.
 * - start: entry or ignition (ready → in_progress), within the test window.
 * - suspend: work stops: an alarm, a break, the end of a shift (in_progress → suspended).
 * - resume: work goes on without a new test, when the interruption allows (suspended → in_progress).
 * - close: the work is done and the site handed back (in_progress or suspended → closed).
 * - cancel: withdrawn before or during the work.
 * - expire: the validity ran out before the permit was closed.
 */
export const PERMIT_TRANSITIONS = [
  { action: 'approve', from: ['draft'], to: 'approved' },
  { action: 'start_test', from: ['approved', 'ready', 'suspended'], to: 'testing' },
  { action: 'pass_test', from: ['testing'], to: 'ready' },
  { action: 'start', from: ['ready'], to: 'in_progress' },
  { action: 'suspend', from: ['in_progress'], to: 'suspended' },
  { action: 'resume', from: ['suspended'], to: 'in_progress' },
  { action: 'close', from: ['in_progress', 'suspended'], to: 'closed' },
  {
    action: 'cancel',
    from: ['draft', 'approved', 'testing', 'ready', 'in_progress', 'suspended'],
    to: 'cancelled',
  },
  { action: 'expire', from: ['approved', 'testing', 'ready', 'in_progress', 'suspended'], to: 'expired' },
] as const satisfies readonly { action: string; from: readonly PermitState[]; to: PermitState }[];

export type PermitAction = (typeof PERMIT_TRANSITIONS)[number]['action'];
export const PERMIT_ACTIONS = PERMIT_TRANSITIONS.map((t) => t.action) as readonly PermitAction[];

export function isTerminalPermitState(s: PermitState): boolean {
  return (TERMINAL_PERMIT_STATES as readonly PermitState[]).includes(s);
}

/** The states a permit in `from` may go to, in the order of PERMIT_TRANSITIONS. */
export function nextPermitStates(from: PermitState): PermitState[] {
  return PERMIT_TRANSITIONS.filter((t) => (t.from as readonly PermitState[]).includes(from)).map((t) => t.to);
}

/** The action that takes a permit from `from` to `to`, or null when there is none. */
export function permitActionBetween(from: PermitState, to: PermitState): PermitAction | null {
  const t = PERMIT_TRANSITIONS.find((x) => x.to === to && (x.from as readonly PermitState[]).includes(from));
  return t?.action ?? null;
}

/** Where `action` takes a permit in `from`; throws PermitRuleError('invalid_transition') when it cannot. */
export function applyPermitAction(from: PermitState, action: PermitAction): PermitState {
  const t = PERMIT_TRANSITIONS.find((x) => x.action === action);
  if (t === undefined || !(t.from as readonly PermitState[]).includes(from))
    throw new PermitRuleError('invalid_transition', `a ${from} permit cannot ${action}`, { from, action });
  return t.to;
}
