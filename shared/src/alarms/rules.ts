import { GASES, type GasId } from '../gases.js';
import type { DeviceKind, ReadingStatus } from '../schemas.js';
import {
  buildDefs,
  conditionOf,
  DEFAULTS,
  type Measure,
  type MeasureState,
  nonNegative,
} from './conditions.js';
import { doseStep, doseTimeToReach } from './dose.js';
import { AlarmInputError } from './errors.js';
import {
  compare,
  THRESHOLD_IDLE,
  type ThresholdSpec,
  type ThresholdState,
  thresholdStep,
} from './threshold.js';
import {
  ALARM_PROFILE_IDS,
  type AlarmCondition,
  type AlarmProfileId,
  type AlarmSample,
  type RuleEvent,
  type RuleOptions,
  type RuleSet,
  type RuleStep,
  type Severity,
} from './types.js';
import { createWindow, type WindowState, windowStep } from './window.js';

// The rule set of an alarm profile (SPEC §6): takes samples in event time, steps each condition's
// measure and threshold (conditions.ts), and reports raised and cleared conditions. Pure: the
// gateway's local alarms and the server's engine run the same code on the same state.

/** A rule set's state: plain data, JSON-serialisable (the server keeps it per device). */
export interface AlarmState {
  /** Time of the last sample taken in (any status). */
  lastTs: number | null;
  /** Time of the last usable value per gas (status ok, value present and not 'bad'). */
  lastGasTs: Partial<Record<GasId, number>>;
  /** Start of the current warm-up run, or null. */
  warmupSince: number | null;
  measures: Record<string, MeasureState>;
  thresholds: Record<string, ThresholdState>;
  active: Record<string, AlarmCondition>;
}

// ---------------------------------------------------------------------------------------------
// The rule set

/**
 * The empty record a state shares where it has no entries (no threshold running, nothing active:
 * most devices most of the time). A server keeps one state per device, and an empty object of its
 * own costs ~56 bytes (issue 18). Frozen: step() always writes to a fresh copy.
 */
const NONE: Readonly<Record<string, never>> = Object.freeze({});

function orNone<T extends object>(o: T): T {
  for (const _ in o) return o;
  return NONE as T;
}

const STATUSES: readonly ReadingStatus[] = ['ok', 'warmup', 'fault', 'calibrating', 'bump_test'];

function validate(sample: AlarmSample, lastTs: number | null): void {
  if (typeof sample !== 'object' || sample === null) {
    throw new AlarmInputError('invalid_sample', 'sample must be an object');
  }
  if (typeof sample.ts !== 'number' || !Number.isFinite(sample.ts)) {
    throw new AlarmInputError(
      'invalid_sample',
      `sample ts must be finite ms since epoch, got ${String(sample.ts)}`,
      {
        ts: sample.ts,
      },
    );
  }
  if (!STATUSES.includes(sample.status)) {
    throw new AlarmInputError('invalid_sample', `unknown sample status '${String(sample.status)}'`, {
      status: sample.status,
    });
  }
  if (typeof sample.values !== 'object' || sample.values === null || Array.isArray(sample.values)) {
    throw new AlarmInputError('invalid_sample', 'sample values must be an object of gas → concentration', {
      values: sample.values,
    });
  }
  if (sample.alarm !== undefined && typeof sample.alarm !== 'boolean') {
    throw new AlarmInputError(
      'invalid_sample',
      `sample alarm must be true or false, got ${String(sample.alarm)}`,
      {
        alarm: sample.alarm,
      },
    );
  }
  for (const [gas, v] of Object.entries(sample.values)) {
    if (!(gas in GASES))
      throw new AlarmInputError('invalid_sample', `unknown gas '${gas}' in sample`, { gas });
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new AlarmInputError(
        'invalid_sample',
        `${gas} value must be a finite number ≥ 0, got ${String(v)}`,
        {
          gas,
          value: v,
        },
      );
    }
  }
  if (lastTs !== null && sample.ts < lastTs) {
    throw new AlarmInputError(
      'out_of_order',
      `sample at ${new Date(sample.ts).toISOString()} is older than the last one (${new Date(lastTs).toISOString()}); feed samples in time order`,
      { ts: sample.ts, lastTs },
    );
  }
}

function usable(sample: AlarmSample, gas: GasId): number | undefined {
  if (sample.quality?.[gas] === 'bad') return undefined;
  return sample.values[gas];
}

/** The rule set's state type (plain data, JSON-serialisable). */
export type AlarmRuleSet = RuleSet<AlarmState> & {
  /** The conditions this rule set watches, with their set points (for UIs and docs). */
  readonly conditions: readonly {
    key: string;
    rule: string;
    gas?: GasId;
    severity: Severity;
    unit: string;
    setPoint: number;
    op: ThresholdSpec['op'];
    band: number;
    onDelayMs: number;
    /** What is compared with the set point: a sample, a dose, a window mean, or a detector status. */
    measure: Measure['kind'];
    /** For a gas value or window mean: `unit` per canonical unit of the gas (mg/m³ per ppm). */
    factor?: number;
    /** For a window mean: the window's length, ms. */
    windowMs?: number;
  }[];
};

/**
 * A channel the detector has but could not measure: quality 'bad' and no value (the gateway leaves
 * out a NaN, a bad decimals register or a value far below zero from a broken cell). That gas is
 * then not watched at all, so it is a fault, not a quiet gap. An over-range channel is 'bad' WITH
 * a value (the gas is at least that much) and is not a fault.
 */
function hasUnreadableChannel(sample: AlarmSample): boolean {
  const q = sample.quality;
  if (q === undefined) return false;
  for (const gas of Object.keys(q) as GasId[])
    if (q[gas] === 'bad' && sample.values[gas] === undefined) return true;
  return false;
}

export function createRuleSet(profile: AlarmProfileId, options: RuleOptions = {}): AlarmRuleSet {
  const defs = buildDefs(profile, options);
  const maxGapMs = nonNegative('maxGapS', options.maxGapS, DEFAULTS.maxGapS) * 1000;
  const faultCodes = options.faultCodes ?? ['sensor_eol'];

  function initial(): AlarmState {
    return {
      lastTs: null,
      lastGasTs: NONE,
      warmupSince: null,
      measures: NONE,
      thresholds: NONE,
      active: NONE,
    };
  }

  function step(state: AlarmState, sample: AlarmSample): RuleStep<AlarmState> {
    validate(sample, state.lastTs);
    const { ts } = sample;
    const gasOk = sample.status === 'ok';
    const measures = { ...state.measures };
    const thresholds = { ...state.thresholds };
    const active = { ...state.active };
    const lastGasTs = { ...state.lastGasTs };
    const warmupSince = sample.status === 'warmup' ? (state.warmupSince ?? ts) : null;
    const events: RuleEvent[] = [];
    /** Gases whose 'bad' value some condition took in (fail safe): their value counts as known. */
    const takenBad = new Set<GasId>();

    for (const def of defs) {
      const m = def.measure;
      let value: number | undefined;
      let restart = false;
      let badNow = false;
      switch (m.kind) {
        case 'fault':
          value =
            sample.status === 'fault' ||
            (sample.faults ?? []).some((f) => faultCodes.includes(f)) ||
            hasUnreadableChannel(sample)
              ? 1
              : 0;
          break;
        case 'detector':
          // Not reported, or a bump test / calibration (test gas is applied on purpose, the output is
          // expected to fire): the condition keeps its state (an active alarm stays active).
          if (sample.alarm === undefined || sample.status === 'bump_test' || sample.status === 'calibrating')
            continue;
          value = sample.alarm ? 1 : 0;
          break;
        case 'warmup':
          // Leaving warm-up (any other status) reads 0 and clears the condition.
          value = warmupSince === null ? 0 : (ts - warmupSince) / 1000;
          break;
        default: {
          // Gas conditions only see status 'ok' samples with a value; otherwise they keep their
          // state (an active alarm stays active, nothing integrates). A value marked 'bad' (the
          // gateway marks over-range values so: the gas is at least that much) is fail-safe: taken
          // in when it is on the alarm side of this condition's set point, ignored otherwise, so
          // it can raise or hold an alarm but never clear one or lower a dose.
          const c = gasOk ? sample.values[m.gas] : undefined;
          if (c === undefined) continue;
          if (sample.quality?.[m.gas] === 'bad') {
            const f = m.kind === 'dose' ? 1 : m.factor;
            if (!compare(def.spec.op, c * f, def.spec.setPoint)) continue;
            takenBad.add(m.gas);
            badNow = true;
          }
          const prevTs = state.lastGasTs[m.gas];
          restart = prevTs === undefined || ts - prevTs > maxGapMs;
          if (m.kind === 'instant') {
            value = c * m.factor;
          } else if (m.kind === 'dose') {
            const prev = measures[def.key] as { dose: number; c: number; t: number } | undefined;
            let dose = prev?.dose ?? 0;
            if (prev && ts - prev.t <= maxGapMs) dose = doseStep(dose, prev.c, ts - prev.t, m.tauMin);
            measures[def.key] = { dose, c, t: ts };
            value = dose;
          } else {
            const prev = (measures[def.key] as WindowState | undefined) ?? createWindow(m.windowMs);
            const r = windowStep(prev, ts, c, maxGapMs);
            measures[def.key] = r.state;
            value = r.mean * m.factor;
          }
        }
      }
      const ths = thresholds[def.key] ?? THRESHOLD_IDLE;
      // A dose or window mean can fall at a sample whose own (bad, high) value has not counted
      // yet (it is held from its time on): a doubtful over-range sample never clears an alarm.
      if (ths.active && badNow) continue;
      const r = thresholdStep(ths, value, ts, def.spec, restart);
      if (r.state !== ths) thresholds[def.key] = r.state;
      if (r.change === 'raised') {
        const cond = conditionOf(def, value, false);
        active[def.key] = cond;
        events.push({ type: 'raised', ts, condition: cond });
      } else if (r.change === 'cleared') {
        delete active[def.key];
        events.push({ type: 'cleared', ts, condition: conditionOf(def, value, true) });
      } else if (r.state.active) {
        active[def.key] = conditionOf(def, value, false);
      }
    }
    if (gasOk) {
      for (const g of Object.keys(sample.values) as GasId[])
        if (usable(sample, g) !== undefined || takenBad.has(g)) lastGasTs[g] = ts;
    }

    const next: AlarmState = {
      lastTs: ts,
      lastGasTs: orNone(lastGasTs),
      warmupSince,
      measures: orNone(measures),
      thresholds: orNone(thresholds),
      active: orNone(active),
    };
    const list: AlarmCondition[] = [];
    for (const def of defs) {
      const a = active[def.key];
      if (a) list.push(a);
    }
    return { state: next, events, active: list };
  }

  return {
    profile,
    initial,
    step: step as RuleSet<AlarmState>['step'],
    conditions: defs.map((d) => ({
      key: d.key,
      rule: d.rule,
      ...(d.gas !== undefined ? { gas: d.gas } : {}),
      severity: d.severity,
      unit: d.unit,
      setPoint: d.spec.setPoint,
      op: d.spec.op,
      band: d.spec.band,
      onDelayMs: d.spec.onDelayMs,
      measure: d.measure.kind,
      ...('factor' in d.measure ? { factor: d.measure.factor } : {}),
      ...('windowMs' in d.measure ? { windowMs: d.measure.windowMs } : {}),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers the gateway and the server share

/**
 * SPEC §6: household-co → the site's CO standard, en50291 or ul2034 (default 'en50291'),
 * multigas → confined-space, combustible → combustible.
 */
export function profileForKind(
  kind: DeviceKind,
  coStandard: 'ul2034' | 'en50291' = 'en50291',
): AlarmProfileId {
  switch (kind) {
    case 'household-co':
      return coStandard;
    case 'multigas':
      return 'confined-space';
    case 'combustible':
      return 'combustible';
    default:
      throw new AlarmInputError('unknown_profile', `no alarm profile for device kind '${String(kind)}'`, {
        kind,
      });
  }
}

/** Offline timeout: max(3 × poll interval, 30 s), in ms. */
export function offlineTimeoutMs(pollIntervalS?: number): number {
  if (pollIntervalS === undefined) return 30_000;
  if (!Number.isFinite(pollIntervalS) || pollIntervalS <= 0) {
    throw new AlarmInputError('invalid_option', `poll interval must be > 0 s, got ${pollIntervalS}`);
  }
  return Math.max(3 * pollIntervalS, 30) * 1000;
}

/** True when `p` names a known alarm profile. */
export function isAlarmProfileId(p: unknown): p is AlarmProfileId {
  return typeof p === 'string' && (ALARM_PROFILE_IDS as readonly string[]).includes(p);
}

/**
 * Closed form, for docs and tests: ms from the start of a constant CO exposure `ppm` (starting from
 * clean air, dose 0, status ok) until the profile first raises a CO condition; Infinity if never.
 * Dose: τ·ln(C/(C − S)); held level: its on-delay; window mean C·f·t/W reaches L at t = W·L/(C·f).
 * Sampled rule sets raise at the first sample at or after this time.
 */
export function timeToAlarmAtConstant(
  profile: AlarmProfileId,
  ppm: number,
  options: RuleOptions = {},
): number {
  let best = Number.POSITIVE_INFINITY;
  for (const def of buildDefs(profile, options)) {
    const m = def.measure;
    if (m.kind === 'fault' || m.kind === 'warmup' || m.kind === 'detector' || m.gas !== 'CO') continue;
    let t = Number.POSITIVE_INFINITY;
    const sp = def.spec.setPoint;
    if (m.kind === 'dose') t = doseTimeToReach(sp, ppm, m.tauMin);
    else if (m.kind === 'instant') {
      if (ppm * m.factor >= sp) t = def.spec.onDelayMs;
    } else if (ppm * m.factor >= sp && ppm > 0) t = (m.windowMs * sp) / (ppm * m.factor);
    best = Math.min(best, t);
  }
  return best;
}
