import { PermitRuleError } from './errors.js';
import { type PermitType, permitClassOf } from './model.js';
import type { PermitRuleSet } from './rule-set.js';

/**
 * The clocks of a permit (SPEC §7): how long a passed test holds, which interruption needs a new
 * one, the new day of hot work, how long a permit lives, how often the work is recorded, how long
 * the permit is kept. Times are ms since the epoch, as everywhere in the alarm math; the standards'
 * "within" and "at most" include their limit: 30:00 after a test is within 30 min, 30:00.001 is not.
 */

const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;

function time(name: string, ms: number): number {
  if (!Number.isFinite(ms))
    throw new PermitRuleError('invalid_option', `${name} must be a time in ms, not ${ms}`);
  return ms;
}

export interface TestWindowVerdict {
  /** Work may start on this test. */
  valid: boolean;
  reason: 'test_too_old' | 'start_before_test' | null;
  windowMin: number;
  /** From the passed test to the start. */
  elapsedMs: number;
  /** The last moment work may start on this test. */
  deadline: number;
  source: string;
}

/**
 * May entry or ignition start at `startAt` on a test passed at `passedAt`? Within the window
 * inclusive (GB 30871-2022 6.3a, 5.3.1c: "不应超过 30 min"): exactly 30 min is allowed, 30 min
 * and 1 ms is not. A start before the test is refused too.
 */
export function testStillValid(
  rule: PermitRuleSet,
  type: PermitType,
  passedAt: number,
  startAt: number,
): TestWindowVerdict {
  const w = rule.testWindowMin[permitClassOf(type)];
  const elapsedMs = time('startAt', startAt) - time('passedAt', passedAt);
  const deadline = passedAt + w.value * MIN_MS;
  const reason = elapsedMs < 0 ? 'start_before_test' : startAt > deadline ? 'test_too_old' : null;
  return { valid: reason === null, reason, windowMin: w.value, elapsedMs, deadline, source: w.source };
}

export interface InterruptionVerdict {
  /** A new test is needed before work resumes. */
  retest: boolean;
  /** `interrupted`: the rule set re-tests after any interruption (limit 0). */
  reason: 'interruption_too_long' | 'interrupted' | null;
  limitMin: number;
  interruptedMs: number;
  source: string;
}

/**
 * Does work suspended at `suspendedAt` need a new test to resume at `resumedAt`? Only an
 * interruption longer than the limit does (GB 30871-2022 6.3f "超过 60 min"): 60 min exactly
 * resumes, 60 min and 1 ms does not. A limit of 0 (MEM Order 13) means any interruption.
 */
export function interruptionNeedsRetest(
  rule: PermitRuleSet,
  type: PermitType,
  suspendedAt: number,
  resumedAt: number,
): InterruptionVerdict {
  const l = rule.interruptionMin[permitClassOf(type)];
  const interruptedMs = time('resumedAt', resumedAt) - time('suspendedAt', suspendedAt);
  if (interruptedMs < 0)
    throw new PermitRuleError('invalid_option', 'work cannot resume before it was suspended');
  const retest = interruptedMs > l.value * MIN_MS;
  return {
    retest,
    reason: retest ? (l.value === 0 ? 'interrupted' : 'interruption_too_long') : null,
    limitMin: l.value,
    interruptedMs,
    source: l.source,
  };
}

/** The local calendar day (YYYY-MM-DD) of a time in an IANA time zone, e.g. 'Asia/Shanghai'. */
export function localDay(ms: number, timeZone: string): string {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }).formatToParts(time('time', ms));
  } catch (err) {
    if (err instanceof PermitRuleError) throw err;
    throw new PermitRuleError('invalid_option', `unknown time zone ${JSON.stringify(timeZone)}`, {
      timeZone,
    });
  }
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

export interface DailyAnalysisVerdict {
  /** A new test is needed before work on `startAt`'s day. */
  retest: boolean;
  reason: 'new_day' | null;
  lastTestDay: string;
  startDay: string;
  source: string;
}

/**
 * Does work at `startAt` need a new analysis because the last passed test was on an earlier local
 * day (GB 30871-2022 5.3.1d "每日动火前均应进行气体分析")? Days are in the site's time zone: in
 * Asia/Shanghai a test at 23:50 does not carry the work past 00:00.
 */
export function dailyAnalysisNeeded(
  rule: PermitRuleSet,
  type: PermitType,
  lastTestAt: number,
  startAt: number,
  timeZone: string,
): DailyAnalysisVerdict {
  const d = rule.dailyAnalysis[permitClassOf(type)];
  const lastTestDay = localDay(lastTestAt, timeZone);
  const startDay = localDay(startAt, timeZone);
  const retest = d.value && startDay !== lastTestDay;
  return { retest, reason: retest ? 'new_day' : null, lastTestDay, startDay, source: d.source };
}

export interface PermitValidity {
  /** The last moment the permit is valid (inclusive). */
  until: number;
  /** The rule set's longest validity, h; null when the job decides (OSHA). */
  maxH: number | null;
  source: string;
}

/**
 * When a permit valid from `validFrom` stops being valid: its rule set's longest validity (GB
 * 30871-2022 6.10: confined space 24 h; 5.1.5: hot work 特级/一级 8 h, 二级 72 h), or the
 * permit's planned end if sooner. Where the standard sets none (OSHA 1910.146(e)(5): the job's
 * duration) the planned end is required.
 */
export function permitValidUntil(
  rule: PermitRuleSet,
  type: PermitType,
  validFrom: number,
  plannedEnd?: number,
): PermitValidity {
  const v = rule.validityH[permitClassOf(type)];
  time('validFrom', validFrom);
  if (plannedEnd !== undefined && time('plannedEnd', plannedEnd) < validFrom)
    throw new PermitRuleError('invalid_option', 'a permit cannot end before it starts');
  if (v.value === null) {
    if (plannedEnd === undefined)
      throw new PermitRuleError(
        'invalid_option',
        `${rule.name} sets no longest validity: the permit's planned end is required`,
      );
    return { until: plannedEnd, maxH: null, source: v.source };
  }
  const max = validFrom + v.value * HOUR_MS;
  return {
    until: plannedEnd === undefined ? max : Math.min(max, plannedEnd),
    maxH: v.value,
    source: v.source,
  };
}

export interface PermitValidityVerdict extends PermitValidity {
  valid: boolean;
  reason: 'permit_expired' | null;
}

/** Is the permit still valid at `now`? 24 h after a 24-h permit starts it still is; 1 ms later it has expired. */
export function permitStillValid(
  rule: PermitRuleSet,
  type: PermitType,
  validFrom: number,
  now: number,
  plannedEnd?: number,
): PermitValidityVerdict {
  const v = permitValidUntil(rule, type, validFrom, plannedEnd);
  const valid = time('now', now) <= v.until;
  return { ...v, valid, reason: valid ? null : 'permit_expired' };
}

export interface MonitoringPlan {
  /** A detector watches the whole work. */
  continuous: boolean;
  /** Longest gap between two monitoring records on the permit, ms; null: not set. */
  recordEveryMs: number | null;
  source: string;
}

/** How the work is watched (GB 30871-2022 6.5: confined space continuous, a record at least every 2 h; 5.3.1d: 特级 hot work continuous). */
export function monitoringFor(rule: PermitRuleSet, type: PermitType): MonitoringPlan {
  const m = rule.monitoring[permitClassOf(type)];
  return {
    continuous: m.continuous,
    recordEveryMs: m.recordEveryMin === null ? null : m.recordEveryMin * MIN_MS,
    source: m.source,
  };
}

/**
 * The last moment the next monitoring record is due after one at `lastRecordAt` ("at least every
 * 2 h": a record exactly 2 h later is in time), or null where the rule set sets no interval.
 */
export function nextMonitoringRecordDue(
  rule: PermitRuleSet,
  type: PermitType,
  lastRecordAt: number,
): number | null {
  const every = monitoringFor(rule, type).recordEveryMs;
  return every === null ? null : time('lastRecordAt', lastRecordAt) + every;
}

/**
 * The earliest a closed permit's records may be deleted: closing time plus the rule set's years,
 * by the calendar (29 Feb rolls to 1 Mar, keeping it a day longer rather than shorter).
 */
export function recordsKeptUntil(rule: PermitRuleSet, closedAt: number): number {
  const d = new Date(time('closedAt', closedAt));
  d.setUTCFullYear(d.getUTCFullYear() + rule.recordRetentionYears.value);
  return d.getTime();
}
