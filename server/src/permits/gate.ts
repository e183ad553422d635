import {
  dailyAnalysisNeeded,
  interruptionNeedsRetest,
  monitoringFor,
  PERMIT_ACTIONS,
  PERMIT_TRANSITIONS,
  type PermitAction,
  type PermitRuleSet,
  type PermitState,
  type PermitType,
  type Refusal,
  type Role,
  roleAtLeast,
  testStillValid,
} from '@gaswatch/shared';
import { permitRefusalText } from '@gaswatch/shared/permit-words';
import type { PermitsTable } from '../db/schema.js';
import { ServerError } from '../errors.js';

/**
 * Whether an action may be taken on a permit now, and every reason it may not (SPEC §7): the
 * state machine (PERMIT_TRANSITIONS), who is asking (SPEC §9), and the rule set's clocks. One pure
 * function answers both the action routes (which refuse with the first reason) and the permit's
 * page (which lists each action with its reasons), so the two can never disagree.
 */

/** A refusal of the rule set (PERMIT_REASONS) or of the server (PERMIT_REFUSALS), worded in English. */
export function refusal(code: string, params: Record<string, string | number> = {}): Refusal {
  return { code, params, message: permitRefusalText('en', { code, params }) };
}

/** An action refused: 409 with the first reason's code, every reason in the message. */
export class PermitRefusedError extends ServerError {
  readonly refusals: Refusal[];
  constructor(refusals: Refusal[], status = 409) {
    super(refusals[0]?.code ?? 'refused', refusals.map((r) => r.message).join('; '), { statusCode: status });
    this.refusals = refusals;
  }
}

/** Who takes each action by hand (SPEC §9): a supervisor approves; operators run the work. */
export const ACTION_ROLE: Record<PermitAction, Role | 'system'> = {
  approve: 'supervisor',
  start_test: 'operator',
  pass_test: 'system',
  start: 'operator',
  suspend: 'operator',
  resume: 'operator',
  close: 'operator',
  cancel: 'operator',
  expire: 'system',
};

/** How each action is taken over HTTP (the console's hint). */
export const ACTION_ROUTE: Record<PermitAction, string> = {
  approve: 'POST /api/permits/:id/actions/approve',
  start_test: 'POST /api/permits/:id/tests',
  pass_test: 'the last reading of a gas test that passes (POST /api/permits/:id/tests/:testId/readings)',
  start: 'POST /api/permits/:id/actions/start',
  suspend: 'POST /api/permits/:id/actions/suspend',
  resume: 'POST /api/permits/:id/actions/resume',
  close: 'POST /api/permits/:id/actions/close',
  cancel: 'POST /api/permits/:id/actions/cancel',
  expire: 'the server, when the validity has passed',
};

/** A detector about to watch the work, as the server knows it now. */
export interface DetectorNow {
  device: string;
  online: boolean;
  /** The message of an alarm of it whose condition still holds; null for none. */
  alarm: string | null;
  /**
   * That alarm as facts, so each language can say it (the message is the engine's English): its
   * kind, and for a gas alarm the gas, the value and the set point it reached.
   */
  alarmFacts?: { kind: string; gas?: string; value: number; threshold: number; unit?: string } | undefined;
}

export interface GateContext {
  permit: PermitsTable;
  rules: PermitRuleSet;
  type: PermitType;
  caller: { id: string; role: Role | 'system' };
  now: number;
  timeZone: string;
  /** When the last gas test of the permit that passed was completed, and its detector; null: none passed. */
  lastPassed: { at: number; device: string | null } | null;
  /** The last suspension: when, and whether it needs a new test (an alarm, a failed reading…). */
  lastSuspension: { at: number; retest: boolean; reason: string } | null;
  /** What would watch the work for start and resume; null: nothing named. */
  monitor: DetectorNow | { instrument: string } | null;
  /** Who drew the permit up and who changed it as a draft: none of them may approve it. */
  authors?: readonly string[];
}

const ISO = (ms: number) => new Date(ms).toISOString();

function fromStates(action: PermitAction): readonly PermitState[] {
  return PERMIT_TRANSITIONS.find((t) => t.action === action)?.from ?? [];
}

function monitorRefusals(c: GateContext): Refusal[] {
  const plan = monitoringFor(c.rules, c.type);
  const m = c.monitor;
  if (m === null) return plan.continuous ? [refusal('no_monitor')] : [];
  if ('instrument' in m) return [];
  const out: Refusal[] = [];
  if (!m.online) out.push(refusal('detector_offline', { device: m.device }));
  if (m.alarm !== null) {
    const f = m.alarmFacts;
    out.push(
      refusal('detector_alarm', {
        device: m.device,
        message: m.alarm,
        ...(f === undefined
          ? {}
          : {
              kind: f.kind,
              ...(f.gas === undefined
                ? {}
                : { gas: f.gas, value: f.value, threshold: f.threshold, unit: f.unit ?? '' }),
            }),
      }),
    );
  }
  return out;
}

/** The daily analysis of hot work (GB 30871-2022 5.3.1d): the last passed test must be of today. */
function dailyRefusals(c: GateContext): Refusal[] {
  if (c.lastPassed === null) return [];
  const d = dailyAnalysisNeeded(c.rules, c.type, c.lastPassed.at, c.now, c.timeZone);
  return d.retest ? [refusal('new_day', { lastTestDay: d.lastTestDay, startDay: d.startDay })] : [];
}

/** Every reason `action` may not be taken now (empty: it may). */
export function refusalsFor(action: PermitAction, c: GateContext): Refusal[] {
  const state = c.permit.state as PermitState;
  const out: Refusal[] = [];
  if (!fromStates(action).includes(state)) out.push(refusal('invalid_transition', { state, action }));
  const role = ACTION_ROLE[action];
  if (role === 'system') {
    if (c.caller.role !== 'system') out.push(refusal('system_action', { action }));
  } else if (c.caller.role === 'system' || !roleAtLeast(c.caller.role, role))
    out.push(refusal('role_required', { action, role }));
  if (out.length > 0) return out;

  // valid_until is permitValidUntil's answer when the permit was drawn up (validity inclusive).
  const validity = () => (c.now > c.permit.valid_until ? [refusal('permit_expired')] : []);
  switch (action) {
    case 'approve': {
      // Four eyes: nobody approves what they wrote, drawn up or changed as a draft.
      if (c.caller.id === c.permit.created_by || c.authors?.includes(c.caller.id))
        out.push(refusal('own_permit'));
      const open = (JSON.parse(c.permit.measures) as { confirmed: unknown }[]).filter(
        (m) => m.confirmed === null,
      ).length;
      if (open > 0) out.push(refusal('measures_unconfirmed', { count: open }));
      out.push(...validity());
      break;
    }
    case 'start_test':
      out.push(...validity());
      break;
    case 'start': {
      if (c.now < c.permit.planned_start)
        out.push(refusal('before_window', { from: ISO(c.permit.planned_start) }));
      out.push(...validity());
      if (c.lastPassed === null) out.push(refusal('no_passed_test'));
      else {
        const w = testStillValid(c.rules, c.type, c.lastPassed.at, c.now);
        if (!w.valid && w.reason !== null) out.push(refusal(w.reason, { limit: w.windowMin }));
      }
      out.push(...dailyRefusals(c), ...monitorRefusals(c));
      break;
    }
    case 'resume': {
      out.push(...validity());
      const s = c.lastSuspension;
      if (s?.retest === true) out.push(refusal('evacuated', { reason: s.reason }));
      else if (s !== null) {
        const i = interruptionNeedsRetest(c.rules, c.type, s.at, Math.max(s.at, c.now));
        if (i.retest && i.reason !== null) out.push(refusal(i.reason, { limit: i.limitMin }));
      }
      out.push(...dailyRefusals(c), ...monitorRefusals(c));
      break;
    }
    default:
      break;
  }
  return out;
}

/** Each action, whether the caller may take it now, and why not. */
export function nextActions(c: GateContext) {
  return PERMIT_ACTIONS.map((action) => {
    const refusals = refusalsFor(action, c);
    return {
      action,
      allowed: refusals.length === 0,
      route: ACTION_ROUTE[action].replace(':id', c.permit.id),
      refusals,
    };
  });
}
