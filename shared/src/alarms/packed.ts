import type { GasId } from '../gases.js';
import type { MeasureState } from './conditions.js';
import type { AlarmRuleSet, AlarmState } from './rules.js';
import { THRESHOLD_IDLE, type ThresholdState } from './threshold.js';
import type { RuleSet } from './types.js';

// A rule state packed for keeping: a server keeps two states per device (the current one and its
// replay buffer's base), a million devices each, between readings a minute apart. As AlarmState
// a quiet CO detector's state is ~7 objects (the state, its lastGasTs, measures and dose record,
// boxed numbers: ~290 bytes); packed it is one array of unboxed doubles (~140 bytes, issue 18).
// The rule set knows its conditions, so the layout is fixed per rule set and holds no keys:
//
//   [lastTs, warmupSince, lastGasTs of each watched gas..., dose, c, t of each dose measure...,
//    one number per condition's threshold...]
//
// NaN stands for null or absent; a threshold is NaN (no entry), -Infinity (idle), +Infinity
// (raised) or the time its on-delay started. What does not fit the layout (raised conditions,
// window measures, a gas no condition watches) is kept aside as it is, unchanged: rare for most
// devices (nothing raised, no STEL/TWA window), so most devices keep the bare array.
// unpack(pack(s)) equals s field by field; step() runs on the unpacked state as before.

/** What a packed state keeps aside of the layout: the state's own records, entries as they were. */
export interface PackedRest {
  lastGasTs?: Partial<Record<GasId, number>>;
  measures?: Record<string, MeasureState>;
  thresholds?: Record<string, ThresholdState>;
  active?: AlarmState['active'];
}

/** A packed AlarmState: the layout's numbers, with what did not fit beside them when anything. */
export type PackedState = number[] | { n: number[]; rest: PackedRest };

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
  const doses = conditions.filter((c) => c.measure === 'dose').map((c) => c.key);
  const keys = conditions.map((c) => c.key);
  const gasAt = new Map(gases.map((g, i) => [g, 2 + i]));
  const doseAt = new Map(doses.map((k, i) => [k, 2 + gases.length + 3 * i]));
  const thresholdAt = new Map(keys.map((k, i) => [k, 2 + gases.length + 3 * doses.length + i]));
  const length = 2 + gases.length + 3 * doses.length + keys.length;

  function pack(state: AlarmState): PackedState {
    const { lastTs, warmupSince } = state;
    if (!(lastTs === null || isNum(lastTs)) || !(warmupSince === null || isNum(warmupSince)))
      return { n: [], rest: state };
    // Preallocated to its length and filled with numbers only: unboxed doubles, no spare capacity.
    const n = new Array<number>(length);
    for (let i = 0; i < length; i++) n[i] = Number.NaN;
    n[0] = nullable(lastTs);
    n[1] = nullable(warmupSince);
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
      const at = doseAt.get(k);
      if (at !== undefined && isDose(m)) {
        n[at] = m.dose;
        n[at + 1] = m.c;
        n[at + 2] = m.t;
      } else {
        measureRest ??= {};
        measureRest[k] = m;
      }
    }
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
    if (gasRest === undefined && measureRest === undefined && thresholdRest === undefined && !active)
      return n;
    const rest: PackedRest = {};
    if (gasRest !== undefined) rest.lastGasTs = gasRest;
    if (measureRest !== undefined) rest.measures = measureRest;
    if (thresholdRest !== undefined) rest.thresholds = thresholdRest;
    if (active) rest.active = state.active;
    return { n, rest };
  }

  function unpack(packed: PackedState): AlarmState {
    const n = Array.isArray(packed) ? packed : packed.n;
    const rest = Array.isArray(packed) ? undefined : packed.rest;
    if (n.length === 0) return rest as AlarmState;
    let lastGasTs: Partial<Record<GasId, number>> | undefined;
    for (const [g, at] of gasAt) {
      const v = n[at] as number;
      if (Number.isNaN(v)) continue;
      lastGasTs ??= {};
      lastGasTs[g] = v;
    }
    let measures: Record<string, MeasureState> | undefined;
    for (const [k, at] of doseAt) {
      const dose = n[at] as number;
      if (Number.isNaN(dose)) continue;
      measures ??= {};
      measures[k] = { dose, c: n[at + 1] as number, t: n[at + 2] as number };
    }
    let thresholds: Record<string, ThresholdState> | undefined;
    for (const [k, at] of thresholdAt) {
      const s = thresholdOf(n[at] as number);
      if (s === undefined) continue;
      thresholds ??= {};
      thresholds[k] = s;
    }
    if (rest?.lastGasTs) lastGasTs = { ...lastGasTs, ...rest.lastGasTs };
    if (rest?.measures) measures = { ...measures, ...rest.measures };
    if (rest?.thresholds) thresholds = { ...thresholds, ...rest.thresholds };
    return {
      lastTs: orNull(n[0] as number),
      lastGasTs: lastGasTs ?? EMPTY,
      warmupSince: orNull(n[1] as number),
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
  const n = Array.isArray(packed) ? packed : packed.n;
  if (n.length === 0) return ((packed as { rest: PackedRest }).rest as AlarmState).lastTs;
  return orNull(n[0] as number);
}
