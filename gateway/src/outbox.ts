/**
 * The on-disk outbox: every reading and event is written here (LevelDB, synchronous write) before
 * it is published, and deleted only when the broker's PUBACK arrives. Readings keep their order;
 * events (local alarms) are always taken first. The per-device `seq` lives in the same store and is
 * written in the same atomic batch as the reading that uses it, so a crash can neither lose a
 * reading nor reuse a seq.
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
  /** The reading whose write is under way (appends are chained: one at a time). */
  let writing: { key: string; acked: boolean } | undefined;
  /** Acknowledged by the broker, their delete not yet on disk. */
  const delivered = new Set<string>();
  /** Highest reading key loaded into memory. */
  let cursor = R;
  /** The delete of readings dropped because the outbox is full, while it is being written. */
  let dropping: Promise<void> = Promise.resolve();
  /** take()'s read of the disk, while it runs (dropOldest waits for it). */
  let loading: Promise<void> | undefined;
  /** Appends are chained so seq assignment and counter are race-free. */
  let chain: Promise<unknown> = Promise.resolve();

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
      dropped = Number((await db.get(DROPPED)) ?? 0) || 0;
      for await (const _ of db.keys({ gt: X, lt: 'x"' })) quarantined++;
      if (bad.length) await quarantine(bad);
      log.info(
        { dir: opts.dir, depth, events: events.length, devices: seqs.size, dropped, quarantined },
        'outbox open',
      );
    },
    async stop() {
      await chain.catch(() => {});
      const d = db;
      db = undefined;
      await d?.close();
    },
    appendReading(dev, build) {
      const run = async () => {
        const d = need();
        const seq = (seqs.get(dev) ?? -1) + 1;
        const { topic, payload } = build(seq);
        const key = R + pad(counter);
        // The put is visible to take() (another LevelDB thread) before this batch's completion
        // reaches JS, so its PUBACK can come first: ack() then leaves the count alone, and the
        // reading is not counted here.
        const w = { key, acked: false };
        writing = w;
        try {
          await d.batch(
            [
              { type: 'put', key, value: JSON.stringify({ t: topic, p: payload }) },
              { type: 'put', key: S + dev, value: String(seq) },
            ],
            { sync: true },
          );
        } finally {
          writing = undefined;
        }
        if (!w.acked) depth++;
        counter++;
        seqs.set(dev, seq);
        if (depth > opts.maxReadings) await dropOldest(depth - opts.maxReadings);
        return seq;
      };
      const p = chain.then(run, run);
      chain = p.catch(() => {});
      return p;
    },
    appendEvent(topic, payload) {
      const run = async () => {
        const d = need();
        const key = E + pad(counter);
        await d.put(key, JSON.stringify({ t: topic, p: payload }), { sync: true });
        counter++;
        events.push({ key, topic, payload, kind: 'event' });
      };
      const p = chain.then(run, run);
      chain = p.catch(() => {});
      return p;
    },
    takeEvent() {
      const ev = events.find((e) => !taken.has(e.key));
      if (ev) taken.add(ev.key);
      return ev;
    },
    async take() {
      const ev = this.takeEvent();
      if (ev) return ev;
      if (!retry.length && !buffer.length) await fill();
      const next = retry.shift() ?? buffer.shift();
      if (next) taken.add(next.key);
      return next;
    },
    async ack(entry) {
      if (!taken.delete(entry.key)) return;
      if (entry.kind === 'event') {
        const i = events.findIndex((e) => e.key === entry.key);
        if (i >= 0) events.splice(i, 1);
      } else if (writing?.key === entry.key) writing.acked = true;
      else depth--;
      // Until the delete lands the reading is still on disk; dropOldest must not count it again.
      delivered.add(entry.key);
      await db?.del(entry.key);
      delivered.delete(entry.key); // kept when the delete fails: on disk, resent after a restart
    },
    release(entry) {
      if (!taken.delete(entry.key)) return;
      if (entry.kind === 'event') return; // still in `events`, found again by take()
      retry.push(entry);
      retry.sort(byKey);
    },
  };
}
