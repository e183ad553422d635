import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { StoredReading } from '../store/types.js';

/**
 * The ingest journal: an append-only on-disk buffer between the MQTT acknowledgement and the
 * store. Every accepted reading is appended with a synchronous write(2) BEFORE the broker is told
 * to acknowledge it, so it survives kill -9 of the server (the kernel holds the page). Segments
 * (`seg-<n>.jsonl`) are sealed and handed to the drainer, which writes them to the store in
 * batches and deletes the file only after the store confirmed the write. At start every segment
 * left on disk is replayed into the store (writes are idempotent by (dev, ts)).
 */
export interface Segment {
  n: number;
  path: string;
  count: number;
  /** The records, while kept in memory; null when they must be re-read from the file. */
  records: StoredReading[] | null;
}

export interface JournalOptions {
  dir: string;
  logger: Logger;
  /** Readings kept in memory across sealed segments before older ones are dropped to disk only. */
  memoryCap?: number;
  /** fdatasync every append (power-loss safe, much slower). Off: kill -9 safe. */
  fsync?: boolean;
}

export interface Journal {
  open(): void;
  close(): void;
  /** Queues a record; it is durable after the next `flush()`. */
  append(rec: StoredReading): void;
  /**
   * Writes every queued record with one write(2) (group commit). Throws when they could not all be
   * written (also when `seal()` tried it first): those records are then dropped from the journal
   * and none appended since the last `flush()` may be acknowledged. (Lines of them already in a
   * file — a short write, or a seal that wrote the first part of the group — are replayed after a
   * crash; the store keeps one copy by (dev, ts).)
   */
  flush(): void;
  /** Seals the current segment (if it has records) so the drainer can take it. */
  seal(): void;
  /** The oldest sealed segment, loading its records from disk if needed. */
  peek(): Segment | undefined;
  load(seg: Segment): StoredReading[];
  /** Every record waiting for the store, oldest first (reads sealed segments from disk). */
  buffer(): Iterable<StoredReading>;
  /** Drops the oldest sealed segment after the store has it. */
  commit(seg: Segment): void;
  /** Readings in the journal not yet confirmed by the store. */
  readonly buffered: number;
  /** Readings in the current (unsealed) segment. */
  readonly pending: number;
  /** Why the last write failed, until a write succeeds again (null: writing works). */
  readonly writeError: string | null;
}

const SEGMENT_RE = /^seg-(\d+)\.jsonl$/;

export function createJournal(opts: JournalOptions): Journal {
  const log = opts.logger.child({ part: 'journal' });
  const memoryCap = opts.memoryCap ?? 200_000;
  const sealed: Segment[] = [];
  let current: (Segment & { fd: number; records: StoredReading[] }) | null = null;
  let lines: string[] = [];
  let nextN = 1;
  let buffered = 0;
  let inMemory = 0;
  /** The last write failed: its file may end in a torn line, so the next write goes to a new file. */
  let broken = false;
  /** `seal()` failed to write records whose `flush()` has not come yet: that flush must throw it. */
  let groupError: Error | null = null;
  let writeError: string | null = null;

  const openSegment = () => {
    const n = nextN++;
    const path = join(opts.dir, `seg-${String(n).padStart(12, '0')}.jsonl`);
    return { n, path, count: 0, records: [] as StoredReading[], fd: openSync(path, 'a') };
  };
  const startSegment = () => {
    current = openSegment();
  };

  /**
   * After a failed write: the last `pending` records (not written yet) move to a new file; the old
   * one is sealed with what it durably holds (its torn last line is skipped when it is re-read), or
   * deleted when that is nothing. Throws, changing nothing, when no new file can be opened.
   */
  const rotate = (old: NonNullable<typeof current>, pending: number) => {
    const fresh = openSegment();
    fresh.records = old.records.splice(old.records.length - pending);
    fresh.count = pending;
    old.count -= pending;
    try {
      closeSync(old.fd);
    } catch {}
    if (old.count > 0) sealed.push({ n: old.n, path: old.path, count: old.count, records: old.records });
    else
      try {
        unlinkSync(old.path);
      } catch {}
    current = fresh;
  };

  /** Writes the queued lines; on failure drops their records (not durable) and throws. */
  const write = () => {
    if (!current || lines.length === 0) return;
    const n = lines.length;
    const buf = Buffer.from(`${lines.join('\n')}\n`);
    lines = [];
    try {
      if (broken) rotate(current, n);
      // write(2) may write less than asked (a nearly full disk); the rest is retried, and the
      // error that follows is thrown. A short write ignored here would acknowledge lost readings.
      for (let off = 0, calls = 0; off < buf.length; calls++) {
        if (calls === 1_000) throw new Error('journal write made no progress');
        off += writeSync(current.fd, buf, off, buf.length - off);
      }
      if (opts.fsync) fsyncSync(current.fd);
      broken = false;
      writeError = null;
    } catch (err) {
      // Not durable: the records leave the journal (the caller must not acknowledge them).
      writeError = (err as Error).message;
      current.records.length -= n;
      current.count -= n;
      buffered -= n;
      inMemory -= n;
      broken = true;
      throw err;
    }
  };

  const flush = () => {
    // What seal() could not write is settled by this flush, with its error or with this one's.
    const failedEarlier = groupError;
    groupError = null;
    write();
    if (failedEarlier) throw failedEarlier;
  };

  const parseFile = (path: string): StoredReading[] => {
    const out: StoredReading[] = [];
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      log.error({ err, path }, 'journal segment unreadable');
      return out;
    }
    let bad = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        out.push(JSON.parse(line) as StoredReading);
      } catch {
        bad++;
      }
    }
    // Only a torn line (a crash, or a disk error, in the middle of write(2)) can be bad: its
    // reading was never acknowledged.
    if (bad > 0) log.warn({ path, bad }, 'skipped torn journal lines');
    return out;
  };

  return {
    open() {
      mkdirSync(opts.dir, { recursive: true });
      const files = readdirSync(opts.dir)
        .map((f) => ({ f, m: SEGMENT_RE.exec(f) }))
        .filter((x) => x.m)
        .map((x) => ({ f: x.f, n: Number(x.m?.[1]) }))
        .sort((a, b) => a.n - b.n);
      for (const { f, n } of files) {
        const path = join(opts.dir, f);
        const records = parseFile(path);
        if (records.length === 0) {
          unlinkSync(path);
          continue;
        }
        sealed.push({ n, path, count: records.length, records: null });
        buffered += records.length;
        nextN = Math.max(nextN, n + 1);
      }
      if (buffered > 0) log.info({ segments: sealed.length, readings: buffered }, 'journal replay pending');
      startSegment();
    },
    close() {
      flush();
      if (current) closeSync(current.fd);
      current = null;
    },
    append(rec) {
      if (!current) throw new Error('journal not open');
      lines.push(JSON.stringify(rec));
      current.records.push(rec);
      current.count++;
      buffered++;
      inMemory++;
    },
    flush,
    seal() {
      if (!current || current.count === 0) return;
      try {
        write();
      } catch (err) {
        groupError = err as Error; // the ingest's flush() of these records reports it
        throw err;
      }
      // The next file first: if it cannot be opened, nothing has changed (the current one stays).
      const next = openSegment();
      try {
        closeSync(current.fd);
      } catch (err) {
        log.warn({ err, path: current.path }, 'closing a sealed journal segment failed');
      }
      const { fd: _fd, ...seg } = current;
      sealed.push(seg);
      current = next;
      // Keep memory bounded while the store is away: newest sealed segments drop their copies first
      // (the oldest is the next to drain, so it keeps its records).
      for (let i = sealed.length - 1; i > 0 && inMemory > memoryCap; i--) {
        const s = sealed[i];
        if (s?.records) {
          inMemory -= s.records.length;
          s.records = null;
        }
      }
    },
    peek() {
      return sealed[0];
    },
    load(seg) {
      if (seg.records) return seg.records;
      const records = parseFile(seg.path);
      seg.records = records;
      inMemory += records.length;
      return records;
    },
    *buffer() {
      for (const seg of sealed) yield* seg.records ?? parseFile(seg.path);
      if (current) yield* current.records;
    },
    commit(seg) {
      if (sealed[0] !== seg) throw new Error('journal commit out of order');
      sealed.shift();
      try {
        unlinkSync(seg.path);
      } catch (err) {
        log.error({ err, path: seg.path }, 'could not delete drained journal segment');
      }
      buffered -= seg.count;
      if (seg.records) inMemory -= seg.records.length;
      seg.records = null;
    },
    get buffered() {
      return buffered;
    },
    get pending() {
      return current?.count ?? 0;
    },
    get writeError() {
      return writeError;
    },
  };
}
