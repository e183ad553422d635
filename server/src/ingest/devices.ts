import type { DeviceState, GasId, GatewayStatus, Reading } from '@gaswatch/shared';
import type { DeviceInfo, DeviceStateInfo } from '../bus.js';
import { CLOCK_SUSPECT_MS } from './clock-limits.js';
import { decodeWindow, encodeWindow, windowHas } from './dedup-window.js';
import { SlotTable } from './slot-table.js';

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
 * days, issue 18; then at most 128 doubles, 1 KB; now ~2 bytes a time: dedup-window.ts.) An
 * older reading replayed again is announced again: the store keeps it once all the same
 * (SPEC §8), and the alarm rules skip it.
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

/**
 * The seq bookkeeping most devices never need (none of it, as long as no reading goes missing and
 * nothing was stored before this server started): on the record only once needed, null again
 * once it is empty.
 */
interface SeqRare {
  /** Seqs of tracked gaps not yet filled. */
  missing: Set<number> | null;
  /** Seqs skipped in gaps too large to track one by one. */
  untracked: number;
  /**
   * Seqs already stored before this server started (from the journal and the store lookup), so a
   * gap that opens over them is not counted: after a restart the first reading may be one the
   * broker redelivers late, below seqs stored before the crash. Sorted on first use; dropped once
   * maxSeq has passed them all (no gap can open below maxSeq).
   */
  stored: Stored[] | null;
  storedSorted: boolean;
  /** Times the seq went backwards to a value never seen (the record's seqResets). */
  resets: number;
}

/** Bits of a record's `flags`. */
const CLOCK_SUSPECT = 1;
/** What the store already held for it was looked up (or given up on) since this server started. */
const LOOKED_UP = 2;

/** What a DeviceState says besides its time (the time is the record's, a number). */
type StateBody = Omit<DeviceState, 'v' | 'ts'> & {
  /** The time as it was written, where that is not how toISOString writes it (an offset, no ms). */
  tsText?: string;
};

/** What a reading said besides its time, seq, values and status: most readings say none of it. */
type ReadingExtra = Pick<Reading, 'faults' | 'quality' | 'alarm'> & { tsText?: string };
/** The two extras every reading of a detector with an alarm output says: one copy each. */
const ALARM_OFF: ReadingExtra = Object.freeze({ alarm: false });
const ALARM_ON: ReadingExtra = Object.freeze({ alarm: true });

/**
 * Times of a device, in the registry's table of times (slot-table.ts: a slot of doubles per
 * device, 8 bytes each where a field of an object would point to a 16-byte box). NaN: none.
 */
const T_LAST_SEEN = 0;
/** Sampling time of the last reading, ms (the record's lastTs). */
const T_LAST_TS = 1;
/** Sampling time of the reading that set maxSeq (not taken from a clock-suspect one). */
const T_MAX_SEQ_TS = 2;
/**
 * Sampling time of the reading that set maxSeq as stamped (even far ahead): the stored readings
 * inside a gap are of the same gateway clock, so they are compared with this one.
 */
const T_MAX_SEQ_RAW_TS = 3;
/** Sampling time of the first reading this server saw of the device. */
const T_FIRST_TS = 4;
/** Time of the DeviceState. */
const T_STATE_TS = 5;
/** The newest sampling time in the de-duplication window (the rest: the record's seenGaps). */
const T_SEEN_NEWEST = 6;
/** A new device's times, by field. */
const NEW_TIMES = [
  Number.NaN,
  Number.NaN,
  Number.NEGATIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0,
  Number.NaN,
  Number.NaN,
];

/**
 * Whether `text` is how iso() writes `ms` (then the number alone is kept). Not a time at all (a
 * registry file edited by hand): the text is kept as it is.
 */
const written = (ms: number, text: string): boolean => Number.isFinite(ms) && iso(ms) === text;

/** Shared copies of last readings' values, and of states' bodies, kept at most (each). */
const SHARED_MAX = 10_000;

/** The day `isoDayText` is of (ms of its midnight / a day), and that day as toISOString begins it. */
let isoDay = Number.NaN;
let isoDayText = '';
const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const three = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);
/** The end of year 9999: toISOString writes six-digit years from there. */
const YEAR_10000 = 253_402_300_800_000;
/**
 * `ms` as toISOString writes it (ISO 8601, milliseconds, UTC), in ~0.15 µs where toISOString takes
 * ~0.7: the state and the last reading keep their times as numbers, so the API, the live feed and
 * the alarm engine make the text on each read (a page of /api/devices reads every device's state).
 */
export function iso(ms: number): string {
  if (!(ms >= 0 && ms < YEAR_10000)) return new Date(ms).toISOString();
  const day = Math.floor(ms / 86_400_000);
  if (day !== isoDay) {
    isoDay = day;
    isoDayText = new Date(day * 86_400_000).toISOString().slice(0, 11); // 2026-12-07T
  }
  let rest = ms - day * 86_400_000;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1_000);
  return `${isoDayText}${two(h)}:${two(m)}:${two(s)}.${three(rest - s * 1_000)}Z`;
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
  const devices = new Map<string, Device>();
  const gateways = new Map<string, GatewayStatus>();
  let changes = 0;
  /** Every device's times, a slot each (devices are never removed). */
  const times = new SlotTable(NEW_TIMES);
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
  /**
   * The values of last readings and the states' bodies, shared: most detectors of a household
   * programme read 0 ppm most of the time, and detectors of one site say the same model, site and
   * location. One frozen copy of each (~32 and ~72 bytes), at most SHARED_MAX of each kind; past
   * that a device keeps its own. Frozen: whoever reads a record gets the payload as it was, and a
   * change to a shared one would change other devices' (it throws instead).
   */
  const sharedValues = new Map<string, Reading['values']>();
  const sharedBodies = new Map<string, StateBody>();
  const shared = <T extends object>(table: Map<string, T>, key: string, own: T): T => {
    const known = table.get(key);
    if (known !== undefined) return known;
    if (table.size >= SHARED_MAX) return own;
    // A copy: `own` may be a payload others hold (the reading goes on to the journal and the rules).
    const frozen = Object.freeze({ ...own });
    table.set(key, frozen);
    return frozen;
  };
  /** The state last made by a record's `state` (stateOf's), until that record's state changes. */
  let stateOf: Device | null = null;
  let stateMade: DeviceState | null = null;
  const time = (slot: number, which: number): number | null => {
    const t = times.get(slot, which);
    return Number.isNaN(t) ? null : t;
  };

  /**
   * One object per device (issue 18: the record and its seq tracking were two, each with a map
   * entry; its last reading and DeviceState were the parsed payloads with their ISO times). The
   * last reading and the state are kept as their parts and handed out as the payloads they were
   * (a new object per read: the API, the registry file and the alarm engine's DeviceState read).
   */
  class Device implements DeviceRecord {
    gw: string;
    readonly dev: string;
    /** Index of the device's times in `times`. */
    readonly slot: number;
    readings = 0;
    /** CLOCK_SUSPECT, LOOKED_UP (two booleans were two fields, 16 bytes). */
    flags = 0;
    /**
     * The sampling times seen lately, the newest DEDUP_WINDOW within DEDUP_SPAN_MS: the newest is
     * T_SEEN_NEWEST, the others the gaps before it, as text (dedup-window.ts: ~2 bytes a time).
     */
    seenGaps = '';
    maxSeq: number | null = null;
    /** The first reading's seq this server saw of the device since it started (its time: T_FIRST_TS). */
    firstSeq: number | null = null;
    rare: SeqRare | null = null;
    /** The DeviceState without its time, or null: none arrived. */
    body: StateBody | null = null;
    /** The last reading's seq, values, status and the rest (null: none); its time is lastTs. */
    rSeq = 0;
    rValues: Reading['values'] | null = null;
    rStatus: Reading['status'] = 'ok';
    rExtra: ReadingExtra | null = null;

    constructor(gw: string, dev: string) {
      this.gw = gw;
      this.dev = dev;
      this.slot = times.add();
    }

    // Seq gaps and resets are the rare part's (0 without one), where two fields cost every device.
    get seqGaps(): number {
      const r = this.rare;
      return r === null ? 0 : (r.missing?.size ?? 0) + r.untracked;
    }
    get seqResets(): number {
      return this.rare?.resets ?? 0;
    }
    get clockSuspect(): boolean {
      return (this.flags & CLOCK_SUSPECT) !== 0;
    }
    set clockSuspect(on: boolean) {
      this.flags = on ? this.flags | CLOCK_SUSPECT : this.flags & ~CLOCK_SUSPECT;
    }
    get lookedUp(): boolean {
      return (this.flags & LOOKED_UP) !== 0;
    }
    set lookedUp(on: boolean) {
      this.flags = on ? this.flags | LOOKED_UP : this.flags & ~LOOKED_UP;
    }

    get lastSeen(): number | null {
      return time(this.slot, T_LAST_SEEN);
    }
    set lastSeen(ms: number | null) {
      times.set(this.slot, T_LAST_SEEN, ms ?? Number.NaN);
    }
    get lastTs(): number | null {
      return time(this.slot, T_LAST_TS);
    }
    set lastTs(ms: number | null) {
      times.set(this.slot, T_LAST_TS, ms ?? Number.NaN);
    }
    getTime(which: number): number {
      return times.get(this.slot, which);
    }
    setTime(which: number, ms: number): void {
      times.set(this.slot, which, ms);
    }

    get lastReading(): Reading | null {
      const values = this.rValues;
      if (values === null) return null;
      const x = this.rExtra;
      const r: Reading = {
        v: 1,
        ts: x?.tsText ?? iso(this.getTime(T_LAST_TS)),
        seq: this.rSeq,
        values,
        status: this.rStatus,
      };
      if (x?.faults !== undefined) r.faults = x.faults;
      if (x?.quality !== undefined) r.quality = x.quality;
      if (x?.alarm !== undefined) r.alarm = x.alarm;
      return r;
    }
    set lastReading(r: Reading | null) {
      if (r === null) {
        this.rValues = null;
        this.rExtra = null;
      } else this.setReading(r, Date.parse(r.ts));
    }
    /** `ts`: Date.parse(r.ts), as ingest has it already (it becomes lastTs). */
    setReading(r: Reading, ts: number): void {
      this.rSeq = r.seq;
      let key = '';
      for (const gas in r.values) key += `${gas}=${r.values[gas as GasId]};`;
      this.rValues = shared(sharedValues, key, r.values);
      this.rStatus = r.status;
      // Its time is lastTs; its text is kept only where toISOString would write it otherwise.
      this.setTime(T_LAST_TS, ts);
      const tsText = written(ts, r.ts) ? undefined : r.ts;
      if (r.faults === undefined && r.quality === undefined && tsText === undefined)
        this.rExtra = r.alarm === undefined ? null : r.alarm ? ALARM_ON : ALARM_OFF;
      else
        this.rExtra = {
          ...(r.faults === undefined ? {} : { faults: r.faults }),
          ...(r.quality === undefined ? {} : { quality: r.quality }),
          ...(r.alarm === undefined ? {} : { alarm: r.alarm }),
          ...(tsText === undefined ? {} : { tsText }),
        };
    }

    /** What the engine reads of the state (bus.ts), as kept: no state made. */
    get stateInfo(): DeviceStateInfo | null {
      return this.body;
    }
    get state(): DeviceState | null {
      const b = this.body;
      if (b === null) return null;
      // The engine and the live feed read the state of each reading's device in turn: the last
      // one made is handed out again (one object to all, as when the record held the payload).
      if (stateOf === this && stateMade !== null) return stateMade;
      stateOf = this;
      stateMade = this.makeState(b);
      return stateMade;
    }
    private makeState(b: StateBody): DeviceState {
      const ts = b.tsText ?? iso(this.getTime(T_STATE_TS));
      // Two literals, not one and a property added: each a shape made once (the engine reads the
      // state on every reading).
      return b.pollIntervalS === undefined
        ? {
            v: 1,
            ts,
            online: b.online,
            model: b.model,
            kind: b.kind,
            site: b.site,
            location: b.location,
            lastError: b.lastError,
          }
        : {
            v: 1,
            ts,
            online: b.online,
            model: b.model,
            kind: b.kind,
            site: b.site,
            location: b.location,
            lastError: b.lastError,
            pollIntervalS: b.pollIntervalS,
          };
    }
    set state(s: DeviceState | null) {
      if (stateOf === this) stateOf = null;
      if (s === null) {
        this.body = null;
        return;
      }
      const ts = Date.parse(s.ts);
      this.setTime(T_STATE_TS, ts);
      const b: StateBody = {
        online: s.online,
        model: intern(s.model),
        kind: intern(s.kind) as DeviceState['kind'],
        site: s.site,
        location: intern(s.location),
        lastError: s.lastError,
      };
      if (s.pollIntervalS !== undefined) b.pollIntervalS = s.pollIntervalS;
      if (!written(ts, s.ts)) b.tsText = s.ts;
      // JSON of the body is its key: the strings in it may hold any character.
      this.body = shared(sharedBodies, JSON.stringify(b), b);
    }
  }

  const ensure = (gw: string, dev: string): Device => {
    let d = devices.get(dev);
    if (d === undefined) {
      d = new Device(intern(gw), dev);
      devices.set(dev, d);
      changes++;
    }
    if (d.gw !== gw) d.gw = intern(gw);
    return d;
  };

  const seenOf = (d: Device): number[] => decodeWindow(d.getTime(T_SEEN_NEWEST), d.seenGaps);
  const setSeen = (d: Device, seen: number[]) => {
    d.setTime(T_SEEN_NEWEST, seen.length === 0 ? Number.NaN : (seen[seen.length - 1] as number));
    d.seenGaps = encodeWindow(seen);
  };
  const remember = (d: Device, ts: number) => {
    // The window keeps whole milliseconds (Date.parse gives nothing else); any other time is not
    // remembered: a resend of it would be taken again, never a new reading dropped.
    if (!Number.isSafeInteger(ts)) return;
    const seen = seenOf(d);
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
    setSeen(d, seen);
  };
  const wasSeen = (d: Device, ts: number) => windowHas(d.getTime(T_SEEN_NEWEST), d.seenGaps, ts);
  const rareOf = (d: Device): SeqRare => {
    d.rare ??= { missing: null, untracked: 0, stored: null, storedSorted: true, resets: 0 };
    return d.rare;
  };
  /** Drops the rare part once it holds nothing. */
  const tidy = (d: Device) => {
    const r = d.rare;
    if (r !== null && r.missing === null && r.untracked === 0 && r.stored === null && r.resets === 0)
      d.rare = null;
  };
  const fill = (d: Device, seq: number) => {
    const r = d.rare;
    if (r === null || r.missing === null || !r.missing.delete(seq)) return false;
    if (r.missing.size === 0) r.missing = null;
    return true;
  };
  const setMax = (d: Device, seq: number, maxTs: number, ts: number) => {
    d.maxSeq = seq;
    d.setTime(T_MAX_SEQ_TS, maxTs);
    d.setTime(T_MAX_SEQ_RAW_TS, ts);
  };

  /** `ts` is the reading's sampling time, `now` the server's clock. */
  const trackSeq = (d: Device, seq: number, ts: number, now: number) => {
    if (d.firstSeq === null) {
      d.firstSeq = seq;
      d.setTime(T_FIRST_TS, ts);
    }
    const maxSeqTs = d.getTime(T_MAX_SEQ_TS);
    // A reading stamped far ahead (a wrong gateway clock) must not make every later one look old.
    const maxTs = ts - now <= CLOCK_SUSPECT_MS ? ts : maxSeqTs;
    if (d.maxSeq === null || seq === d.maxSeq + 1) {
      setMax(d, seq, maxTs, ts);
    } else if (seq > d.maxSeq + 1) {
      const stored = storedIn(d, d.maxSeq + 1, seq, d.getTime(T_MAX_SEQ_RAW_TS), ts);
      const gap = seq - d.maxSeq - 1 - stored.length;
      const r = rareOf(d);
      if (gap <= MAX_TRACKED_GAP && (r.missing?.size ?? 0) + gap <= 10 * MAX_TRACKED_GAP) {
        let next = 0;
        const missing = r.missing ?? new Set<number>();
        for (let s = d.maxSeq + 1; s < seq; s++) {
          if (stored[next] === s) next++;
          else missing.add(s);
        }
        r.missing = missing.size > 0 ? missing : null;
      } else {
        r.untracked += gap;
      }
      setMax(d, seq, maxTs, ts);
    } else if (fill(d, seq)) {
      // a late replay filled a gap
    } else if (
      seq < d.maxSeq &&
      ts > maxSeqTs &&
      !(seq < (d.firstSeq as number) && ts < d.getTime(T_FIRST_TS))
    ) {
      // A newer sample whose seq went back to a value never seen: the gateway started counting
      // again (lost its seq file).
      rareOf(d).resets++;
      setMax(d, seq, maxTs, ts);
      if (d.rare !== null) d.rare.stored = null; // seqs of the old count
    }
    // Else an older sample with a lower seq that fills no tracked gap: a resend, an outbox replay
    // into a gap too large to track, or what was sampled before this server started watching.
    // Not a reset: it must not open a phantom gap up to maxSeq.
    const r = d.rare;
    if (r?.stored && d.maxSeq !== null && d.maxSeq >= (sorted(r).at(-1)?.seq ?? 0)) r.stored = null;
    tidy(d);
  };

  /** The stored readings, ascending by seq. */
  const sorted = (r: SeqRare): Stored[] => {
    if (!r.stored) return [];
    if (!r.storedSorted) {
      r.stored.sort((a, b) => a.seq - b.seq);
      r.storedSorted = true;
    }
    return r.stored;
  };

  /**
   * The stored seqs in [from, to), ascending, sampled between `afterTs` and `beforeTs` (the
   * readings on both sides of the gap): a stored reading outside that time is of another count
   * (before the gateway lost its seq file).
   */
  const storedIn = (d: Device, from: number, to: number, afterTs: number, beforeTs: number): number[] => {
    if (d.rare === null) return [];
    const all = sorted(d.rare);
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
        const d = ensure(x.gw, x.dev);
        d.state = x.state;
        d.lastSeen = x.lastSeen;
        // The reading sets lastTs with it (the time it says; the old file's lastTs is the same),
        // unless what it says is no time (a file edited by hand).
        d.lastReading = x.lastReading;
        if (x.lastReading === null || d.lastTs === null) d.lastTs = x.lastTs;
      }
      for (const [gw, status] of snap.gateways) gateways.set(gw, status);
    },
    get: (dev) => devices.get(dev),
    list: () => [...devices.values()].sort((a, b) => a.dev.localeCompare(b.dev)),
    all: () => devices.values(),
    size: () => devices.size,
    observeReading(gw, dev, reading, ts, now) {
      const d = ensure(gw, dev);
      if (wasSeen(d, ts)) {
        // A duplicate still proves its seq is stored: a gap it sits in is filled.
        if (fill(d, reading.seq)) tidy(d);
        return null;
      }
      remember(d, ts);
      trackSeq(d, reading.seq, ts, now);
      changes++;
      d.readings++;
      d.lastSeen = now;
      const lastTs = d.lastTs;
      if (lastTs === null || ts >= lastTs) d.setReading(reading, ts);
      return d;
    },
    seed(gw, dev, stored) {
      const d = ensure(gw, dev);
      for (const r of stored) {
        remember(d, r.ts);
        // Only seqs above what this server already tracks can fall into a gap later.
        if (r.seq === undefined || (d.maxSeq !== null && r.seq <= d.maxSeq)) continue;
        const rare = rareOf(d);
        rare.stored ??= [];
        rare.stored.push({ seq: r.seq, ts: r.ts });
        rare.storedSorted = false;
      }
    },
    lookedUp: (dev) => devices.get(dev)?.lookedUp === true,
    markLookedUp(gw, dev) {
      ensure(gw, dev).lookedUp = true;
    },
    forget(dev, ts) {
      const d = devices.get(dev);
      if (d === undefined || !wasSeen(d, ts)) return;
      const seen = seenOf(d);
      seen.splice(lowerBound(seen, ts), 1);
      setSeen(d, seen);
    },
    observeState(gw, dev, state) {
      const d = ensure(gw, dev);
      changes++;
      d.state = state;
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
