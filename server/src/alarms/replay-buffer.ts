import type { AlarmSample, RuleSet } from '@gaswatch/shared';

/**
 * A reading older than the device's last one (a gateway resend after a lost PUBACK) is evaluated by
 * replaying the device's recent samples with it in place: they are kept this long (event time) ...
 */
export const REPLAY_WINDOW_MS = 15 * 60_000;
/** ... and at most this many per device (bounds memory, ~200 bytes each, and the cost of one replay: 300 steps). */
export const REPLAY_MAX_SAMPLES = 300;
/**
 * The rule state after every this-many kept samples is kept too, so samples leaving the replay
 * buffer are folded into its base without being stepped through the rules a second time.
 */
const REPLAY_CHECKPOINT_EVERY = 32;

export type RuleStep = ReturnType<RuleSet<unknown>['step']>;

/** A device's rule state at one point: the buffer starts afresh from it. */
export interface RuleStatePoint {
  state: unknown;
  /** Event time of the last sample in that state. */
  ts: number;
  /** Event time each condition raised in that state was raised at. */
  raisedAt: ReadonlyMap<string, number>;
}

export type ReplayOutcome =
  /** At or before the oldest state the buffer can start from: not evaluated. */
  | { kind: 'too_old' }
  /** A sample with this timestamp is already kept. */
  | { kind: 'duplicate' }
  | { kind: 'rule_error'; err: unknown }
  /** Replayed and committed: the steps from the late sample on, in time order. */
  | { kind: 'replayed'; steps: { ts: number; step: RuleStep }[] };

/** One device's replay buffer. */
export interface ReplayBuffer {
  /** Starts afresh at the device's current rule state (after a rebuild from stored readings). */
  reset(): void;
  /** The time of the rule state a replay starts from (samples at or before it cannot be replayed). */
  fromTs(): number;
  /** Keeps an in-order sample and the step it made; drops (folds into the base) what is too old. */
  remember(rules: RuleSet<unknown>, sample: AlarmSample, step: RuleStep): void;
  /**
   * Replays the kept samples with a late one in place. On success `commit` receives the final rule
   * state and the raise times before the replayed steps (the caller applies the steps' events to
   * that map), and the buffer keeps the late sample.
   */
  replay(
    rules: RuleSet<unknown>,
    sample: AlarmSample,
    commit: (state: unknown, raisedAt: Map<string, number>) => void,
  ): ReplayOutcome;
}

function noteRaised(raisedAt: Map<string, number>, events: RuleStep['events']): void {
  for (const ev of events) {
    if (ev.type === 'raised') raisedAt.set(ev.condition.key, ev.ts);
    else raisedAt.delete(ev.condition.key);
  }
}

/**
 * The samples of the last REPLAY_WINDOW_MS (at most REPLAY_MAX_SAMPLES) of one device and the rule
 * state before them, so a reading that arrives out of order is evaluated as if it had come in
 * order. `current` is the device's rule state now (where the buffer restarts after a rebuild).
 */
export function createReplayBuffer(current: () => RuleStatePoint): ReplayBuffer {
  /** The rule state before the oldest kept sample, its time, and the raise times at that point. */
  let base: unknown;
  let baseTs = Number.POSITIVE_INFINITY;
  let baseRaisedAt = new Map<string, number>();
  /** Kept samples in time order, each accepted by the rules. */
  let samples: AlarmSample[] = [];
  /** Per kept sample: the events its step reported, and at checkpoints the rule state after it. */
  let meta: { events: RuleStep['events']; state?: unknown }[] = [];
  /**
   * How many samples at the front of `samples` are already out of the replay window (kept only
   * until a checkpoint lets them be folded into the base without stepping).
   */
  let head = 0;
  /** Samples remembered so far (checkpoint spacing). */
  let count = 0;

  function reset(): void {
    const now = current();
    base = now.state;
    baseTs = now.ts;
    baseRaisedAt = new Map(now.raisedAt);
    samples = [];
    meta = [];
    head = 0;
  }

  function fromTs(): number {
    return head > 0 ? (samples[head - 1]?.ts ?? baseTs) : baseTs;
  }

  /** Drops the first `n` kept samples, whose state after them is `state`, into the base. */
  function foldInto(n: number, state: unknown): void {
    for (let i = 0; i < n; i++) noteRaised(baseRaisedAt, meta[i]?.events ?? []);
    base = state;
    baseTs = (samples[n - 1] as AlarmSample).ts;
    samples.splice(0, n);
    meta.splice(0, n);
    head -= n;
  }

  /** Folds every sample outside the window into the base (stepping those after the last checkpoint). */
  function foldHead(rules: RuleSet<unknown>): void {
    while (head > 0) {
      const first = samples[0] as AlarmSample;
      const m = meta[0];
      if (m?.state !== undefined) {
        foldInto(1, m.state);
        continue;
      }
      try {
        foldInto(1, rules.step(base, first).state);
      } catch {
        // Cannot happen (the sample was accepted before); start the buffer afresh if it does.
        reset();
        return;
      }
    }
  }

  /**
   * Moves the replay window: samples too old (event time) or too many leave it. They are folded
   * into the base at the latest checkpoint among them (no rule steps); until one comes they stay
   * behind `head`, outside the window.
   */
  function trim(rules: RuleSet<unknown>, newestTs: number): void {
    for (let i = 0; i < 10_000 && head < samples.length; i++) {
      const first = samples[head] as AlarmSample;
      if (samples.length - head <= REPLAY_MAX_SAMPLES && first.ts >= newestTs - REPLAY_WINDOW_MS) break;
      head++;
    }
    let j = head - 1;
    while (j >= 0 && meta[j]?.state === undefined) j--;
    if (j >= 0) foldInto(j + 1, (meta[j] as { state: unknown }).state);
    // Without a checkpoint (right after a replay): step them in, so the buffer stays bounded.
    if (head > 2 * REPLAY_CHECKPOINT_EVERY) foldHead(rules);
  }

  return {
    reset,
    fromTs,

    remember(rules, sample, step) {
      samples.push(sample);
      const checkpoint = count++ % REPLAY_CHECKPOINT_EVERY === REPLAY_CHECKPOINT_EVERY - 1;
      meta.push(checkpoint ? { events: step.events, state: step.state } : { events: step.events });
      trim(rules, sample.ts);
    },

    replay(rules, sample, commit) {
      if (!(sample.ts > fromTs())) return { kind: 'too_old' };
      foldHead(rules);
      if (samples.some((x) => x.ts === sample.ts)) return { kind: 'duplicate' };
      let at = samples.findIndex((x) => x.ts > sample.ts);
      if (at < 0) at = samples.length;
      const replayed = [...samples.slice(0, at), sample, ...samples.slice(at)];
      let state = base;
      const raisedAt = new Map(baseRaisedAt);
      const steps: { ts: number; step: RuleStep }[] = [];
      const nextMeta = meta.slice(0, at);
      try {
        for (const [k, x] of replayed.entries()) {
          const step = rules.step(state, x);
          state = step.state;
          if (k < at) noteRaised(raisedAt, step.events);
          else {
            steps.push({ ts: x.ts, step });
            nextMeta.push(
              k % REPLAY_CHECKPOINT_EVERY === 0
                ? { events: step.events, state: step.state }
                : { events: step.events },
            );
          }
        }
      } catch (err) {
        return { kind: 'rule_error', err };
      }
      samples = replayed;
      meta = nextMeta;
      commit(state, raisedAt);
      trim(rules, current().ts);
      return { kind: 'replayed', steps };
    },
  };
}
