import type { GasId, MolarVolumeBasis } from '../gases.js';
import type { ReadingStatus } from '../schemas.js';

/** Which set of alarm rules a device runs (SPEC §6). */
export type AlarmProfileId = 'ul2034' | 'en50291' | 'combustible' | 'confined-space';
export const ALARM_PROFILE_IDS: readonly AlarmProfileId[] = [
  'ul2034',
  'en50291',
  'combustible',
  'confined-space',
];

/**
 * Where a detector is installed, as far as the alarm numbers care (SPEC §6): a home, where the
 * combustible first alarm is 10 %LEL (GB 15322), or anywhere else, 25 %LEL (GB/T 50493-2019).
 */
export type SiteType = 'household' | 'workplace';
export const SITE_TYPES: readonly SiteType[] = ['household', 'workplace'];

/** warning: act soon (first stage, exposure average, device trouble); critical: act now. */
export type Severity = 'warning' | 'critical';

/** One sample of a device in event time. */
export interface AlarmSample {
  /** ms since epoch, the reading's own time (not the time it arrived). */
  ts: number;
  /** Concentrations in canonical units (SPEC §2 gas catalogue). A missing channel is "not known", never 0. */
  values: Partial<Record<GasId, number>>;
  /** What the detector said about itself; only 'ok' samples drive gas alarms. */
  status: ReadingStatus;
  /** Fault codes the detector reported, e.g. 'sensor_eol'. */
  faults?: string[];
  /**
   * Per-channel quality. A 'bad' value (e.g. over range) is fail-safe: a condition takes it in only
   * when it is on the alarm side of its set point (it may raise or hold, never clear, never pull
   * a dose below its set point); otherwise it is treated as missing.
   */
  quality?: Partial<Record<GasId, 'good' | 'bad' | 'uncertain'>>;
  /**
   * The detector's own alarm output at sampling time (Reading.alarm). true raises the 'detector'
   * condition, false clears it; absent means "not reported" and leaves it as it was.
   */
  alarm?: boolean;
}

/** A condition the rules watch; `key` is stable per device (one alarm per condition). */
export interface AlarmCondition {
  /** e.g. 'CO:dose', 'CO:fast', 'LEL:low', 'LEL:high', 'O2:low', 'O2:high', 'H2S:stel', 'CO:twa', 'fault', 'detector' */
  key: string;
  /** e.g. 'ul2034', 'en50291-slow', 'en50291-fast', 'combustible', 'confined-space', 'stel', 'twa', 'mac', 'fault', 'detector' */
  rule: string;
  gas?: GasId;
  severity: Severity;
  /** What tripped it (dose, concentration, window mean), in `unit`. */
  value: number;
  /** The set point, in `unit`. */
  threshold: number;
  /** Unit of value and threshold: 'ppm', '%vol', '%LEL', 'mg/m³', or '' for fault conditions. */
  unit?: string;
  /** Human text, e.g. 'CO dose 45.1 ppm ≥ 45 ppm (UL 2034)'. */
  message: string;
}

export interface RuleEvent {
  type: 'raised' | 'cleared';
  /** The sample time at which the rule saw the transition. */
  ts: number;
  condition: AlarmCondition;
}

export interface RuleStep<S> {
  /** The new state; the input state is never mutated. */
  state: S;
  /** Transitions caused by this sample, in a stable order. */
  events: RuleEvent[];
  /** Every condition active after this sample, with its current value. */
  active: AlarmCondition[];
}

/** Pure: (state, sample) → (state, events). Never mutates its input state. */
export interface RuleSet<S = unknown> {
  profile: AlarmProfileId;
  initial(): S;
  step(state: S, sample: AlarmSample): RuleStep<S>;
}

/** An exposure limit for STEL/TWA/MAC evaluation (mg/m³, GBZ 2.1 style). */
export interface ExposureLimit {
  gas: GasId;
  /** PC-STEL: limit for the 15-min time-weighted mean, mg/m³. */
  stelMgM3?: number;
  /** PC-TWA: limit for the 8-h time-weighted mean, mg/m³. */
  twaMgM3?: number;
  /** MAC: ceiling, compared with every sample, mg/m³. */
  macMgM3?: number;
}

/** All optional, sensible defaults from SPEC §6. */
export interface RuleOptions {
  /** Override a set point by condition key, e.g. { 'LEL:low': 10 } (unit of that condition). */
  thresholds?: Partial<Record<string, number>>;
  /** Fraction of the set point, default 0.1 (clear below set point − band). O2: fraction of the distance from 20.9 %vol. */
  hysteresis?: number;
  /** Absolute hysteresis band by condition key, overriding `hysteresis`, e.g. { 'O2:low': 0.2 }. */
  bands?: Partial<Record<string, number>>;
  /** A plain threshold must hold this long before raising, default 0 (dose and window rules are already time-averaged). */
  onDelayS?: number;
  /** On-delay by condition key, overriding `onDelayS` (the EN 50291 fast tier defaults to 120 s). */
  onDelays?: Partial<Record<string, number>>;
  /** STEL/TWA/MAC limits; default GBZ 2.1: CO PC-TWA 20, PC-STEL 30 mg/m³; H2S MAC 10 mg/m³ (confined-space only). */
  stelTwa?: ExposureLimit[];
  /** Molar volume basis for ppm → mg/m³, default '25C'. */
  molarVolume?: MolarVolumeBasis;
  /** Samples further apart than this don't integrate dose or exposure across the gap (default 600). */
  maxGapS?: number;
  /** A warm-up longer than this raises the 'fault:warmup' condition, default 900 s. */
  maxWarmupS?: number;
  /** Fault codes (in `faults`) that raise the 'fault' condition, default ['sensor_eol']. */
  faultCodes?: string[];
  /** Rules for a CO channel on a combustible detector, default 'en50291'. */
  combustibleCo?: 'en50291' | 'ul2034';
  /**
   * Where the detector is installed, default 'workplace'. 'household' moves the combustible first
   * alarm to 10 %LEL (GB 15322) on every combustible channel; a threshold by key still wins.
   */
  siteType?: SiteType;
}

/**
 * What kind of alarm it is, for response procedures, history filters, messages and the ledger: a
 * gas reading over its set point, the detector's own alarm output, a device gone silent, a device
 * fault (or a warm-up that never ends), a failed bump test.
 */
export const ALARM_KINDS = ['gas', 'detector', 'offline', 'fault', 'maintenance'] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];
