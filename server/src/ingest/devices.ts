import type { DeviceState, GatewayStatus, Reading } from '@gaswatch/shared';
import type { DeviceInfo } from '../bus.js';
import { CLOCK_SUSPECT_MS } from './clock-limits.js';

/** Everything the server tracks per device (the registry behind /api/devices). */
export interface DeviceRecord extends DeviceInfo {
  /** Latest reading by sampling time. */
  lastReading: Reading | null;
  /** Sampling time of lastReading, ms. */
  lastTs: number | null;
  /** Readings accepted since the server started. */
  readings: number;
  /** Seqs skipped and not (yet) filled by a late replay, since the server started. */
  seqGaps: number;
  /** Times the seq went backwards to a value never seen (gateway lost its seq file). */
  seqResets: number;
  /** Latest reading was stamped > 5 min ahead of the server clock. */
  clockSuspect: boolean;
}

/** Largest single gap whose seqs are tracked one by one (so a late replay can fill them). */
const MAX_TRACKED_GAP = 10_000;
/**
 * Timestamps remembered per device for de-duplication: the newest this many. A duplicate is a
 * reading whose PUBACK was lost: a QoS 1 resend, or after an outage or a restart the gateway's
 * outbox replaying what was in flight when the link broke. Those are the device's newest readings
 * at that moment, a few per device; 128 covers a gateway's whole in-flight window on one device.
 * (It was 8 192, in a Set and an array: ~300 KB per device that reports once a minute after six
 * days, issue 18; now at most 128 unboxed doubles, 1 KB.) An older reading replayed again is
 * announced again: the store keeps it once all the same (SPEC §8), and the alarm rules skip it.
 */
export const DEDUP_WINDOW = 128;
/**
 * ... and only those at most this much older than the device's newest (event time): the readings
 * in flight when a link broke are its newest when it comes back, however long the outage (no newer
 * one arrived meanwhile). A device reporting once a minute keeps 15, not 128 (issue 18).
 */
export const DEDUP_SPAN_MS = 15 * 60_000;

/** A reading stored before this server started: its seq and sampling time. */
type Stored = { seq: number; ts: number };

interface Tracking {
  /** Timestamps seen, ascending, the newest DEDUP_WINDOW (a double array: 8 bytes each). */
  seen: number[];
  maxSeq: number | null;
  /** Sampling time of the reading that set maxSeq (not taken from a clock-suspect one). */
  maxSeqTs: number;
  /**
   * Sampling time of the reading that set maxSeq as stamped (even far ahead): the stored readings
   * inside a gap are of the same gateway clock, so they are compared with this one.
   */
  maxSeqRawTs: number;
  /** The first reading this server saw of the device since it started: seq and sampling time. */
  firstSeq: number | null;
  firstTs: number;
  /** Seqs of tracked gaps not yet filled; null (most devices, always) while there are none. */
  missing: Set<number> | null;
  untracked: number;
  /**
   * Seqs already stored before this server started (from the journal and the store lookup), so a
   * gap that opens over them is not counted: after a restart the first reading may be one the
   * broker redelivers late, below seqs stored before the crash. Sorted on first use; dropped once
   * maxSeq has passed them all (no gap can open below maxSeq).
   */
  stored: Stored[] | null;
  storedSorted: boolean;
  /** What the store already held for it was looked up (or given up on) since this server started. */
  lookedUp: boolean;
}

export interface DeviceRegistry {
  get(dev: string): DeviceRecord | undefined;
  /** Every device, by id (a sort of them all: for small registries and tests). */
  list(): DeviceRecord[];
  /** Every device, in no particular order (no copy, no sort: a million devices at start-up). */
  all(): IterableIterator<DeviceRecord>;
  /** Devices known. */
  size(): number;
  /** Records a reading; returns null for a duplicate (same device and ts seen before). */
  observeReading(gw: string, dev: string, reading: Reading, ts: number, now: number): DeviceRecord | null;
  observeState(gw: string, dev: string, state: DeviceState): DeviceRecord;
  observeStatus(gw: string, status: GatewayStatus): void;
  gateways(): Map<string, GatewayStatus>;
  /**
   * Remembers readings already stored for a device (from the journal or the store after a
   * restart): a replay of one is a duplicate, and a seq gap does not open over their seqs.
   */
  seed(gw: string, dev: string, stored: Iterable<{ ts: number; seq?: number | undefined }>): void;
  /**
   * Forgets that a reading was seen: it was not made durable (a journal write failed) and was not
   * acknowledged, so its resend must be taken, not dropped as a duplicate.
   */
  forget(dev: string, ts: number): void;
  /**
   * Whether what the store already holds for the device was looked up since this server started
   * (a flag on the device, where a set of device ids beside the registry cost ~30 bytes a device).
   */
  lookedUp(dev: string): boolean;
  /** The store lookup of a device is done (or given up on): its readings need not wait for one. */
  markLookedUp(gw: string, dev: string): void;
  /** What survives a restart: each device's state, last reading and last-seen time, and gateway statuses. */
  snapshot(): RegistrySnapshot;
  /**
   * Counts changes to what snapshot() holds: unchanged, the snapshot is the same (so its file need
   * not be written again, nor its last text kept to compare with).
   */
  changes(): number;
  restore(snapshot: RegistrySnapshot): void;
}

export interface RegistrySnapshot {
  v: 1;
  devices: Pick<DeviceRecord, 'gw' | 'dev' | 'state' | 'lastSeen' | 'lastReading' | 'lastTs'>[];
  gateways: [string, GatewayStatus][];
}

export function createDeviceRegistry(): DeviceRegistry {
  const devices = new Map<string, DeviceRecord>();
  const tracking = new Map<string, Tracking>();
  const gateways = new Map<string, GatewayStatus>();
  let changes = 0;
  /**
   * Each message's topic and payload are parsed into fresh strings: a device would keep its own
   * copy of its gateway's id and of words every device shares (kind, model, location), ~150
   * bytes a device. One copy of each is kept here (a few thousand at most; bounded all the same).
   */
  const words = new Map<string, string>();
  const intern = (w: string): string => {
    const known = words.get(w);
    if (known !== undefined) return known;
    if (words.size < 100_000) words.set(w, w);
    return w;
  };

  const ensure = (gw: string, dev: string): [DeviceRecord, Tracking] => {
    let d = devices.get(dev);
    let t = tracking.get(dev);
    if (!d || !t) {
      d = {
        gw: intern(gw),
        dev,
        state: null,
        lastSeen: null,
        lastReading: null,
        lastTs: null,
        readings: 0,
        seqGaps: 0,
        seqResets: 0,
        clockSuspect: false,
      };
      t = {
        seen: [],
        maxSeq: null,
        maxSeqTs: Number.NEGATIVE_INFINITY,
        maxSeqRawTs: Number.NEGATIVE_INFINITY,
        firstSeq: null,
        firstTs: 0,
        missing: null,
        untracked: 0,
        stored: null,
        storedSorted: true,
        lookedUp: false,
      };
      devices.set(dev, d);
      tracking.set(dev, t);
      changes++;
    }
    if (d.gw !== gw) d.gw = intern(gw);
    return [d, t];
  };

  const remember = (t: Tracking, ts: number) => {
    const seen = t.seen;
    const n = seen.length;
    // In order (nearly always): append. Else insert in place, unless already there.
    if (n === 0 || ts > (seen[n - 1] as number)) seen.push(ts);
    else {
      const at = lowerBound(seen, ts);
      if (seen[at] === ts) return;
      seen.splice(at, 0, ts);
    }
    if (seen.length > DEDUP_WINDOW) seen.shift();
    const oldest = (seen[seen.length - 1] as number) - DEDUP_SPAN_MS;
    if ((seen[0] as number) < oldest) seen.splice(0, lowerBound(seen, oldest));
  };
  const wasSeen = (t: Tracking, ts: number) => {
    const seen = t.seen;
    const n = seen.length;
    if (n === 0 || ts > (seen[n - 1] as number)) return false;
    return seen[lowerBound(seen, ts)] === ts;
  };
  const missingCount = (t: Tracking) => (t.missing?.size ?? 0) + t.untracked;
  const fill = (t: Tracking, seq: number) => {
    if (t.missing === null || !t.missing.delete(seq)) return false;
    if (t.missing.size === 0) t.missing = null;
    return true;
  };

  /** `ts` is the reading's sampling time, `now` the server's clock. */
  const trackSeq = (d: DeviceRecord, t: Tracking, seq: number, ts: number, now: number) => {
    if (t.firstSeq === null) {
      t.firstSeq = seq;
      t.firstTs = ts;
    }
    // A reading stamped far ahead (a wrong gateway clock) must not make every later one look old.
    const maxTs = ts - now <= CLOCK_SUSPECT_MS ? ts : t.maxSeqTs;
    if (t.maxSeq === null || seq === t.maxSeq + 1) {
      t.maxSeq = seq;
      t.maxSeqTs = maxTs;
      t.maxSeqRawTs = ts;
    } else if (seq > t.maxSeq + 1) {
      const stored = storedIn(t, t.maxSeq + 1, seq, t.maxSeqRawTs, ts);
      const gap = seq - t.maxSeq - 1 - stored.length;
      if (gap <= MAX_TRACKED_GAP && (t.missing?.size ?? 0) + gap <= 10 * MAX_TRACKED_GAP) {
        let next = 0;
        const missing = t.missing ?? new Set<number>();
        for (let s = t.maxSeq + 1; s < seq; s++) {
          if (stored[next] === s) next++;
          else missing.add(s);
        }
        t.missing = missing.size > 0 ? missing : null;
      } else {
        t.untracked += gap;
      }
      t.maxSeq = seq;
      t.maxSeqTs = maxTs;
      t.maxSeqRawTs = ts;
    } else if (fill(t, seq)) {
      // a late replay filled a gap
    } else if (seq < t.maxSeq && ts > t.maxSeqTs && !(seq < t.firstSeq && ts < t.firstTs)) {
      // A newer sample whose seq went back to a value never seen: the gateway started counting
      // again (lost its seq file).
      d.seqResets++;
      t.maxSeq = seq;
      t.maxSeqTs = maxTs;
      t.maxSeqRawTs = ts;
      t.stored = null; // seqs of the old count
    }
    // Else an older sample with a lower seq that fills no tracked gap: a resend, an outbox replay
    // into a gap too large to track, or what was sampled before this server started watching.
    // Not a reset: it must not open a phantom gap up to maxSeq.
    if (t.stored && t.maxSeq !== null && t.maxSeq >= (sorted(t).at(-1)?.seq ?? 0)) t.stored = null;
    d.seqGaps = missingCount(t);
  };

  /** The stored readings, ascending by seq. */
  const sorted = (t: Tracking): Stored[] => {
    if (!t.stored) return [];
    if (!t.storedSorted) {
      t.stored.sort((a, b) => a.seq - b.seq);
      t.storedSorted = true;
    }
    return t.stored;
  };

  /**
   * The stored seqs in [from, to), ascending, sampled between `afterTs` and `beforeTs` (the
   * readings on both sides of the gap): a stored reading outside that time is of another count
   * (before the gateway lost its seq file).
   */
  const storedIn = (t: Tracking, from: number, to: number, afterTs: number, beforeTs: number): number[] => {
    const all = sorted(t);
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((all[mid] as Stored).seq < from) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < all.length && (all[i] as Stored).seq < to; i++) {
      const r = all[i] as Stored;
      if (r.ts > afterTs && r.ts < beforeTs && r.seq !== out.at(-1)) out.push(r.seq);
    }
    return out;
  };

  return {
    snapshot: () => ({
      v: 1,
      devices: [...devices.values()].map(({ gw, dev, state, lastSeen, lastReading, lastTs }) => ({
        gw,
        dev,
        state,
        lastSeen,
        lastReading,
        lastTs,
      })),
      gateways: [...gateways],
    }),
    changes: () => changes,
    restore(snap) {
      changes++;
      for (const x of snap.devices) {
        const [d] = ensure(x.gw, x.dev);
        d.state = x.state;
        d.lastSeen = x.lastSeen;
        d.lastReading = x.lastReading;
        d.lastTs = x.lastTs;
      }
      for (const [gw, status] of snap.gateways) gateways.set(gw, status);
    },
    get: (dev) => devices.get(dev),
    list: () => [...devices.values()].sort((a, b) => a.dev.localeCompare(b.dev)),
    all: () => devices.values(),
    size: () => devices.size,
    observeReading(gw, dev, reading, ts, now) {
      const [d, t] = ensure(gw, dev);
      if (wasSeen(t, ts)) {
        // A duplicate still proves its seq is stored: a gap it sits in is filled.
        if (fill(t, reading.seq)) d.seqGaps = missingCount(t);
        return null;
      }
      remember(t, ts);
      trackSeq(d, t, reading.seq, ts, now);
      changes++;
      d.readings++;
      d.lastSeen = now;
      if (d.lastTs === null || ts >= d.lastTs) {
        d.lastReading = reading;
        d.lastTs = ts;
      }
      return d;
    },
    seed(gw, dev, stored) {
      const [, t] = ensure(gw, dev);
      for (const r of stored) {
        remember(t, r.ts);
        // Only seqs above what this server already tracks can fall into a gap later.
        if (r.seq === undefined || (t.maxSeq !== null && r.seq <= t.maxSeq)) continue;
        t.stored ??= [];
        t.stored.push({ seq: r.seq, ts: r.ts });
        t.storedSorted = false;
      }
    },
    lookedUp: (dev) => tracking.get(dev)?.lookedUp === true,
    markLookedUp(gw, dev) {
      ensure(gw, dev)[1].lookedUp = true;
    },
    forget(dev, ts) {
      const seen = tracking.get(dev)?.seen;
      if (seen === undefined) return;
      const at = lowerBound(seen, ts);
      if (seen[at] === ts) seen.splice(at, 1);
    },
    observeState(gw, dev, state) {
      const [d] = ensure(gw, dev);
      changes++;
      d.state = {
        ...state,
        model: intern(state.model),
        kind: intern(state.kind) as DeviceState['kind'],
        location: intern(state.location),
      };
      return d;
    },
    observeStatus(gw, status) {
      changes++;
      gateways.set(gw, status);
    },
    gateways: () => gateways,
  };
}

/** The first index of the ascending `xs` whose value is not below `x` (xs.length: none). */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
