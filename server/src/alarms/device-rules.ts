import {
  ALARM_PROFILE_IDS,
  type AlarmCondition,
  type AlarmProfileId,
  type AlarmSample,
  createRuleSet,
  type DeviceKind,
  DeviceKindSchema,
  type GasId,
  type PackedRuleSet,
  type PackedState,
  packedLastTs,
  packedRuleSet,
} from '@gaswatch/shared';
import type { Logger } from 'pino';
import { type DeviceStateInfo, type ReadingAccepted, type StoredLookup, stateInfoOf } from '../bus.js';
import { LATE_AFTER_MS } from '../ingest/clock-limits.js';
import { withReadingExtras } from '../store/reading-extras.js';
import type { AlarmSource } from './alarm-book.js';
import type { GaswatchConfig } from './config-schema.js';
import { clockJumped, clockReset } from './gateway-clock.js';
import type { AlarmMetrics } from './metrics.js';
import type { Reconciler } from './reconcile.js';
import { DeviceReplayBuffer } from './replay-buffer.js';
import type { RuleHistory } from './rule-history.js';
import { inferKind, own, selectionKey, selectRules, unappliedKeys } from './select.js';

/** Gases some alarm profile has a rule for (a channel of one of them that a device's profile ignores is reported). */
const ALARM_GASES: ReadonlySet<GasId> = new Set(
  ALARM_PROFILE_IDS.flatMap((p) =>
    createRuleSet(p).conditions.flatMap((c) => (c.gas === undefined ? [] : [c.gas])),
  ),
);

const NONE_CLEARED: ReadonlyMap<string, number> = new Map();
/**
 * A device with no condition raised (nearly all of them) shares this one empty map: a Map of its
 * own costs ~150 bytes a device (issue 18). Never written: ownRaised() gives a device its own.
 */
const NONE_RAISED: ReadonlyMap<string, number> = new Map();

/** What every device of one selection (profile and options) shares: its rule set and what it watches. */
interface SharedRules {
  /** selectionKey of the profile and options the rules were built from (one string for all). */
  key: string;
  profile: AlarmProfileId;
  rules: PackedRuleSet;
  /** Gases the rules watch (a channel of another gas is reported, once per device). */
  watched: ReadonlySet<GasId>;
  /** Condition keys of the rules. */
  keys: ReadonlySet<string>;
}

/**
 * Device kinds, one copy each: a kind parsed from a DeviceState is a string of its own, one per
 * device kept for good (~32 bytes a device, issue 18).
 */
const KINDS: ReadonlyMap<string, DeviceKind> = new Map(DeviceKindSchema.options.map((k) => [k, k]));

/** A state before any rules were selected: no sample taken in (lastTs -Infinity). */
const NO_STATE: PackedState = [Number.NaN];

/**
 * One device as its alarm rules see it: which rules it runs and where they stand, and (the class
 * it extends) its replay buffer: reset, remember, replay, fromTs. What is the same for every
 * device of a selection is behind one reference (`set`), and what can be read off the rule state
 * (`lastTs`) is not kept twice: a city's devices each keep one (issue 18).
 */
class DeviceRules extends DeviceReplayBuffer implements AlarmSource {
  kind: DeviceKind | null = null;
  /** The rules selected for the device (null until its first reading, or after its kind or site changed). */
  set: SharedRules | null = null;
  /** Where the rules stand, packed (NO_STATE while none are selected). */
  state: PackedState = NO_STATE;
  /**
   * Highest reading seq the rules have seen (-1: none). The gateway's seq is per device and
   * persisted: a reading stamped before `lastTs` whose seq is beyond this one is not a resend
   * but a gateway clock that went back.
   */
  maxSeq = -1;
  /** How far the gateway clock was behind when it was last found reset backwards (ms; 0: not). */
  clockBehindMs = 0;
  warmed = false;
  /**
   * Event time each currently raised condition was raised at (alarm ids derive from it);
   * NONE_RAISED while none is.
   */
  raisedAt: ReadonlyMap<string, number> = NONE_RAISED;

  constructor(
    public gw: string,
    readonly dev: string,
    public site: string | null,
  ) {
    super();
  }

  get rules(): PackedRuleSet | null {
    return this.set?.rules ?? null;
  }

  /** The alarm profile the rules run (null before any was selected). */
  get profile(): AlarmProfileId | null {
    return this.set?.profile ?? null;
  }

  /** Event time of the last sample fed to the rules: the rule state's own (-Infinity: none). */
  get lastTs(): number {
    return this.lastTsOf(this.state);
  }

  protected lastTsOf(state: unknown): number {
    return packedLastTs(state as PackedState) ?? Number.NEGATIVE_INFINITY;
  }
}

/** The rules of every device the engine knows, selected, warmed and fed in event time. */
export interface DeviceRuleBook {
  /** Knows the device (on its gateway); a DeviceState may change its kind or site and so its rules. */
  track(gw: string, dev: string, state: DeviceStateInfo | null): void;
  /** A site for a device that has none yet (from its open alarms, at start). */
  adoptSite(dev: string, site: string | null): void;
  siteOf(dev: string): string | null;
  /** The device's rules are selected and rebuilt from stored readings: a reading can go in at once. */
  ready(dev: string): boolean;
  /** The gateway clock moved (set back, or corrected after running ahead): the rules need a rebuild first. */
  clockMoved(r: ReadingAccepted): boolean;
  /** Evaluates a reading of a ready device whose clock did not move. */
  evaluate(r: ReadingAccepted): void;
  /** Evaluates any reading: selects and rebuilds the rules first where needed. */
  process(r: ReadingAccepted): Promise<void>;
}

export interface DeviceRuleBookDeps {
  config: GaswatchConfig;
  logger: Logger;
  metrics: AlarmMetrics;
  history: RuleHistory;
  reconciler: Reconciler;
}

/**
 * Per-device rule state: selects each device's rules (from its kind, site and overrides), rebuilds
 * their state from stored readings before its first reading is evaluated, feeds readings in event
 * time (out-of-order ones through the replay buffer), and rebuilds again when the gateway clock
 * jumps. What the rules report goes to the reconciler, which turns it into alarms.
 */
export function createDeviceRuleBook(deps: DeviceRuleBookDeps): DeviceRuleBook {
  const { config, metrics, history, reconciler, logger: log } = deps;
  const devices = new Map<string, DeviceRules>();
  /**
   * Rule sets are pure (state in, state out): one per selection (profile and options), shared by
   * every device that runs it, instead of a set of closures per device (issue 18).
   */
  const ruleSets = new Map<string, SharedRules>();
  /** Channels already reported as not watched, by device: once each (a rare device has any). */
  const unwatchedWarned = new Map<string, Set<GasId>>();

  function deviceFor(gw: string, dev: string): DeviceRules {
    let rt = devices.get(dev);
    if (rt === undefined) {
      rt = new DeviceRules(gw, dev, own(config.devices, dev)?.site ?? null);
      devices.set(dev, rt);
    }
    rt.gw = gw;
    return rt;
  }

  function applyState(rt: DeviceRules, s: DeviceStateInfo): void {
    const site = s.site || (own(config.devices, rt.dev)?.site ?? null);
    const kind = KINDS.get(s.kind) ?? s.kind;
    if (rt.kind === kind && rt.site === site) return;
    rt.kind = kind;
    rt.site = site;
    if (rt.set !== null && selectionKey(selectRules(config, rt.dev, kind, site)) !== rt.set.key) {
      // Kind or site now implies another profile or other options (a household site's first
      // combustible alarm, say): rebuild its state from history on the next reading.
      log.info({ dev: rt.dev, kind: s.kind, site }, 'device kind or site changed: alarm rules reselected');
      rt.set = null;
      rt.warmed = false;
      rt.state = NO_STATE;
      rt.raisedAt = NONE_RAISED;
    }
  }

  function track(gw: string, dev: string, state: DeviceStateInfo | null): DeviceRules {
    const rt = deviceFor(gw, dev);
    if (state !== null) applyState(rt, state);
    return rt;
  }

  function ensureRules(rt: DeviceRules, values: Partial<Record<GasId, number>>): PackedRuleSet {
    if (rt.set !== null) return rt.set.rules;
    const kind = rt.kind ?? inferKind(values);
    const sel = selectRules(config, rt.dev, kind, rt.site);
    const key = selectionKey(sel);
    let shared = ruleSets.get(key);
    if (shared === undefined) {
      let built: ReturnType<typeof createRuleSet>;
      try {
        built = createRuleSet(sel.profile, sel.options);
      } catch (err) {
        // Options checked at start build under every profile; should a combination still fail,
        // the device runs its profile's defaults rather than no rules at all.
        log.error(
          { err, dev: rt.dev, kind, profile: sel.profile },
          `alarm options of ${rt.dev} refused by profile ${sel.profile}: running its default set points`,
        );
        built = createRuleSet(sel.profile);
      }
      shared = {
        key,
        profile: sel.profile,
        // Packed states (one array of numbers per state, not ~7 objects): the engine keeps two
        // per device, the current one and its replay buffer's base (issue 18).
        rules: packedRuleSet(built),
        watched: new Set(built.conditions.flatMap((c) => (c.gas === undefined ? [] : [c.gas]))),
        keys: new Set(built.conditions.map((c) => c.key)),
      };
      ruleSets.set(key, shared);
    }
    const unapplied = unappliedKeys(sel.options, shared.keys);
    if (unapplied.length > 0)
      log.warn(
        { dev: rt.dev, kind, profile: sel.profile, unapplied },
        `${rt.dev} runs alarm profile ${sel.profile} (kind ${kind}), which has no condition for ${unapplied.join(', ')}: not applied (give the device a profile in GASWATCH_CONFIG devices.${rt.dev}.profile, or check its kind)`,
      );
    rt.set = shared;
    unwatchedWarned.delete(rt.dev);
    rt.state = shared.rules.initial();
    log.debug({ dev: rt.dev, kind, profile: sel.profile }, 'alarm rules selected');
    return shared.rules;
  }

  /** The device's own raise-time map, made when its first condition is raised. */
  function ownRaised(rt: DeviceRules): Map<string, number> {
    if (rt.raisedAt === NONE_RAISED) rt.raisedAt = new Map();
    return rt.raisedAt as Map<string, number>;
  }

  /** Notes raise/clear times; returns when each condition cleared (shared empty map: none did). */
  function noteEvents(
    rt: DeviceRules,
    events: { type: 'raised' | 'cleared'; ts: number; condition: AlarmCondition }[],
  ): ReadonlyMap<string, number> {
    let cleared: Map<string, number> | undefined;
    for (const ev of events) {
      if (ev.type === 'raised') ownRaised(rt).set(ev.condition.key, ev.ts);
      else {
        if (rt.raisedAt.has(ev.condition.key)) {
          const own = ownRaised(rt);
          own.delete(ev.condition.key);
          if (own.size === 0) rt.raisedAt = NONE_RAISED;
        }
        cleared ??= new Map();
        cleared.set(ev.condition.key, ev.ts);
      }
    }
    return cleared ?? NONE_CLEARED;
  }

  /**
   * Replays the device's stored readings before `beforeTs` into fresh rule state, silently (from
   * ingest's lookup when the reading carries one).
   */
  async function warm(
    rt: DeviceRules,
    rules: PackedRuleSet,
    beforeTs: number,
    lookup?: StoredLookup,
  ): Promise<void> {
    const rows = await history.before(rt.dev, beforeTs, lookup);
    // Reselected meanwhile (a new DeviceState): process() warms again with the new rules.
    if (rt.rules !== rules) return;
    let state = rules.initial();
    let lastTs = Number.NEGATIVE_INFINITY;
    for (const row of rows) {
      if (row.ts <= lastTs) continue;
      try {
        const sample: AlarmSample = { ts: row.ts, values: row.values, status: row.status ?? 'ok' };
        const step = rules.step(state, withReadingExtras(sample, row));
        state = step.state;
        noteEvents(rt, step.events);
        lastTs = row.ts;
        if (row.seq !== undefined && row.seq > rt.maxSeq) rt.maxSeq = row.seq;
      } catch (err) {
        log.warn({ err, dev: rt.dev, ts: row.ts }, 'stored reading rejected by the rules during rebuild');
      }
    }
    rt.state = state;
    rt.warmed = true;
    // The replay buffer starts afresh at the rebuilt state.
    rt.reset();
    if (rows.length > 0)
      log.info({ dev: rt.dev, readings: rows.length }, 'alarm rule state rebuilt from stored readings');
  }

  /**
   * A gas channel the device's rules do not watch (a combustible channel on a device run as
   * household CO, say) would be silently ignored: say so once per device and gas.
   */
  function warnUnwatched(rt: DeviceRules, values: Partial<Record<GasId, number>>): void {
    for (const gas of Object.keys(values) as GasId[]) {
      if (rt.set?.watched.has(gas) || !ALARM_GASES.has(gas)) continue;
      let warned = unwatchedWarned.get(rt.dev);
      if (warned?.has(gas)) continue;
      if (warned === undefined) {
        warned = new Set();
        unwatchedWarned.set(rt.dev, warned);
      }
      warned.add(gas);
      log.warn(
        { dev: rt.dev, gas, profile: rt.profile, kind: rt.kind },
        `${rt.dev} reports ${gas} but its alarm profile ${rt.profile} has no rule for it: ${gas} raises no alarm on the server (check the device kind or its profile override)`,
      );
    }
  }

  /**
   * Ingest marks a reading late by its age at arrival; a gateway whose clock was set back stamps
   * its live readings that much in the past. Those are not outbox replays: only age beyond the
   * clock error found at the reset counts, until the device sends a reading that is not late.
   */
  function isLate(rt: DeviceRules, r: ReadingAccepted): boolean {
    if (!r.late) {
      rt.clockBehindMs = 0;
      return false;
    }
    return rt.clockBehindMs === 0 || r.receivedAt - r.ts - rt.clockBehindMs > LATE_AFTER_MS;
  }

  /** A reading older than the last one the rules saw: replayed in place, or skipped when too old. */
  function evaluateLate(
    rt: DeviceRules,
    rules: PackedRuleSet,
    r: ReadingAccepted,
    sample: AlarmSample,
  ): void {
    const out = rt.replay(rules, sample, (state, raisedAt) => {
      rt.state = state as PackedState;
      rt.raisedAt = raisedAt.size > 0 ? raisedAt : NONE_RAISED;
    });
    switch (out.kind) {
      case 'replayed':
        for (const { step } of out.steps) noteEvents(rt, step.events);
        reconciler.afterReplay(rt, rt.raisedAt, out.steps, sample.ts);
        return;
      case 'duplicate':
        metrics.skipped.inc({ reason: 'duplicate_ts' });
        return;
      case 'rule_error':
        metrics.skipped.inc({ reason: 'rule_error' });
        log.error({ err: out.err, dev: rt.dev, ts: sample.ts }, 'alarm rules rejected a late reading');
        return;
      case 'too_old':
        metrics.skipped.inc({ reason: 'out_of_order' });
        log.warn(
          { dev: r.dev, ts: r.ts, lastTs: rt.lastTs, replayFrom: rt.fromTs() },
          'reading older than the replay window of the rule state: stored, not evaluated',
        );
    }
  }

  /** Feeds one reading to the device's (warmed, current) rules and reconciles its alarms. */
  function evaluate(rt: DeviceRules, rules: PackedRuleSet, r: ReadingAccepted): void {
    warnUnwatched(rt, r.reading.values);
    const sample = withReadingExtras<AlarmSample>(
      { ts: r.ts, values: r.reading.values, status: r.reading.status },
      r.reading,
    );
    if (r.reading.seq > rt.maxSeq) rt.maxSeq = r.reading.seq;
    if (r.ts <= rt.lastTs) {
      evaluateLate(rt, rules, r, sample);
      return;
    }
    let step: ReturnType<PackedRuleSet['step']>;
    try {
      step = rules.step(rt.state, sample);
    } catch (err) {
      metrics.skipped.inc({ reason: 'rule_error' });
      log.error({ err, dev: r.dev, ts: r.ts }, 'alarm rules rejected a reading');
      return;
    }
    // Its lastTs is now r.ts (rt.lastTs reads it off the state).
    rt.state = step.state;
    rt.remember(rules, sample, step);
    const cleared = noteEvents(rt, step.events);
    reconciler.afterStep(rt, rt.raisedAt, step.active, cleared, r.ts, isLate(rt, r));
  }

  async function process(r: ReadingAccepted, attempt = 0): Promise<void> {
    const rt = track(r.gw, r.dev, stateInfoOf(r.device));
    const rules = ensureRules(rt, r.reading.values);
    if (!rt.warmed) await warm(rt, rules, r.ts, r.stored);
    if (rt.rules !== rules) {
      // Reselected while warming (a new DeviceState): evaluate with the new rules.
      if (attempt < 2) return process(r, attempt + 1);
      log.warn({ dev: r.dev, ts: r.ts }, 'alarm rules keep changing: reading not evaluated');
      return;
    }
    const jumped = clockJumped(rt.lastTs, r);
    if (jumped || clockReset(rt, r)) {
      // Either the rules ran ahead on readings stamped in the future (a gateway clock that was
      // wrong and got corrected), or the gateway clock was set back (a Pi without a real-time
      // clock rebooted with an older saved time and no NTP). Skipping readings until their time
      // passes the last one would mute the device for that long. Rebuild its rule state from the
      // stored readings before this one (those stamped after it under the old clock are left
      // out), as after a restart: starting from empty state would forget the exposure so far and
      // clear an open dose alarm that still holds.
      if (jumped) {
        metrics.skipped.inc({ reason: 'clock_jump_reset' });
        metrics.rebuilds.inc({ reason: 'clock_jump' });
        log.warn(
          { dev: r.dev, ts: r.ts, aheadMs: rt.lastTs - r.receivedAt },
          'device clock went back to real time: alarm rule state rebuilt from stored readings',
        );
      } else {
        metrics.rebuilds.inc({ reason: 'clock_reset' });
        rt.clockBehindMs = Math.max(0, r.receivedAt - r.ts);
        log.warn(
          {
            dev: r.dev,
            gw: r.gw,
            ts: new Date(r.ts).toISOString(),
            lastTs: new Date(rt.lastTs).toISOString(),
            backMs: rt.lastTs - r.ts,
            seq: r.reading.seq,
            lastSeq: rt.maxSeq,
          },
          `gateway ${r.gw} clock went back ${Math.round((rt.lastTs - r.ts) / 1000)} s (seq ${r.reading.seq} follows ${rt.maxSeq} but is stamped before the last reading): alarm rule state of ${r.dev} rebuilt from stored readings before it; fix the gateway's time (NTP)`,
        );
      }
      rt.state = rules.initial();
      rt.raisedAt = NONE_RAISED;
      await warm(rt, rules, r.ts);
      if (rt.rules !== rules) {
        if (attempt < 2) return process(r, attempt + 1);
        return;
      }
    }
    evaluate(rt, rules, r);
  }

  return {
    track(gw, dev, state) {
      track(gw, dev, state);
    },
    adoptSite(dev, site) {
      const rt = devices.get(dev);
      if (rt !== undefined) rt.site ??= site;
    },
    siteOf: (dev) => devices.get(dev)?.site ?? null,
    ready(dev) {
      const rt = devices.get(dev);
      return rt?.warmed === true && rt.rules !== null;
    },
    clockMoved(r) {
      const rt = devices.get(r.dev);
      return rt !== undefined && (clockJumped(rt.lastTs, r) || clockReset(rt, r));
    },
    evaluate(r) {
      const rt = devices.get(r.dev);
      if (rt === undefined || rt.rules === null) throw new Error(`alarm rules of ${r.dev} are not ready`);
      evaluate(rt, rt.rules, r);
    },
    process: (r) => process(r),
  };
}
