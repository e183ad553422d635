import { type DecodeResult, decodeMessage, type PayloadOf } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { ReadingAccepted, ServerBus, ServerEvents, StoredLookup } from '../bus.js';
import { BufferFullError } from '../errors.js';
import type { CoreMetrics } from '../metrics.js';
import type { ReadingRow, Store, StoredReading } from '../store/types.js';
import { CLOCK_SUSPECT_MS, LATE_AFTER_MS } from './clock-limits.js';
import type { DeviceRegistry } from './devices.js';
import type { Drainer } from './drainer.js';
import type { Journal } from './journal.js';

/** A reject of the same reason on the same topic is logged at most once per this interval. */
const REJECT_LOG_INTERVAL_MS = 60_000;

export type IngestOutcome = 'accepted' | 'duplicate' | 'rejected' | 'ignored';
/** Called once the message is handled: for a reading, once it is durable in the journal. */
export type IngestDone = (err: Error | null, outcome?: IngestOutcome) => void;

export interface IngestOptions {
  journal: Journal;
  drainer: Drainer;
  devices: DeviceRegistry;
  bus: ServerBus;
  metrics: CoreMetrics;
  logger: Logger;
  clock: () => number;
  bufferMax: number;
  batchSize: number;
  /** Where to look up what a device already stored, the first time it is seen after a start. */
  store?: Store;
  /**
   * Also read, in that same lookup, this much history before the device's first reading and hand
   * it on with the reading (ReadingAccepted.stored): the alarm engine rebuilds its rule state from
   * it instead of asking the store a second time. 0 (default): only the de-duplication window.
   */
  historyMs?: number;
}

/** How far back the first reading of a device after a start looks for already-stored timestamps. */
export const SEED_LOOKBACK_MS = 2 * 3_600_000;
const SEED_TIMEOUT_MS = 3_000;
/** Most rows the lookup reads per SEED_LOOKBACK_MS (+ the future margin) it spans. */
const SEED_LIMIT = 50_000;

/**
 * The ingest path: validates every message (decodeMessage), de-duplicates readings by (device,
 * ts), appends them to the journal and announces them on the bus. Readings arriving in the same
 * tick are group-committed: one write(2) for all of them, then every `done` is called (the broker
 * sends the PUBACKs) and the readings are emitted in arrival order. Bad input never throws: it is
 * logged (rate-limited) and counted, and `done(null, 'rejected')` lets the broker acknowledge it.
 * A full journal answers `done(BufferFullError)`: the broker must not acknowledge.
 */
export function createIngest(opts: IngestOptions) {
  const { journal, devices, bus, metrics, clock } = opts;
  const log = opts.logger.child({ part: 'ingest' });
  const rejectLog = new Map<string, { at: number; suppressed: number }>();
  let pendingAcks: IngestDone[] = [];
  let pendingEvents: ReadingAccepted[] = [];
  let flushScheduled = false;
  const messagesByKind = new Map<string, ReturnType<CoreMetrics['messages']['labels']>>();
  const counterFor = (kind: string) => {
    let counter = messagesByKind.get(kind);
    if (!counter) {
      counter = metrics.messages.labels(kind);
      messagesByKind.set(kind, counter);
    }
    return counter;
  };
  // Reading messages are added to their counter once per tick: a labelled inc() hashes the labels
  // on every call, which showed in the profile at ~1 % of the server's CPU.
  let uncountedReadings = 0;
  const countReadings = () => {
    counterFor('reading').inc(uncountedReadings);
    uncountedReadings = 0;
  };

  const emit = <K extends keyof ServerEvents>(event: K, ...args: ServerEvents[K]) => {
    try {
      (bus.emit as (e: K, ...a: ServerEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      log.error({ err, event }, 'a bus listener threw; ingest continues');
    }
  };

  const warnRateLimited = (reason: string, topic: string, detail: string, msg: string) => {
    const key = `${reason}|${topic.slice(0, 256)}`;
    const now = clock();
    const prev = rejectLog.get(key);
    if (prev && now - prev.at < REJECT_LOG_INTERVAL_MS) {
      prev.suppressed++;
      return;
    }
    if (rejectLog.size > 10_000) rejectLog.clear();
    rejectLog.set(key, { at: now, suppressed: 0 });
    log.warn(
      {
        reason,
        topic: topic.slice(0, 256),
        detail: detail.slice(0, 500),
        suppressedSinceLast: prev?.suppressed ?? 0,
      },
      msg,
    );
  };

  const reject = (reason: string, topic: string, detail: string) => {
    metrics.rejects.inc({ reason });
    warnRateLimited(reason, topic, detail, 'rejected message');
  };

  /** Group commit: one journal write for everything queued in this tick, then acks, then events. */
  const flush = () => {
    flushScheduled = false;
    const acks = pendingAcks;
    const events = pendingEvents;
    pendingAcks = [];
    pendingEvents = [];
    try {
      journal.flush();
    } catch (err) {
      // The disk refused: nothing of this batch is acknowledged, the publishers resend it, and the
      // resend must not be taken for a duplicate of what never became durable.
      log.error({ err, readings: events.length }, 'journal write failed; readings not acknowledged');
      metrics.journalErrors.inc();
      for (const e of events) devices.forget(e.dev, e.ts);
      for (const done of acks) done(err as Error);
      return;
    }
    metrics.readings.inc(events.length);
    metrics.buffered.set(journal.buffered);
    for (const done of acks) done(null, 'accepted');
    for (const e of events) emit('reading', e);
    if (journal.pending >= opts.batchSize) opts.drainer.kick();
  };

  // De-duplication survives restarts: the first reading of a device after a start waits (with the
  // device's later readings queued behind it, so order holds) until the timestamps the store
  // already has for it are known. A store that does not answer in time only weakens the
  // de-duplication of bus events; storage stays idempotent either way.
  const seeding = new Map<string, (() => void)[]>();
  /** Lookup results waiting to be handed on with the device's first accepted reading. */
  const lookups = new Map<string, StoredLookup>();
  const historyMs = opts.historyMs ?? 0;
  const seed = (gw: string, dev: string, firstTs: number) => {
    const store = opts.store;
    const now = clock();
    const seedFrom = now - SEED_LOOKBACK_MS;
    // One lookup serves de-duplication (the last SEED_LOOKBACK_MS) and the alarm rules (historyMs
    // before the first reading, which after a restart is often an outbox replay stamped minutes
    // ago). A first reading older than the de-duplication window is rare: its rules look up alone.
    // Reading the history along costs the PUBACK of this one reading a few ms (10-s readings:
    // ~3 000 rows instead of 720, 7 ms instead of 4 ms on the embedded store; 1-s readings:
    // 30 000 rows, ~100 ms instead of 20 ms), inside the same SEED_TIMEOUT_MS bound.
    const anchor = Math.max(Math.min(now, Number.isFinite(firstTs) ? firstTs : now), seedFrom);
    const from = historyMs > 0 ? Math.min(seedFrom, anchor - historyMs) : seedFrom;
    const to = now + CLOCK_SUSPECT_MS * 2;
    const limit = Math.ceil((SEED_LIMIT * (to - from)) / (to - seedFrom));
    // While the store is known to be down, do not hold readings up waiting for it.
    const query =
      store && opts.drainer.status().storeHealthy
        ? store.queryReadings({ dev, from, to, limit })
        : Promise.resolve(null);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('store did not answer in time')), SEED_TIMEOUT_MS);
    });
    Promise.race([query, timeout])
      .then(
        (got) => {
          const rows = (got ?? []) as ReadingRow[];
          // De-duplication keeps to its own window: the older rows are the alarm rules' alone.
          devices.seed(
            gw,
            dev,
            rows.filter((r) => r.ts >= seedFrom),
          );
          // A lookup cut at the limit misses its newest rows: the rules then look up themselves.
          if (got !== null && historyMs > 0 && rows.length < limit) lookups.set(dev, { from, to, rows });
        },
        (err: Error) =>
          log.warn({ dev, err: err.message }, 'could not load stored timestamps for de-duplication'),
      )
      .finally(() => {
        clearTimeout(timer);
        devices.markLookedUp(gw, dev);
        const queued = seeding.get(dev) ?? [];
        seeding.delete(dev);
        for (const run of queued) {
          // A promise callback: a throw (the journal closed by a shutdown meanwhile) would be an
          // unhandled rejection. The reading is then not acknowledged, and the publisher resends it.
          try {
            run();
          } catch (err) {
            log.error({ err, dev }, 'reading not taken after the store lookup; not acknowledged');
          }
        }
      });
  };

  /** Returns true when the reading waits for a store lookup (done comes later than this tick). */
  const onReading = (gw: string, dev: string, reading: PayloadOf<'reading'>, done: IngestDone): boolean => {
    if (!devices.lookedUp(dev)) {
      let queue = seeding.get(dev);
      if (!queue) {
        queue = [];
        seeding.set(dev, queue);
        seed(gw, dev, Date.parse(reading.ts));
      }
      queue.push(() => onSeededReading(gw, dev, reading, done));
      return true;
    }
    onSeededReading(gw, dev, reading, done);
    return false;
  };

  const onSeededReading = (gw: string, dev: string, reading: PayloadOf<'reading'>, done: IngestDone) => {
    const now = clock();
    const ts = Date.parse(reading.ts);
    if (journal.buffered >= opts.bufferMax) {
      metrics.rejects.inc({ reason: 'buffer_full' });
      done(new BufferFullError(journal.buffered));
      return;
    }
    const gapsBefore = devices.get(dev)?.seqGaps ?? 0;
    const device = devices.observeReading(gw, dev, reading, ts, now);
    // Gaps change rarely: the gateway's gauge moves by the difference, no per-device bookkeeping.
    const gapsNow = (device ?? devices.get(dev))?.seqGaps ?? 0;
    if (gapsNow !== gapsBefore) metrics.seqGaps.inc({ gw }, gapsNow - gapsBefore);
    if (!device) {
      metrics.duplicates.inc();
      // A resend of a reading whose group commit is still to come is a duplicate only once that
      // write succeeded (if it fails, both are refused and the next resend is taken). Duplicates
      // are rare, so the group is searched here rather than indexed for every reading.
      if (pendingEvents.some((e) => e.ts === ts && e.dev === dev))
        pendingAcks.push((err) => (err ? done(err) : done(null, 'duplicate')));
      else done(null, 'duplicate');
      return;
    }
    const late = now - ts > LATE_AFTER_MS;
    const clockSuspect = ts - now > CLOCK_SUSPECT_MS;
    device.clockSuspect = clockSuspect;
    const stored: StoredReading = {
      gw,
      dev,
      ts,
      seq: reading.seq,
      values: reading.values,
      status: reading.status,
      faults: reading.faults,
      quality: reading.quality,
      alarm: reading.alarm,
      receivedAt: now,
      late,
    };
    journal.append(stored);
    if (late) metrics.late.inc();
    if (clockSuspect) {
      metrics.clockSuspect.inc();
      const ahead = `ts ${reading.ts} is ${Math.round((ts - now) / 1000)} s ahead of the server clock`;
      warnRateLimited('clock_suspect', `${gw}/${dev}`, ahead, 'reading flagged clockSuspect (stored)');
    }
    pendingAcks.push(done);
    // The registry's copy of the ids (one per gateway, not one per message kept by every consumer).
    const event: ReadingAccepted = {
      gw: device.gw,
      dev: device.dev,
      reading,
      ts,
      receivedAt: now,
      late,
      clockSuspect,
      device,
    };
    const lookup = lookups.get(dev);
    if (lookup !== undefined) {
      lookups.delete(dev);
      event.stored = lookup;
    }
    pendingEvents.push(event);
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flush);
    }
  };

  return {
    /** Remembers what the journal still holds (after a restart), so replays of it are duplicates. */
    seedFromJournal(): number {
      let n = 0;
      for (const r of journal.buffer()) {
        devices.seed(r.gw, r.dev, [r]);
        n++;
      }
      return n;
    },
    /**
     * Handles one MQTT message; `done` is called when the broker may acknowledge it: within this
     * tick (after the group commit), or later when this returns true (the device's first reading
     * after a start waits for the store lookup) — a pipelining caller should then wait for it.
     */
    handle(topic: string, payload: Uint8Array | string, done: IngestDone): boolean {
      let decoded: DecodeResult;
      try {
        decoded = decodeMessage(topic, payload);
      } catch (err) {
        // decodeMessage promises not to throw; if it ever does, the message is still just rejected.
        reject('decode_error', topic, (err as Error).message);
        done(null, 'rejected');
        return false;
      }
      if (!decoded.ok) {
        reject(decoded.reason, topic, decoded.message);
        done(null, 'rejected');
        return false;
      }
      const a = decoded.address;
      if (a.kind === 'reading') {
        if (uncountedReadings++ === 0) queueMicrotask(countReadings);
      } else counterFor(a.kind).inc();
      switch (a.kind) {
        case 'reading':
          return onReading(a.gw, a.dev, decoded.payload as PayloadOf<'reading'>, done);
        case 'state': {
          const state = decoded.payload as PayloadOf<'state'>;
          const device = devices.observeState(a.gw, a.dev, state);
          emit('deviceState', { gw: a.gw, dev: a.dev, state, device });
          break;
        }
        case 'event':
          emit('deviceEvent', { gw: a.gw, dev: a.dev, event: decoded.payload as PayloadOf<'event'> });
          break;
        case 'status': {
          const status = decoded.payload as PayloadOf<'status'>;
          devices.observeStatus(a.gw, status);
          metrics.gatewaysOnline.set({ gw: a.gw }, status.online ? 1 : 0);
          if (status.online) metrics.outboxDepth.set({ gw: a.gw }, status.outboxDepth);
          emit('gatewayStatus', { gw: a.gw, status });
          break;
        }
        case 'cmdResult':
          emit('commandResult', { gw: a.gw, result: decoded.payload as PayloadOf<'cmdResult'> });
          break;
        case 'cmd':
          // Our own commands (or another server's) to gateways: nothing to ingest.
          done(null, 'ignored');
          return false;
      }
      done(null, 'accepted');
      return false;
    },
  };
}
export type Ingest = ReturnType<typeof createIngest>;
