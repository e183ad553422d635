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
  /** Writes every queued record with one write(2) (group commit). */
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

  const startSegment = () => {
    const n = nextN++;
    const path = join(opts.dir, `seg-${String(n).padStart(12, '0')}.jsonl`);
    current = { n, path, count: 0, records: [], fd: openSync(path, 'a') };
  };

  const flush = () => {
    if (!current || lines.length === 0) return;
    const text = `${lines.join('\n')}\n`;
    lines = [];
    writeSync(current.fd, text);
    if (opts.fsync) fsyncSync(current.fd);
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
    // Only a torn last line (a crash in the middle of write(2)) can be bad; its reading was never acked.
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
      flush();
      closeSync(current.fd);
      const { fd: _fd, ...seg } = current;
      sealed.push(seg);
      startSegment();
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
  };
}
