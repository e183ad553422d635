import { GASES, type GasId, ppmToMgM3 } from '../gases.js';
import { AlarmInputError } from './errors.js';
import {
  COMBUSTIBLE,
  CONFINED_SPACE,
  EN50291,
  GBZ21_LIMITS,
  NORMAL_O2_PCT,
  STEL_WINDOW_MS,
  TWA_WINDOW_MS,
  UL2034,
} from './standards.js';
import { clearLevel, type ThresholdSpec } from './threshold.js';
import {
  type AlarmCondition,
  type AlarmProfileId,
  type ExposureLimit,
  type RuleOptions,
  type Severity,
  SITE_TYPES,
} from './types.js';
import type { WindowState } from './window.js';

// What each alarm profile watches: its conditions, each a measure (what number to watch: an
// instant value, a dose, a window mean, a status) and a threshold on it, built from the standards'
// numbers and the site's options. rules.ts runs them.

export const DEFAULTS = { hysteresis: 0.1, onDelayS: 0, maxGapS: 600, maxWarmupS: 900 } as const;
const COMBUSTIBLE_GASES: readonly GasId[] = ['LEL', 'CH4', 'C3H8'];

export type Measure =
  | { kind: 'instant'; gas: GasId; factor: number }
  | { kind: 'dose'; gas: GasId; tauMin: number }
  | { kind: 'window'; gas: GasId; windowMs: number; factor: number }
  | { kind: 'fault' }
  | { kind: 'warmup' }
  | { kind: 'detector' };

export interface ConditionDef {
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

export type MeasureState = { dose: number; c: number; t: number } | WindowState;

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

const OP_TEXT = { '>=': '≥', '>': '>', '<': '<', '<=': '≤' } as const;

export function conditionOf(def: ConditionDef, value: number, cleared: boolean): AlarmCondition {
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

export function nonNegative(name: string, v: number | undefined, fallback: number): number {
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

export function buildDefs(profile: AlarmProfileId, options: RuleOptions): ConditionDef[] {
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
