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
/** Timestamps remembered per device for de-duplication of replays. */
const DEDUP_WINDOW = 8_192;

/** A reading stored before this server started: its seq and sampling time. */
type Stored = { seq: number; ts: number };

interface Tracking {
  seen: Set<number>;
  order: number[];
  orderHead: number;
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
  missing: Set<number>;
  untracked: number;
  /**
   * Seqs already stored before this server started (from the journal and the store lookup), so a
   * gap that opens over them is not counted: after a restart the first reading may be one the
   * broker redelivers late, below seqs stored before the crash. Sorted on first use; dropped once
   * maxSeq has passed them all (no gap can open below maxSeq).
   */
  stored: Stored[] | null;
  storedSorted: boolean;
}

export interface DeviceRegistry {
  get(dev: string): DeviceRecord | undefined;
  list(): DeviceRecord[];
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
  /** What survives a restart: each device's state, last reading and last-seen time, and gateway statuses. */
  snapshot(): RegistrySnapshot;
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

  const ensure = (gw: string, dev: string): [DeviceRecord, Tracking] => {
    let d = devices.get(dev);
    let t = tracking.get(dev);
    if (!d || !t) {
      d = {
        gw,
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
        seen: new Set(),
        order: [],
        orderHead: 0,
        maxSeq: null,
        maxSeqTs: Number.NEGATIVE_INFINITY,
        maxSeqRawTs: Number.NEGATIVE_INFINITY,
        firstSeq: null,
        firstTs: 0,
        missing: new Set(),
        untracked: 0,
        stored: null,
        storedSorted: true,
      };
      devices.set(dev, d);
      tracking.set(dev, t);
    }
    d.gw = gw;
    return [d, t];
  };

  const remember = (t: Tracking, ts: number) => {
    if (t.seen.has(ts)) return;
    t.seen.add(ts);
    t.order.push(ts);
    if (t.order.length - t.orderHead > DEDUP_WINDOW) {
      t.seen.delete(t.order[t.orderHead] as number);
      t.orderHead++;
      if (t.orderHead > DEDUP_WINDOW) {
        t.order = t.order.slice(t.orderHead);
        t.orderHead = 0;
      }
    }
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
      if (gap <= MAX_TRACKED_GAP && t.missing.size + gap <= 10 * MAX_TRACKED_GAP) {
        let next = 0;
        for (let s = t.maxSeq + 1; s < seq; s++) {
          if (stored[next] === s) next++;
          else t.missing.add(s);
        }
      } else {
        t.untracked += gap;
      }
      t.maxSeq = seq;
      t.maxSeqTs = maxTs;
      t.maxSeqRawTs = ts;
    } else if (t.missing.delete(seq)) {
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
    d.seqGaps = t.missing.size + t.untracked;
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
    restore(snap) {
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
    observeReading(gw, dev, reading, ts, now) {
      const [d, t] = ensure(gw, dev);
      if (t.seen.has(ts)) {
        // A duplicate still proves its seq is stored: a gap it sits in is filled.
        if (t.missing.delete(reading.seq)) d.seqGaps = t.missing.size + t.untracked;
        return null;
      }
      remember(t, ts);
      trackSeq(d, t, reading.seq, ts, now);
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
    forget(dev, ts) {
      // Its entry in `order` stays; when it reaches the end of the window it just ends early.
      tracking.get(dev)?.seen.delete(ts);
    },
    observeState(gw, dev, state) {
      const [d] = ensure(gw, dev);
      d.state = state;
      return d;
    },
    observeStatus(gw, status) {
      gateways.set(gw, status);
    },
    gateways: () => gateways,
  };
}
