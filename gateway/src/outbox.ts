/**
 * The on-disk outbox: every reading and event is written here (LevelDB, synchronous write) before
 * it is published, and deleted only when the broker's PUBACK arrives. Readings keep their order;
 * events (local alarms) are always taken first. The per-device `seq` lives in the same store and is
 * written in the same atomic batch as the reading that uses it, so a crash can neither lose a
 * reading it has stored nor reuse a seq.
 *
 * Group commit (docs/gateway.md "Outbox"): readings that arrive within `commitMs` of each other
 * share one synced batch, and the deletes of acknowledged readings share one unsynced batch
 * DELETE_DELAY_MS later (or ride along with a batch of readings written before). A reading is published only once its batch is on
 * disk. Readings appended while the reader is caught up with the disk are kept in memory as well,
 * so the forwarder takes them without reading them back.
 */
import { mkdirSync } from 'node:fs';
import { ClassicLevel } from 'classic-level';
import type { Logger } from 'pino';

export interface OutboxEntry {
  key: string;
  topic: string;
  payload: string;
  /** Events jump the queue ahead of readings. */
  kind: 'reading' | 'event';
}

export interface OutboxOptions {
  dir: string;
  maxReadings: number;
  logger: Logger;
  /**
   * How long a reading waits at most for others to share its synced write (default 0: written at
   * once; while a write is under way, what arrives meanwhile still shares the next one). Events
   * never wait.
   */
  commitMs?: number;
  /**
   * Readings written while the reader is caught up with the disk stay in memory as well (at most
   * TAIL_MAX), so take() hands them out without reading back what was just written. Default off:
   * everything is read from disk.
   */
  keepWritten?: boolean;
}

export interface Outbox {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Stores one reading of `dev` with the next seq of that device. `build` makes the topic and
   * payload for that seq (and may throw, which stores nothing). Resolves with the seq once on disk.
   */
  appendReading(dev: string, build: (seq: number) => { topic: string; payload: string }): Promise<number>;
  appendEvent(topic: string, payload: string): Promise<void>;
  /** The next entry not yet taken, events first; undefined when there is nothing to send. */
  take(): Promise<OutboxEntry | undefined>;
  /** The next event not yet taken (they are held in memory: no disk read). */
  takeEvent(): OutboxEntry | undefined;
  /**
   * `take()` without a promise when the next entry is in memory (the usual case: readings written
   * while the forwarder is caught up stay there); undefined when there is none in memory, then
   * `take()` reads the disk if something written is not in memory.
   */
  takeInMemory(): OutboxEntry | undefined;
  /**
   * Whether take() could hand something out now: an event or reading in memory, or readings
   * written that are not in memory yet (take() reads those from disk). False when caught up and
   * empty, the usual state between two group commits: the forwarder then skips its pump.
   */
  hasWaiting(): boolean;
  /** The broker has it: forget it. */
  ack(entry: OutboxEntry): Promise<void>;
  /** Sending failed: it goes back to the front of its queue. */
  release(entry: OutboxEntry): void;
  /** Readings waiting (taken but unacknowledged ones included). */
  readonly depth: number;
  /** Readings dropped because the outbox was full, since it was created. */
  readonly dropped: number;
  /** Unreadable records moved aside (`x!<key>`), since it was created. */
  readonly quarantined: number;
  /** The last seq given to a device (undefined before its first reading). */
  lastSeq(dev: string): number | undefined;
}

const R = 'r!';
const E = 'e!';
const S = 's!';
const X = 'x!';
const DROPPED = 'm!dropped';
const pad = (n: number) => n.toString().padStart(16, '0');
/** The counter in a key (`r!0000000000000042` → 42); -1 for a key not of that form. */
const keyNumber = (key: string) => (/^[er]!\d{16}$/.test(key) ? Number(key.slice(2)) : -1);
const byKey = (a: OutboxEntry, b: OutboxEntry) => (a.key < b.key ? -1 : 1);
/**
 * Deletes of acknowledged readings wait this long for more to share their write. Short, so what
 * they hold in memory dies young (a reading's PUBACK comes milliseconds after its batch; the next
 * batch is a poll interval away).
 */
const DELETE_DELAY_MS = 100;
/** Readings held in memory as they are written, while the reader is caught up (one disk read's worth). */
const TAIL_MAX = 256;

/** An append waiting for the next batch. */
type Pending =
  | {
      kind: 'reading';
      dev: string;
      build: (seq: number) => { topic: string; payload: string };
      resolve: (seq: number) => void;
      reject: (err: unknown) => void;
    }
  | { kind: 'event'; topic: string; payload: string; resolve: () => void; reject: (err: unknown) => void };

type BatchOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/**
 * One batch through classic-level's own write (`_batch`, abstract-level's documented interface for
 * implementations). The public `batch()` clones every operation and runs its encodings and hooks:
 * an eighth of everything the gateway allocated per reading, for string keys and values that the
 * binding takes as they are. Only while the database is open: otherwise the public call, which
 * refuses with the reason.
 */
function writeBatch(d: ClassicLevel<string, string>, ops: BatchOp[], sync: boolean): Promise<void> {
  const own = (d as unknown as { _batch?: (ops: BatchOp[], o: { sync: boolean }) => Promise<void> })._batch;
  if (d.status !== 'open' || typeof own !== 'function') return d.batch(ops, { sync });
  return own.call(d, ops, { sync });
}

export function createOutbox(opts: OutboxOptions): Outbox {
  const log = opts.logger;
  let db: ClassicLevel<string, string> | undefined;
  let counter = 0;
  let depth = 0;
  let dropped = 0;
  let quarantined = 0;
  const seqs = new Map<string, number>();
  /** Pending events, all in memory (they are few). */
  const events: OutboxEntry[] = [];
  /** Readings loaded from disk, in key order, not yet taken. */
  let buffer: OutboxEntry[] = [];
  /** Readings given back after a failed send; sent before `buffer`. */
  const retry: OutboxEntry[] = [];
  const taken = new Set<string>();
  /** Readings of the batch being written, and whether their PUBACK came before the write returned. */
  const writing = new Map<string, { acked: boolean }>();
  /** Acknowledged by the broker, their delete not yet on disk. */
  const delivered = new Set<string>();
  /** Highest reading key loaded into memory. */
  let cursor = R;
  /** Highest reading key written (the reader is caught up when `cursor` is this). */
  let written = R;
  const commitMs = opts.commitMs ?? 0;
  /** Appends for the next batch, in order. */
  let queue: Pending[] = [];
  /** Acknowledged readings to delete with the next batch, and who waits for that. */
  let dels: string[] = [];
  /** Settled when the deletes queued now are on disk (one promise for all of them). */
  let delsLanded: { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | undefined;
  /** The batch being written (one at a time), and the timer of the next. */
  let flushing: Promise<void> | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let flushAt = Number.POSITIVE_INFINITY;
  /** The delete of readings dropped because the outbox is full, while it is being written. */
  let dropping: Promise<void> = Promise.resolve();
  /** take()'s read of the disk, while it runs (dropOldest waits for it). */
  let loading: Promise<void> | undefined;

  const need = () => {
    if (!db) throw new Error('outbox not started');
    return db;
  };

  /** An entry from its stored record; undefined when the record is unreadable. */
  const parse = (key: string, value: string): OutboxEntry | undefined => {
    let v: unknown;
    try {
      v = JSON.parse(value);
    } catch {
      return undefined;
    }
    const { t, p } = (v ?? {}) as { t?: unknown; p?: unknown };
    if (typeof t !== 'string' || typeof p !== 'string') return undefined;
    return { key, topic: t, payload: p, kind: key.startsWith(E) ? 'event' : 'reading' };
  };

  /**
   * Records that cannot be read (a damaged SD card, a bad write) are moved aside to `x!<key>`,
   * kept for inspection and logged, so one of them cannot stop everything queued behind it.
   */
  async function quarantine(bad: [key: string, value: string][]): Promise<void> {
    const keys = bad.map(([key]) => key);
    const first = bad[0]![1].slice(0, 200);
    // Unreadable either way: never sent, so no longer counted as waiting.
    depth -= keys.filter((key) => key.startsWith(R)).length;
    try {
      await need().batch(
        bad.flatMap(([key, value]) => [
          { type: 'put' as const, key: X + key, value },
          { type: 'del' as const, key },
        ]),
        { sync: true },
      );
    } catch (err) {
      // Left where they are: not sent now, moved aside at the next start or read.
      log.error({ err, keys, first }, 'outbox records unreadable, and moving them aside failed; not sent');
      return;
    }
    quarantined += bad.length;
    log.error({ keys, first, quarantined }, 'outbox records unreadable; moved aside to x!<key>, not sent');
  }

  /**
   * Drops the `n` oldest readings that are waiting (not being sent, not already delivered). take()
   * may hand some of them out while their keys are read, so only those still waiting are dropped;
   * and take() does not read the disk while their delete is being written.
   */
  async function dropOldest(n: number): Promise<void> {
    const d = need();
    /** Not handed out, not delivered, not left behind (a failed quarantine): still to be sent. */
    const waitingNow = () => {
      const inMemory = new Set([...buffer, ...retry].map((e) => e.key));
      return (key: string) => !taken.has(key) && !delivered.has(key) && (key > cursor || inMemory.has(key));
    };
    let before = waitingNow();
    let seenCursor = cursor;
    const victims: string[] = [];
    for await (const key of d.keys({ gt: R, lt: 'r"' })) {
      if (cursor !== seenCursor) {
        // take() loaded more meanwhile: what is waiting in memory changed with it.
        before = waitingNow();
        seenCursor = cursor;
      }
      if (!before(key)) continue;
      victims.push(key);
      if (victims.length >= n) break;
    }
    // A read of take() under way may already hold these keys: let it finish, then decide with no
    // await until `dropping` is set (take() waits for that before it reads again).
    while (loading) {
      try {
        await loading;
      } catch {
        // a failed read is take()'s to report
      }
    }
    const waiting = waitingNow();
    const gone = new Set(victims.filter(waiting));
    if (!gone.size) return;
    const held = [...buffer, ...retry].filter((e) => gone.has(e.key));
    buffer = buffer.filter((e) => !gone.has(e.key));
    for (let i = retry.length - 1; i >= 0; i--) if (gone.has(retry[i]!.key)) retry.splice(i, 1);
    const write = d.batch(
      [
        ...[...gone].map((key) => ({ type: 'del' as const, key })),
        { type: 'put' as const, key: DROPPED, value: String(dropped + gone.size) },
      ],
      { sync: true },
    );
    dropping = write.catch(() => {});
    try {
      await write;
    } catch (err) {
      // Still on disk: they are sent as usual, and the next append tries again.
      retry.push(...held);
      retry.sort(byKey);
      log.error(
        { err, maxReadings: opts.maxReadings },
        'outbox full, and its oldest readings could not be dropped',
      );
      return;
    }
    dropped += gone.size;
    depth -= gone.size;
    log.warn(
      {
        dropped: gone.size,
        totalDropped: dropped,
        maxReadings: opts.maxReadings,
        firstDropped: [...gone][0],
      },
      'outbox full: dropped the oldest readings',
    );
  }

  /** Reads the next readings from disk into `buffer`; never while a drop is being written. */
  async function fill(): Promise<void> {
    if (loading) return loading;
    // `loading` is set before any await: a drop deciding in between would miss this read.
    const read = async () => {
      await dropping;
      while (!buffer.length) {
        const d = db;
        if (!d) return;
        const loaded: OutboxEntry[] = [];
        const bad: [string, string][] = [];
        let last: string | undefined;
        for await (const [key, value] of d.iterator({ gt: cursor, lt: 'r"', limit: 256 })) {
          last = key;
          const e = parse(key, value);
          if (e) loaded.push(e);
          else bad.push([key, value]);
        }
        if (last === undefined) return;
        cursor = last;
        buffer = loaded;
        if (bad.length) await quarantine(bad);
      }
    };
    loading = read();
    try {
      await loading;
    } finally {
      loading = undefined;
    }
  }

  /** Makes sure a batch is written within `ms` (sooner if one is already due sooner). */
  function schedule(ms: number): void {
    if (flushing) return; // the running batch schedules the next when it is done
    const at = performance.now() + ms;
    if (flushTimer && at >= flushAt) return;
    if (flushTimer) clearTimeout(flushTimer);
    flushAt = at;
    flushTimer = setTimeout(() => void flush(), ms);
  }

  /** What is left to write: events at once, readings within commitMs, lone deletes later. */
  function scheduleNext(): void {
    if (queue.some((p) => p.kind === 'event')) schedule(0);
    else if (queue.length) schedule(commitMs);
    else if (dels.length) schedule(DELETE_DELAY_MS);
  }

  /**
   * Writes everything queued as one atomic batch: new readings with their seq, events, the
   * deletes of acknowledged readings. Synced when it stores anything new (a power cut then loses
   * nothing it holds); deletes alone are not (at worst an acknowledged reading is sent again).
   */
  function flush(): Promise<void> {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    flushAt = Number.POSITIVE_INFINITY;
    if (flushing) return flushing;
    const run = async () => {
      const d = need();
      const items = queue;
      const delKeys = dels;
      const landed = delsLanded;
      queue = [];
      dels = [];
      delsLanded = undefined;
      const ops: BatchOp[] = [];
      /** What each stored append becomes once the batch is on disk. */
      const done: (() => void)[] = [];
      const newSeqs = new Map<string, number>();
      const readings: OutboxEntry[] = [];
      const newEvents: OutboxEntry[] = [];
      let c = counter;
      // Indexed loops and forEach: under --lite-mode a for-of allocates per element (and per Map
      // entry), and this runs for every group commit.
      for (let i = 0; i < items.length; i++) {
        const p = items[i]!;
        if (p.kind === 'event') {
          const key = E + pad(c++);
          ops.push({ type: 'put', key, value: JSON.stringify({ t: p.topic, p: p.payload }) });
          newEvents.push({ key, topic: p.topic, payload: p.payload, kind: 'event' });
          done.push(() => p.resolve());
          continue;
        }
        const seq = (newSeqs.get(p.dev) ?? seqs.get(p.dev) ?? -1) + 1;
        let built: { topic: string; payload: string };
        try {
          built = p.build(seq);
        } catch (err) {
          p.reject(err); // stores nothing and uses no seq
          continue;
        }
        const key = R + pad(c++);
        ops.push({ type: 'put', key, value: JSON.stringify({ t: built.topic, p: built.payload }) });
        newSeqs.set(p.dev, seq);
        readings.push({ key, topic: built.topic, payload: built.payload, kind: 'reading' });
        done.push(() => p.resolve(seq));
      }
      newSeqs.forEach((seq, dev) => {
        ops.push({ type: 'put', key: S + dev, value: String(seq) });
      });
      for (let i = 0; i < delKeys.length; i++) ops.push({ type: 'del', key: delKeys[i]! });
      if (!ops.length) return;
      // A put is visible to take() (another LevelDB thread) before this batch's completion reaches
      // JS, so its PUBACK can come first: ack() then marks it here and it is not counted.
      for (let i = 0; i < readings.length; i++) writing.set(readings[i]!.key, { acked: false });
      const stores = ops.length > delKeys.length;
      try {
        await writeBatch(d, ops, stores);
      } catch (err) {
        for (const e of readings) writing.delete(e.key);
        // Nothing of the batch is stored: every append fails (one whose build threw already did).
        log.error(
          { err, readings: readings.length, events: newEvents.length, deletes: delKeys.length },
          'outbox write failed',
        );
        for (const p of items) p.reject(err);
        landed?.reject(err); // still on disk: resent after a restart
        return;
      }
      counter = c;
      newSeqs.forEach((seq, dev) => {
        seqs.set(dev, seq);
      });
      for (let i = 0; i < readings.length; i++) {
        const key = readings[i]!.key;
        if (!writing.get(key)?.acked) depth++;
        writing.delete(key);
      }
      for (let i = 0; i < delKeys.length; i++) delivered.delete(delKeys[i]!);
      events.push(...newEvents);
      if (readings.length) {
        // Caught up with the disk (nothing written is still unread), no read under way, room in
        // memory: keep them, so take() need not read back what was just written.
        if (
          opts.keepWritten &&
          cursor === written &&
          !loading &&
          buffer.length + readings.length <= TAIL_MAX
        ) {
          buffer.push(...readings.filter((e) => !taken.has(e.key)));
          cursor = readings.at(-1)!.key;
        }
        written = readings.at(-1)!.key;
      }
      if (depth > opts.maxReadings) await dropOldest(depth - opts.maxReadings);
      for (let i = 0; i < done.length; i++) done[i]!();
      landed?.resolve();
    };
    flushing = run()
      .catch((err: Error) => log.error({ err }, 'outbox write failed'))
      .finally(() => {
        flushing = undefined;
        if (db) scheduleNext();
      });
    return flushing;
  }

  return {
    get depth() {
      return depth;
    },
    get dropped() {
      return dropped;
    },
    get quarantined() {
      return quarantined;
    },
    lastSeq: (dev) => seqs.get(dev),
    async start() {
      mkdirSync(opts.dir, { recursive: true });
      // Small caches: the outbox is written once and read once (sequentially, by an iterator that
      // holds its current block anyway); a Pi has little memory to spare. The memtable is
      // malloc'd outside the V8 heap and exists twice while it is flushed: 2 × 256 KB at most.
      // A smaller memtable means more, smaller level-0 files; the bytes written stay the same.
      db = new ClassicLevel<string, string>(opts.dir, {
        valueEncoding: 'utf8',
        cacheSize: 256 << 10,
        writeBufferSize: 256 << 10,
      });
      await db.open();
      for await (const [key, value] of db.iterator({ gt: S, lt: 's"' })) {
        const seq = Number(value);
        if (Number.isSafeInteger(seq) && seq >= 0) seqs.set(key.slice(S.length), seq);
        // The device starts again at seq 0, which the server counts as a seq reset.
        else log.error({ key, value: value.slice(0, 40) }, 'stored seq unreadable; the device starts at 0');
      }
      const bad: [string, string][] = [];
      for await (const [key, value] of db.iterator({ gt: E, lt: 'e"' })) {
        const e = parse(key, value);
        if (e) events.push(e);
        else bad.push([key, value]);
        counter = Math.max(counter, keyNumber(key) + 1);
      }
      let last = '';
      for await (const key of db.keys({ gt: R, lt: 'r"' })) {
        depth++;
        last = key;
      }
      if (last) counter = Math.max(counter, keyNumber(last) + 1);
      written = last || R;
      dropped = Number((await db.get(DROPPED)) ?? 0) || 0;
      for await (const _ of db.keys({ gt: X, lt: 'x"' })) quarantined++;
      if (bad.length) await quarantine(bad);
      log.info(
        { dir: opts.dir, depth, events: events.length, devices: seqs.size, dropped, quarantined },
        'outbox open',
      );
    },
    async stop() {
      // Whatever is queued is written now (a clean stop loses nothing).
      while (flushing || queue.length || dels.length) await (flushing ?? flush());
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
      const d = db;
      db = undefined;
      await d?.close();
    },
    appendReading(dev, build) {
      return new Promise<number>((resolve, reject) => {
        need();
        queue.push({ kind: 'reading', dev, build, resolve, reject });
        schedule(commitMs);
      });
    },
    appendEvent(topic, payload) {
      return new Promise<void>((resolve, reject) => {
        need();
        queue.push({ kind: 'event', topic, payload, resolve, reject });
        schedule(0);
      });
    },
    takeEvent() {
      const ev = events.find((e) => !taken.has(e.key));
      if (ev) taken.add(ev.key);
      return ev;
    },
    takeInMemory() {
      const ev = this.takeEvent();
      if (ev) return ev;
      const next = retry.shift() ?? buffer.shift();
      if (next) taken.add(next.key);
      return next;
    },
    hasWaiting() {
      if (retry.length || buffer.length || cursor !== written || writing.size) return true;
      for (let i = 0; i < events.length; i++) if (!taken.has(events[i]!.key)) return true;
      return false;
    },
    async take() {
      const ev = this.takeEvent();
      if (ev) return ev;
      // Every reading written is in memory or taken, and none is being written: nothing to read.
      const caughtUp = cursor === written && !writing.size;
      if (!retry.length && !buffer.length && !caughtUp) await fill();
      const next = retry.shift() ?? buffer.shift();
      if (next) taken.add(next.key);
      return next;
    },
    // Not async: it runs for every PUBACK, and the deletes queued together share one promise.
    ack(entry) {
      if (!taken.delete(entry.key)) return Promise.resolve();
      if (entry.kind === 'event') {
        const i = events.findIndex((e) => e.key === entry.key);
        if (i >= 0) events.splice(i, 1);
      } else {
        const w = writing.get(entry.key);
        if (w) w.acked = true;
        else depth--;
      }
      // Until the delete lands the reading is still on disk; dropOldest must not count it again.
      // It is kept in `delivered` when the delete fails: on disk, resent after a restart.
      delivered.add(entry.key);
      if (!db) return Promise.resolve();
      dels.push(entry.key);
      if (!delsLanded) {
        let resolve!: () => void;
        let reject!: (err: unknown) => void;
        const promise = new Promise<void>((res, rej) => {
          resolve = res;
          reject = rej;
        });
        // The forwarder does not wait for deletes; a failed write is logged by flush().
        promise.catch(() => {});
        delsLanded = { promise, resolve, reject };
      }
      schedule(DELETE_DELAY_MS);
      return delsLanded.promise;
    },
    release(entry) {
      if (!taken.delete(entry.key)) return;
      if (entry.kind === 'event') return; // still in `events`, found again by take()
      retry.push(entry);
      retry.sort(byKey);
    },
  };
}
