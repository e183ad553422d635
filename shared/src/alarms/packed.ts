import type { GasId } from '../gases.js';
import type { MeasureState } from './conditions.js';
import type { AlarmRuleSet, AlarmState } from './rules.js';
import { THRESHOLD_IDLE, type ThresholdState } from './threshold.js';
import type { RuleSet } from './types.js';

// A rule state packed for keeping: a server keeps two states per device (the current one and its
// replay buffer's base), a million devices each, between readings a minute apart. As AlarmState
// a quiet CO detector's state is ~7 objects (the state, its lastGasTs, measures and dose record,
// boxed numbers: ~290 bytes); packed it is one array of four unboxed doubles (80 bytes, issue 18).
// The rule set knows its conditions, so the layout is fixed per rule set and holds no keys:
//
//   [lastTs, lastGasTs of each watched gas..., dose and c of each dose measure..., warmupSince,
//    one number per condition's threshold..., t of each dose measure...]
//
// NaN stands for null or absent, and NaN at the end is left off (most devices have no threshold
// running and no warm-up: their array ends after the doses). A threshold is NaN (no entry),
// -Infinity (idle), +Infinity (raised) or the time its on-delay started; a dose's t is NaN when it
// is its gas's last time (it nearly always is). What does not fit the layout (raised conditions,
// window measures, a gas no condition watches) is kept aside as it is: rare for most devices
// (nothing raised, no STEL/TWA window), so most keep the bare array. unpack(pack(s)) equals s
// field by field; step() runs on the unpacked state as before.

/** What a packed state keeps aside of the layout: the state's own records, entries as they were. */
export interface PackedRest {
  lastGasTs?: Partial<Record<GasId, number>>;
  measures?: Record<string, MeasureState>;
  thresholds?: Record<string, ThresholdState>;
  active?: AlarmState['active'];
}

/**
 * A packed AlarmState: the layout's numbers, with what did not fit beside them when anything (or,
 * for a state not made by a rule set, that state whole).
 */
export type PackedState = number[] | { n: number[]; rest: PackedRest } | { whole: AlarmState };

/** Packs and unpacks the states of one rule set. */
export interface StatePacker {
  pack(state: AlarmState): PackedState;
  unpack(packed: PackedState): AlarmState;
}

/** A rule set whose states are packed: the same events and active conditions, smaller states. */
export type PackedRuleSet = RuleSet<PackedState> &
  StatePacker & { readonly conditions: AlarmRuleSet['conditions'] };

const EMPTY: Readonly<Record<string, never>> = Object.freeze({});
const RAISED: ThresholdState = Object.freeze({ active: true, pendingSince: null });

const isNum = (x: unknown): x is number => typeof x === 'number' && !Number.isNaN(x);
const nullable = (x: number | null): number => (x === null ? Number.NaN : x);
const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x);

/** A dose record {dose, c, t} with nothing else: the only measure the layout holds. */
function isDose(m: unknown): m is { dose: number; c: number; t: number } {
  if (typeof m !== 'object' || m === null) return false;
  const d = m as Record<string, unknown>;
  let n = 0;
  for (const _ in d) n++;
  return n === 3 && isNum(d.dose) && isNum(d.c) && isNum(d.t);
}

/** A threshold as one number, or undefined when it has no such form. */
function thresholdNumber(s: ThresholdState): number | undefined {
  if (typeof s !== 'object' || s === null) return undefined;
  let n = 0;
  for (const _ in s) n++;
  if (n !== 2) return undefined;
  if (s.active === true && s.pendingSince === null) return Number.POSITIVE_INFINITY;
  if (s.active !== false) return undefined;
  if (s.pendingSince === null) return Number.NEGATIVE_INFINITY;
  return Number.isFinite(s.pendingSince) ? s.pendingSince : undefined;
}

function thresholdOf(x: number): ThresholdState | undefined {
  if (Number.isNaN(x)) return undefined;
  if (x === Number.POSITIVE_INFINITY) return RAISED;
  if (x === Number.NEGATIVE_INFINITY) return THRESHOLD_IDLE;
  return { active: false, pendingSince: x };
}

/** Packer for a rule set with these conditions (AlarmRuleSet.conditions). */
export function createStatePacker(conditions: AlarmRuleSet['conditions']): StatePacker {
  const gases: GasId[] = [];
  for (const c of conditions)
    if (c.gas !== undefined && !gases.includes(c.gas) && c.measure !== 'fault') gases.push(c.gas);
  const doses = conditions.filter((c) => c.measure === 'dose');
  const keys = conditions.map((c) => c.key);
  const gasAt = new Map(gases.map((g, i) => [g, 1 + i]));
  const doseFrom = 1 + gases.length;
  const warmupAt = doseFrom + 2 * doses.length;
  const thresholdAt = new Map(keys.map((k, i) => [k, warmupAt + 1 + i]));
  const tFrom = warmupAt + 1 + keys.length;
  /** Per dose measure: its key, where its dose and c are, where its t is, where its gas's last time is. */
  const doseAt = new Map(
    doses.map((c, i) => [
      c.key,
      { at: doseFrom + 2 * i, tAt: tFrom + i, gasAt: gasAt.get(c.gas as GasId) as number },
    ]),
  );
  const length = tFrom + doses.length;
  const doseKeys = doses.map((c) => c.key);
  const doseGasAt = doses.map((c) => gasAt.get(c.gas as GasId) as number);
  /** Filled by pack() before the kept array is made at the length it needs (pack is synchronous). */
  const scratch = new Float64Array(length);

  function pack(state: AlarmState): PackedState {
    const { lastTs, warmupSince } = state;
    if (!(lastTs === null || isNum(lastTs)) || !(warmupSince === null || isNum(warmupSince)))
      return { whole: state };
    const n = scratch;
    n.fill(Number.NaN);
    n[0] = nullable(lastTs);
    n[warmupAt] = nullable(warmupSince);
    let gasRest: Partial<Record<GasId, number>> | undefined;
    let measureRest: Record<string, MeasureState> | undefined;
    let thresholdRest: Record<string, ThresholdState> | undefined;
    for (const g in state.lastGasTs) {
      const v = state.lastGasTs[g as GasId];
      const at = gasAt.get(g as GasId);
      if (at !== undefined && isNum(v)) n[at] = v;
      else {
        gasRest ??= {};
        gasRest[g as GasId] = v;
      }
    }
    for (const k in state.measures) {
      const m = state.measures[k] as MeasureState;
      const d = doseAt.get(k);
      if (d !== undefined && isDose(m)) {
        n[d.at] = m.dose;
        n[d.at + 1] = m.c;
        n[d.tAt] = m.t;
      } else {
        measureRest ??= {};
        measureRest[k] = m;
      }
    }
    // A dose's t is its gas's last time (both are the time of the last usable sample): not kept twice.
    for (let i = 0; i < doseKeys.length; i++)
      if (n[tFrom + i] === n[doseGasAt[i] as number]) n[tFrom + i] = Number.NaN;
    for (const k in state.thresholds) {
      const s = state.thresholds[k] as ThresholdState;
      const at = thresholdAt.get(k);
      const x = at === undefined ? undefined : thresholdNumber(s);
      if (at !== undefined && x !== undefined) n[at] = x;
      else {
        thresholdRest ??= {};
        thresholdRest[k] = s;
      }
    }
    let active = false;
    for (const _ in state.active) {
      active = true;
      break;
    }
    // Made at its length and filled with numbers only: unboxed doubles, no spare capacity.
    let used = length;
    while (used > 0 && Number.isNaN(n[used - 1] as number)) used--;
    const kept = new Array<number>(used);
    for (let i = 0; i < used; i++) kept[i] = n[i] as number;
    if (gasRest === undefined && measureRest === undefined && thresholdRest === undefined && !active)
      return kept;
    const rest: PackedRest = {};
    if (gasRest !== undefined) rest.lastGasTs = gasRest;
    if (measureRest !== undefined) rest.measures = measureRest;
    if (thresholdRest !== undefined) rest.thresholds = thresholdRest;
    if (active) rest.active = state.active;
    return { n: kept, rest };
  }

  function unpack(packed: PackedState): AlarmState {
    if ('whole' in packed) return packed.whole;
    const n = Array.isArray(packed) ? packed : packed.n;
    const rest = Array.isArray(packed) ? undefined : packed.rest;
    // Index loops over the layout, stopping where the array ends (NaN at the end was left off).
    const len = n.length;
    let lastGasTs: Partial<Record<GasId, number>> | undefined;
    for (let i = 0; i < gases.length && 1 + i < len; i++) {
      const v = n[1 + i] as number;
      if (Number.isNaN(v)) continue;
      lastGasTs ??= {};
      lastGasTs[gases[i] as GasId] = v;
    }
    let measures: Record<string, MeasureState> | undefined;
    for (let i = 0; i < doseKeys.length && doseFrom + 2 * i < len; i++) {
      const dose = n[doseFrom + 2 * i] as number;
      if (Number.isNaN(dose)) continue;
      const t = tFrom + i < len ? (n[tFrom + i] as number) : Number.NaN;
      measures ??= {};
      measures[doseKeys[i] as string] = {
        dose,
        c: n[doseFrom + 2 * i + 1] as number,
        t: Number.isNaN(t) ? (n[doseGasAt[i] as number] as number) : t,
      };
    }
    let thresholds: Record<string, ThresholdState> | undefined;
    for (let i = 0; i < keys.length && warmupAt + 1 + i < len; i++) {
      const s = thresholdOf(n[warmupAt + 1 + i] as number);
      if (s === undefined) continue;
      thresholds ??= {};
      thresholds[keys[i] as string] = s;
    }
    if (rest?.lastGasTs) lastGasTs = { ...lastGasTs, ...rest.lastGasTs };
    if (rest?.measures) measures = { ...measures, ...rest.measures };
    if (rest?.thresholds) thresholds = { ...thresholds, ...rest.thresholds };
    return {
      lastTs: len > 0 ? orNull(n[0] as number) : null,
      lastGasTs: lastGasTs ?? EMPTY,
      warmupSince: warmupAt < len ? orNull(n[warmupAt] as number) : null,
      measures: measures ?? EMPTY,
      thresholds: thresholds ?? EMPTY,
      active: rest?.active ?? EMPTY,
    };
  }

  return { pack, unpack };
}

/**
 * The rule set with packed states: step() unpacks, steps and packs again (a few small objects
 * made and dropped per step, for the memory kept between steps). For a process that keeps many
 * states (the server); the gateway keeps a few and steps often, and runs the rule set as it is.
 */
export function packedRuleSet(rules: AlarmRuleSet): PackedRuleSet {
  const { pack, unpack } = createStatePacker(rules.conditions);
  return {
    profile: rules.profile,
    conditions: rules.conditions,
    pack,
    unpack,
    initial: () => pack(rules.initial()),
    step(state, sample) {
      const r = rules.step(unpack(state), sample);
      return { state: pack(r.state), events: r.events, active: r.active };
    },
  };
}

/** The time of the last sample a packed state took in (AlarmState.lastTs), without unpacking. */
export function packedLastTs(packed: PackedState): number | null {
  if ('whole' in packed) return packed.whole.lastTs;
  const n = Array.isArray(packed) ? packed : packed.n;
  return n.length === 0 ? null : orNull(n[0] as number);
}
