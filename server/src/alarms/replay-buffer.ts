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
  /** Samples held, in the window and behind it (memory per device). */
  held(): number;
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

/** Where a device's rule state stands now: the buffer restarts there after a rebuild. */
export interface RuleStateSource {
  readonly state: unknown;
  /** Event time of the last sample fed to the rules. */
  readonly lastTs: number;
  readonly raisedAt: ReadonlyMap<string, number>;
}

/** A step's events where it had none: one shared array, not one kept per remembered sample. */
const NO_EVENTS: RuleStep['events'] = Object.freeze([]) as unknown as RuleStep['events'];
const NO_RAISED: ReadonlyMap<string, number> = new Map();

type Meta = { events: RuleStep['events']; state?: unknown };

/** A kept sample without its time: values, status and whatever else the detector said. */
type SampleBody = Omit<AlarmSample, 'ts'>;

/**
 * Sample bodies shared by every device and sample that read the same: most detectors report the
 * same few values most of the time (0 ppm, ok), and a kept sample as its own object with its own
 * values object cost ~100 bytes, 15 of them per device that reports once a minute (issue 18).
 * Only plain samples (values and status, nothing else) are shared; bodies are frozen, and the
 * table is emptied when full (bodies already kept stay valid, they are only no longer shared).
 */
const BODIES_MAX = 4_096;
const bodies = new Map<string, SampleBody>();

function bodyOf(sample: AlarmSample): SampleBody {
  if (sample.faults !== undefined || sample.quality !== undefined || sample.alarm !== undefined) {
    const { ts: _ts, ...body } = sample;
    return body;
  }
  let key: string = sample.status;
  for (const gas in sample.values) key += `|${gas}=${sample.values[gas as keyof AlarmSample['values']]}`;
  let body = bodies.get(key);
  if (body === undefined) {
    if (bodies.size >= BODIES_MAX) bodies.clear();
    body = Object.freeze({ values: Object.freeze({ ...sample.values }), status: sample.status });
    bodies.set(key, body);
  }
  return body;
}

const sampleOf = (ts: number, body: SampleBody): AlarmSample => ({ ts, ...body });

/** The one body every sample of `list` has, if they all have the same. */
function sameBody(list: readonly SampleBody[]): SampleBody | undefined {
  const first = list[0];
  for (const b of list) if (b !== first) return undefined;
  return first;
}

/**
 * The samples of the last REPLAY_WINDOW_MS (at most REPLAY_MAX_SAMPLES) of one device and the rule
 * state before them, so a reading that arrives out of order is evaluated as if it had come in
 * order. A subclass is the device: its `state`, `lastTs` and `raisedAt` are where its rules stand
 * now (where the buffer restarts after a rebuild).
 *
 * A class, not a closure: a million devices each hold one, and methods on the prototype cost
 * nothing per device where closures cost a context and a function each; and a base class of the
 * device's rule record, not an object of its own beside it, which cost ~60 bytes a device in its
 * header, references both ways and the base's time kept apart from the base (issue 18).
 */
export abstract class DeviceReplayBuffer implements ReplayBuffer, RuleStateSource {
  abstract readonly state: unknown;
  abstract readonly lastTs: number;
  abstract readonly raisedAt: ReadonlyMap<string, number>;
  /** The time of the last sample a rule state took in (-Infinity: none). */
  protected abstract lastTsOf(state: unknown): number;

  /**
   * The rule state before the oldest kept sample (undefined until the first reset), and the raise
   * times at that point. Its time is the base's own (lastTsOf).
   */
  private base: unknown;
  private baseRaisedAt: Map<string, number> | null = null;
  /**
   * Kept samples in time order, each accepted by the rules: their times (an array of unboxed
   * doubles, 8 bytes each) and their bodies (shared, see bodyOf), a sample object made again
   * only when one is replayed.
   */
  private tss: number[] = [];
  /**
   * The kept samples' bodies: the one body when every kept sample has it (a detector reading the
   * same most of the time keeps no array of them: ~150 bytes a device, issue 18), else one per
   * sample; null while none is kept.
   */
  private bodies: SampleBody | SampleBody[] | null = null;
  /**
   * Per kept sample: the events its step reported, and at checkpoints the rule state after it;
   * undefined for a step with neither (most of them: no object kept per sample), and null for
   * the whole buffer while every step had neither (a device that reports once a minute and
   * raises nothing: no array at all, issue 18).
   */
  private meta: (Meta | undefined)[] | null = null;
  /**
   * How many samples at the front of `tss` are already out of the replay window (kept only
   * until a checkpoint lets them be folded into the base without stepping).
   */
  private head = 0;
  /** Samples remembered so far (checkpoint spacing). */
  private count = 0;

  reset(): void {
    this.base = this.state;
    this.baseRaisedAt = this.raisedAt.size > 0 ? new Map(this.raisedAt) : null;
    this.tss = [];
    this.bodies = null;
    this.meta = null;
    this.head = 0;
  }

  private bodyAt(i: number): SampleBody {
    const b = this.bodies;
    return (Array.isArray(b) ? b[i] : b) as SampleBody;
  }

  /** Keeps the body of the sample just pushed (tss already holds it). */
  private pushBody(body: SampleBody): void {
    const b = this.bodies;
    if (b === null) this.bodies = body;
    else if (Array.isArray(b)) b.push(body);
    else if (b !== body) {
      const list = new Array<SampleBody>(this.tss.length - 1).fill(b);
      list.push(body);
      this.bodies = list;
    }
  }

  /** Drops the bodies of the first `n` kept samples (tss already dropped them). */
  private dropBodies(n: number): void {
    const b = this.bodies;
    if (this.tss.length === 0) this.bodies = null;
    else if (Array.isArray(b)) {
      b.splice(0, n);
      this.bodies = sameBody(b) ?? b;
    }
  }

  private setBodies(list: SampleBody[]): void {
    this.bodies = list.length === 0 ? null : (sameBody(list) ?? list);
  }

  /** Keeps the meta of the sample just pushed (tss already holds it). */
  private pushMeta(m: Meta | undefined): void {
    if (this.meta === null) {
      if (m === undefined) return;
      this.meta = new Array<Meta | undefined>(this.tss.length - 1).fill(undefined);
    }
    this.meta.push(m);
  }

  /** Drops the meta of the first `n` kept samples; none left: no array. */
  private dropMeta(n: number): void {
    if (this.meta === null) return;
    this.meta.splice(0, n);
    if (this.meta.every((m) => m === undefined)) this.meta = null;
  }

  held(): number {
    return this.tss.length;
  }

  fromTs(): number {
    if (this.head > 0) return this.tss[this.head - 1] as number;
    return this.base === undefined ? Number.POSITIVE_INFINITY : this.lastTsOf(this.base);
  }

  private noteBase(events: RuleStep['events']): void {
    if (events.length === 0) return;
    this.baseRaisedAt ??= new Map();
    noteRaised(this.baseRaisedAt, events);
  }

  /** Drops the first `n` kept samples, whose state after them is `state`, into the base. */
  private foldInto(n: number, state: unknown): void {
    for (let i = 0; i < n; i++) this.noteBase(this.meta?.[i]?.events ?? NO_EVENTS);
    // Its time is the last folded sample's (tss[n - 1]).
    this.base = state;
    this.tss.splice(0, n);
    this.dropBodies(n);
    this.dropMeta(n);
    this.head -= n;
  }

  /** Folds every sample outside the window into the base (stepping those after the last checkpoint). */
  private foldHead(rules: RuleSet<unknown>): void {
    while (this.head > 0) {
      const first = sampleOf(this.tss[0] as number, this.bodyAt(0));
      const m = this.meta?.[0];
      if (m?.state !== undefined) {
        this.foldInto(1, m.state);
        continue;
      }
      try {
        this.foldInto(1, rules.step(this.base, first).state);
      } catch {
        // Cannot happen (the sample was accepted before); start the buffer afresh if it does.
        this.reset();
        return;
      }
    }
  }

  /**
   * Moves the replay window: samples too old (event time) or too many leave it. They are folded
   * into the base at the latest checkpoint among them (no rule steps); until one comes they stay
   * behind `head`, outside the window.
   */
  private trim(rules: RuleSet<unknown>, newestTs: number): void {
    const { tss, meta } = this;
    for (let i = 0; i < 10_000 && this.head < tss.length; i++) {
      const first = tss[this.head] as number;
      if (tss.length - this.head <= REPLAY_MAX_SAMPLES && first >= newestTs - REPLAY_WINDOW_MS) break;
      this.head++;
    }
    let j = this.head - 1;
    while (j >= 0 && meta?.[j]?.state === undefined) j--;
    if (j >= 0 && meta !== null) this.foldInto(j + 1, (meta[j] as { state: unknown }).state);
    // Without a checkpoint (right after a replay): step them in, so the buffer stays bounded. A
    // device whose window holds fewer samples than a checkpoint spacing (one reading a minute: 15)
    // would keep up to twice that spacing beyond its window waiting for one (~80 samples, 12 KB:
    // issue 18): its samples are stepped in as they leave, one more rule step per (rare) reading.
    if (
      this.head > 2 * REPLAY_CHECKPOINT_EVERY ||
      (this.head > 0 && tss.length - this.head < REPLAY_CHECKPOINT_EVERY)
    )
      this.foldHead(rules);
  }

  remember(rules: RuleSet<unknown>, sample: AlarmSample, step: RuleStep): void {
    this.tss.push(sample.ts);
    this.pushBody(bodyOf(sample));
    // A checkpoint saves stepping samples that leave the window a second time; a buffer holding
    // fewer samples than the spacing steps them in as they leave anyway (trim), so it keeps none.
    const checkpoint =
      this.count++ % REPLAY_CHECKPOINT_EVERY === REPLAY_CHECKPOINT_EVERY - 1 &&
      this.tss.length >= REPLAY_CHECKPOINT_EVERY;
    const events = step.events.length > 0 ? step.events : NO_EVENTS;
    this.pushMeta(checkpoint ? { events, state: step.state } : events.length > 0 ? { events } : undefined);
    this.trim(rules, sample.ts);
  }

  replay(
    rules: RuleSet<unknown>,
    sample: AlarmSample,
    commit: (state: unknown, raisedAt: Map<string, number>) => void,
  ): ReplayOutcome {
    if (!(sample.ts > this.fromTs())) return { kind: 'too_old' };
    this.foldHead(rules);
    const { tss, meta } = this;
    if (tss.includes(sample.ts)) return { kind: 'duplicate' };
    let at = tss.findIndex((ts) => ts > sample.ts);
    if (at < 0) at = tss.length;
    const replayed = tss.map((ts, i) => sampleOf(ts, this.bodyAt(i)));
    replayed.splice(at, 0, sample);
    let state = this.base;
    const raisedAt = new Map(this.baseRaisedAt ?? NO_RAISED);
    const steps: { ts: number; step: RuleStep }[] = [];
    const nextMeta = meta === null ? new Array<Meta | undefined>(at).fill(undefined) : meta.slice(0, at);
    try {
      for (const [k, x] of replayed.entries()) {
        const step = rules.step(state, x);
        state = step.state;
        if (k < at) noteRaised(raisedAt, step.events);
        else {
          steps.push({ ts: x.ts, step });
          nextMeta.push(
            k % REPLAY_CHECKPOINT_EVERY === 0 && replayed.length >= REPLAY_CHECKPOINT_EVERY
              ? { events: step.events, state: step.state }
              : step.events.length > 0
                ? { events: step.events }
                : undefined,
          );
        }
      }
    } catch (err) {
      return { kind: 'rule_error', err };
    }
    this.tss = replayed.map((x) => x.ts);
    this.setBodies(replayed.map(bodyOf));
    this.meta = nextMeta.every((m) => m === undefined) ? null : nextMeta;
    commit(state, raisedAt);
    this.trim(rules, this.lastTs);
    return { kind: 'replayed', steps };
  }
}

/** A replay buffer beside a device's rule state (rules with AlarmState states, or `lastTsOf`). */
class SourcedReplayBuffer extends DeviceReplayBuffer {
  constructor(
    private readonly source: RuleStateSource,
    private readonly tsOf: (state: unknown) => number,
  ) {
    super();
  }
  get state(): unknown {
    return this.source.state;
  }
  get lastTs(): number {
    return this.source.lastTs;
  }
  get raisedAt(): ReadonlyMap<string, number> {
    return this.source.raisedAt;
  }
  protected lastTsOf(state: unknown): number {
    return this.tsOf(state);
  }
}

const alarmStateTs = (state: unknown): number =>
  (state as { lastTs: number | null }).lastTs ?? Number.NEGATIVE_INFINITY;

export function createReplayBuffer(
  source: RuleStateSource,
  lastTsOf: (state: unknown) => number = alarmStateTs,
): ReplayBuffer {
  return new SourcedReplayBuffer(source, lastTsOf);
}
