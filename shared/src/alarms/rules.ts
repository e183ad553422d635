import { GASES, type GasId, ppmToMgM3 } from '../gases.js';
import type { DeviceKind, ReadingStatus } from '../schemas.js';
import { doseStep, doseTimeToReach } from './dose.js';
import { AlarmInputError } from './errors.js';
import {
  clearLevel,
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
  type ExposureLimit,
  type RuleEvent,
  type RuleOptions,
  type RuleSet,
  type RuleStep,
  type Severity,
  SITE_TYPES,
} from './types.js';
import { createWindow, type WindowState, windowStep } from './window.js';

// ---------------------------------------------------------------------------------------------
// Numbers (SPEC §6; sources in docs/alarm-math.md)

/** UL 2034 dose: τ = 90 min, alarm at D ≥ 45 ppm. */
export const UL2034 = { tauMin: 90, setPointPpm: 45 } as const;
/** EN 50291 slow tier τ = 45 min, D ≥ 40 ppm; fast tier ≥ 300 ppm held 2 min. */
export const EN50291 = { tauMin: 45, setPointPpm: 40, fastPpm: 300, fastHoldS: 120 } as const;
/**
 * Combustible first/second alarm, %LEL: GB/T 50493-2019 25 / 50; in a home (siteType 'household')
 * the first alarm is 10 %LEL (GB 15322), the second stays at 50.
 */
export const COMBUSTIBLE = { lowLel: 25, householdLowLel: 10, highLel: 50 } as const;
/** Confined-space 4-gas set points. */
export const CONFINED_SPACE = {
  o2LowPct: 19.5,
  o2HighPct: 23.5,
  lelLow: 10,
  lelHigh: 20,
  coLowPpm: 35,
  coHighPpm: 200,
  h2sLowPpm: 10,
  h2sHighPpm: 15,
} as const;
/** GBZ 2.1-2019 occupational exposure limits used by default in confined-space. */
export const GBZ21_LIMITS: readonly ExposureLimit[] = [
  { gas: 'CO', twaMgM3: 20, stelMgM3: 30 },
  { gas: 'H2S', macMgM3: 10 },
];
/** Oxygen in normal air, %vol: the O2 hysteresis band is a fraction of the distance from it. */
export const NORMAL_O2_PCT = 20.9;
export const STEL_WINDOW_MS = 15 * 60_000;
export const TWA_WINDOW_MS = 8 * 3_600_000;

const DEFAULTS = { hysteresis: 0.1, onDelayS: 0, maxGapS: 600, maxWarmupS: 900 } as const;
const COMBUSTIBLE_GASES: readonly GasId[] = ['LEL', 'CH4', 'C3H8'];

// ---------------------------------------------------------------------------------------------
// Condition definitions: a measure (what number to watch) + a threshold on it.

type Measure =
  | { kind: 'instant'; gas: GasId; factor: number }
  | { kind: 'dose'; gas: GasId; tauMin: number }
  | { kind: 'window'; gas: GasId; windowMs: number; factor: number }
  | { kind: 'fault' }
  | { kind: 'warmup' }
  | { kind: 'detector' };

interface ConditionDef {
  key: string;
  rule: string;
  gas?: GasId;
  severity: Severity;
  unit: string;
  /** Start of the message, e.g. 'CO dose'. */
  label: string;
  /** Standard the numbers come from, for the message. */
  source: string;
  measure: Measure;
  spec: ThresholdSpec;
}

type MeasureState = { dose: number; c: number; t: number } | WindowState;

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

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

const OP_TEXT = { '>=': '≥', '>': '>', '<': '<', '<=': '≤' } as const;

function conditionOf(def: ConditionDef, value: number, cleared: boolean): AlarmCondition {
  const u = def.unit ? ` ${def.unit}` : '';
  let message: string;
  if (def.measure.kind === 'fault') {
    message = cleared ? 'detector fault cleared' : 'detector fault';
  } else if (def.measure.kind === 'detector') {
    message = cleared ? "detector's own alarm output off, cleared" : "detector's own alarm output on";
  } else if (def.measure.kind === 'warmup') {
    message = cleared
      ? 'warm-up ended'
      : `warm-up not finished after ${fmt(value)} s (limit ${fmt(def.spec.setPoint)} s)`;
  } else if (cleared) {
    const back = def.spec.op === '<' || def.spec.op === '<=' ? 'above' : 'below';
    message = `${def.label} ${fmt(value)}${u} back ${back} ${fmt(clearLevel(def.spec))}${u}, cleared (${def.source})`;
  } else {
    message = `${def.label} ${fmt(value)}${u} ${OP_TEXT[def.spec.op]} ${fmt(def.spec.setPoint)}${u} (${def.source})`;
  }
  const c: AlarmCondition = {
    key: def.key,
    rule: def.rule,
    severity: def.severity,
    value,
    threshold: def.spec.setPoint,
    unit: def.unit,
    message,
  };
  if (def.gas !== undefined) c.gas = def.gas;
  return c;
}

function nonNegative(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new AlarmInputError('invalid_option', `${name} must be a finite number ≥ 0, got ${String(v)}`, {
      [name]: v,
    });
  }
  return v;
}

class Builder {
  readonly defs: ConditionDef[] = [];
  readonly hysteresis: number;
  readonly onDelayS: number;
  constructor(readonly options: RuleOptions) {
    this.hysteresis = nonNegative('hysteresis', options.hysteresis, DEFAULTS.hysteresis);
    this.onDelayS = nonNegative('onDelayS', options.onDelayS, DEFAULTS.onDelayS);
    if (this.hysteresis >= 1) {
      throw new AlarmInputError(
        'invalid_option',
        `hysteresis is a fraction of the set point (< 1), got ${this.hysteresis}`,
      );
    }
    if (options.siteType !== undefined && !SITE_TYPES.includes(options.siteType)) {
      throw new AlarmInputError(
        'invalid_option',
        `siteType must be one of ${SITE_TYPES.join(', ')}, got ${String(options.siteType)}`,
        { siteType: options.siteType },
      );
    }
    for (const [k, v] of Object.entries(options.thresholds ?? {})) nonNegative(`thresholds.${k}`, v, 0);
    for (const [k, v] of Object.entries(options.bands ?? {})) nonNegative(`bands.${k}`, v, 0);
    for (const [k, v] of Object.entries(options.onDelays ?? {})) nonNegative(`onDelays.${k}`, v, 0);
  }

  add(
    d: Omit<ConditionDef, 'spec'> & {
      setPoint: number;
      op: ThresholdSpec['op'];
      onDelayS?: number;
      timed?: boolean;
    },
  ): void {
    if (this.defs.some((x) => x.key === d.key)) return;
    const setPoint = nonNegative(`thresholds.${d.key}`, this.options.thresholds?.[d.key], d.setPoint);
    const bandBase = d.gas === 'O2' ? Math.abs(setPoint - NORMAL_O2_PCT) : setPoint;
    const band = nonNegative(`bands.${d.key}`, this.options.bands?.[d.key], this.hysteresis * bandBase);
    // Dose and window measures are already time-averaged: no on-delay unless asked for by key.
    const defaultDelay = d.onDelayS ?? (d.timed === false ? 0 : this.onDelayS);
    const onDelayS = nonNegative(`onDelays.${d.key}`, this.options.onDelays?.[d.key], defaultDelay);
    const { setPoint: _s, op, onDelayS: _o, timed: _t, ...rest } = d;
    this.defs.push({ ...rest, spec: { setPoint, op, band, onDelayMs: onDelayS * 1000 } });
  }

  ul2034(gas: GasId = 'CO'): void {
    this.add({
      key: `${gas}:dose`,
      rule: 'ul2034',
      gas,
      severity: 'critical',
      unit: 'ppm',
      label: `${gas} dose`,
      source: 'UL 2034',
      measure: { kind: 'dose', gas, tauMin: UL2034.tauMin },
      setPoint: UL2034.setPointPpm,
      op: '>=',
      timed: false,
    });
  }

  en50291(gas: GasId = 'CO'): void {
    this.add({
      key: `${gas}:dose`,
      rule: 'en50291-slow',
      gas,
      severity: 'critical',
      unit: 'ppm',
      label: `${gas} dose`,
      source: 'EN 50291 slow tier',
      measure: { kind: 'dose', gas, tauMin: EN50291.tauMin },
      setPoint: EN50291.setPointPpm,
      op: '>=',
      timed: false,
    });
    this.add({
      key: `${gas}:fast`,
      rule: 'en50291-fast',
      gas,
      severity: 'critical',
      unit: 'ppm',
      label: gas,
      source: `EN 50291 fast tier, held ${EN50291.fastHoldS} s`,
      measure: { kind: 'instant', gas, factor: 1 },
      setPoint: EN50291.fastPpm,
      op: '>=',
      onDelayS: EN50291.fastHoldS,
    });
  }

  level(
    gas: GasId,
    tier: 'low' | 'high',
    setPoint: number,
    rule: string,
    source: string,
    severity?: Severity,
  ): void {
    this.add({
      key: `${gas}:${tier}`,
      rule,
      gas,
      severity: severity ?? (tier === 'low' ? 'warning' : 'critical'),
      unit: GASES[gas].unit,
      label: gas,
      source,
      measure: { kind: 'instant', gas, factor: 1 },
      setPoint,
      op: gas === 'O2' ? (tier === 'low' ? '<' : '>') : '>=',
    });
  }

  exposure(limit: ExposureLimit): void {
    const { gas } = limit;
    if (GASES[gas].molarMass === undefined || GASES[gas].unit !== 'ppm') {
      throw new AlarmInputError('invalid_option', `stelTwa: ${gas} is not a ppm gas with a molar mass`, {
        gas,
      });
    }
    const factor = ppmToMgM3(gas, 1, this.options.molarVolume ?? '25C');
    const common = { gas, unit: 'mg/m³', source: 'GBZ 2.1' } as const;
    if (limit.macMgM3 !== undefined) {
      this.add({
        ...common,
        key: `${gas}:mac`,
        rule: 'mac',
        severity: 'critical',
        label: `${gas}`,
        measure: { kind: 'instant', gas, factor },
        setPoint: nonNegative(`stelTwa.${gas}.macMgM3`, limit.macMgM3, 0),
        op: '>=',
      });
    }
    if (limit.stelMgM3 !== undefined) {
      this.add({
        ...common,
        key: `${gas}:stel`,
        rule: 'stel',
        severity: 'critical',
        label: `${gas} 15-min mean`,
        measure: { kind: 'window', gas, windowMs: STEL_WINDOW_MS, factor },
        setPoint: nonNegative(`stelTwa.${gas}.stelMgM3`, limit.stelMgM3, 0),
        op: '>=',
        timed: false,
      });
    }
    if (limit.twaMgM3 !== undefined) {
      this.add({
        ...common,
        key: `${gas}:twa`,
        rule: 'twa',
        severity: 'warning',
        label: `${gas} 8-h mean`,
        measure: { kind: 'window', gas, windowMs: TWA_WINDOW_MS, factor },
        setPoint: nonNegative(`stelTwa.${gas}.twaMgM3`, limit.twaMgM3, 0),
        op: '>=',
        timed: false,
      });
    }
  }

  faults(): void {
    this.add({
      key: 'fault',
      rule: 'fault',
      severity: 'warning',
      unit: '',
      label: 'fault',
      source: 'detector',
      measure: { kind: 'fault' },
      setPoint: 1,
      op: '>=',
      onDelayS: 0,
      timed: false,
    });
    this.add({
      key: 'fault:warmup',
      rule: 'fault',
      severity: 'warning',
      unit: 's',
      label: 'warm-up',
      source: 'detector',
      measure: { kind: 'warmup' },
      setPoint: nonNegative('maxWarmupS', this.options.maxWarmupS, DEFAULTS.maxWarmupS),
      op: '>=',
      onDelayS: 0,
      timed: false,
    });
  }

  /** The detector's own alarm output (Reading.alarm), in every profile: it knows its sensor best. */
  detector(): void {
    this.add({
      key: 'detector',
      rule: 'detector',
      severity: 'critical',
      unit: '',
      label: 'detector alarm',
      source: 'detector',
      measure: { kind: 'detector' },
      setPoint: 1,
      op: '>=',
      onDelayS: 0,
      timed: false,
    });
  }
}

function buildDefs(profile: AlarmProfileId, options: RuleOptions): ConditionDef[] {
  const b = new Builder(options);
  switch (profile) {
    case 'ul2034':
      b.ul2034();
      break;
    case 'en50291':
      b.en50291();
      break;
    case 'combustible': {
      const src = 'GB/T 50493-2019';
      const first =
        options.siteType === 'household'
          ? { lel: COMBUSTIBLE.householdLowLel, source: 'GB 15322 household first alarm' }
          : { lel: COMBUSTIBLE.lowLel, source: `${src} first alarm` };
      for (const g of COMBUSTIBLE_GASES) {
        b.level(g, 'low', first.lel, 'combustible', first.source);
        b.level(g, 'high', COMBUSTIBLE.highLel, 'combustible', `${src} second alarm`);
      }
      if ((options.combustibleCo ?? 'en50291') === 'ul2034') b.ul2034();
      else b.en50291();
      break;
    }
    case 'confined-space': {
      const cs = CONFINED_SPACE;
      const r = 'confined-space';
      b.level('O2', 'low', cs.o2LowPct, r, 'O2 deficiency', 'critical');
      b.level('O2', 'high', cs.o2HighPct, r, 'O2 enrichment', 'critical');
      for (const g of COMBUSTIBLE_GASES) {
        b.level(g, 'low', cs.lelLow, r, 'confined space low alarm');
        b.level(g, 'high', cs.lelHigh, r, 'confined space high alarm');
      }
      b.level('CO', 'low', cs.coLowPpm, r, 'confined space low alarm');
      b.level('CO', 'high', cs.coHighPpm, r, 'confined space high alarm');
      b.level('H2S', 'low', cs.h2sLowPpm, r, 'confined space low alarm');
      b.level('H2S', 'high', cs.h2sHighPpm, r, 'confined space high alarm');
      for (const l of options.stelTwa ?? GBZ21_LIMITS) b.exposure(l);
      break;
    }
    default:
      throw new AlarmInputError('unknown_profile', `unknown alarm profile '${String(profile)}'`, { profile });
  }
  // stelTwa given explicitly also applies outside confined-space (e.g. a CO channel in a workshop).
  if (profile !== 'confined-space') for (const l of options.stelTwa ?? []) b.exposure(l);
  b.detector();
  b.faults();
  return b.defs;
}

// ---------------------------------------------------------------------------------------------
// The rule set

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
    return { lastTs: null, lastGasTs: {}, warmupSince: null, measures: {}, thresholds: {}, active: {} };
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

    const next: AlarmState = { lastTs: ts, lastGasTs, warmupSince, measures, thresholds, active };
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
