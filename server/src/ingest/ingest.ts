import { type DecodeResult, decodeMessage, type PayloadOf } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { ServerBus, ServerEvents } from '../bus.js';
import { BufferFullError } from '../errors.js';
import type { CoreMetrics } from '../metrics.js';
import type { StoredReading } from '../store/types.js';
import type { DeviceRegistry } from './devices.js';
import type { Drainer } from './drainer.js';
import type { Journal } from './journal.js';

/** A reading sampled more than this long before it arrived is marked late (an outbox replay). */
export const LATE_AFTER_MS = 60_000;
/** A reading stamped more than this far ahead of the server clock is flagged clockSuspect (SPEC §6). */
export const CLOCK_SUSPECT_MS = 5 * 60_000;
/** A reject of the same reason on the same topic is logged at most once per this interval. */
const REJECT_LOG_INTERVAL_MS = 60_000;

export type IngestOutcome = 'accepted' | 'duplicate' | 'rejected' | 'ignored';

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
}

/**
 * The ingest path: validates every message (decodeMessage), de-duplicates readings by (device,
 * ts), appends them to the journal and announces them on the bus. `handle` is synchronous: when it
 * returns, the reading is durable and the broker may acknowledge it. It never throws for bad
 * input; it throws BufferFullError when the journal is full (the broker must not acknowledge).
 */
export function createIngest(opts: IngestOptions) {
  const { journal, devices, bus, metrics, clock } = opts;
  const log = opts.logger.child({ part: 'ingest' });
  const rejectLog = new Map<string, { at: number; suppressed: number }>();

  const emit = <K extends keyof ServerEvents>(event: K, ...args: ServerEvents[K]) => {
    try {
      (bus.emit as (e: K, ...a: ServerEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      log.error({ err, event }, 'a bus listener threw; ingest continues');
    }
  };

  const reject = (reason: string, topic: string, message: string) => {
    metrics.rejects.inc({ reason });
    warnRateLimited(reason, topic, message, 'rejected message');
  };

  const warnRateLimited = (reason: string, topic: string, message: string, msg: string) => {
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
        detail: message.slice(0, 500),
        suppressedSinceLast: prev?.suppressed ?? 0,
      },
      msg,
    );
  };

  const onReading = (gw: string, dev: string, reading: PayloadOf<'reading'>): IngestOutcome => {
    const now = clock();
    const ts = Date.parse(reading.ts);
    if (journal.buffered >= opts.bufferMax) {
      metrics.rejects.inc({ reason: 'buffer_full' });
      throw new BufferFullError(journal.buffered);
    }
    const device = devices.observeReading(gw, dev, reading, ts, now);
    if (!device) {
      metrics.duplicates.inc();
      return 'duplicate';
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
      receivedAt: now,
      late,
    };
    journal.append(stored);
    metrics.readings.inc();
    metrics.buffered.set(journal.buffered);
    if (late) metrics.late.inc();
    if (clockSuspect) {
      metrics.clockSuspect.inc();
      const ahead = `ts ${reading.ts} is ${Math.round((ts - now) / 1000)} s ahead of the server clock`;
      warnRateLimited('clock_suspect', `${gw}/${dev}`, ahead, 'reading flagged clockSuspect (stored)');
    }
    metrics.seqGaps.set({ gw, dev }, device.seqGaps);
    if (journal.pending >= opts.batchSize) opts.drainer.kick();
    emit('reading', { gw, dev, reading, ts, receivedAt: now, late, clockSuspect, device });
    return 'accepted';
  };

  return {
    /** Handles one MQTT message. Synchronous; durable on return. Throws only BufferFullError. */
    handle(topic: string, payload: Uint8Array | string): IngestOutcome {
      let decoded: DecodeResult;
      try {
        decoded = decodeMessage(topic, payload);
      } catch (err) {
        // decodeMessage promises not to throw; if it ever does, the message is still just rejected.
        reject('decode_error', topic, (err as Error).message);
        return 'rejected';
      }
      if (!decoded.ok) {
        reject(decoded.reason, topic, decoded.message);
        return 'rejected';
      }
      const a = decoded.address;
      metrics.messages.inc({ kind: a.kind });
      switch (a.kind) {
        case 'reading':
          return onReading(a.gw, a.dev, decoded.payload as PayloadOf<'reading'>);
        case 'state': {
          const state = decoded.payload as PayloadOf<'state'>;
          const device = devices.observeState(a.gw, a.dev, state);
          emit('deviceState', { gw: a.gw, dev: a.dev, state, device });
          return 'accepted';
        }
        case 'event':
          emit('deviceEvent', { gw: a.gw, dev: a.dev, event: decoded.payload as PayloadOf<'event'> });
          return 'accepted';
        case 'status': {
          const status = decoded.payload as PayloadOf<'status'>;
          devices.observeStatus(a.gw, status);
          metrics.gatewaysOnline.set({ gw: a.gw }, status.online ? 1 : 0);
          if (status.online) metrics.outboxDepth.set({ gw: a.gw }, status.outboxDepth);
          emit('gatewayStatus', { gw: a.gw, status });
          return 'accepted';
        }
        case 'cmdResult':
          emit('commandResult', { gw: a.gw, result: decoded.payload as PayloadOf<'cmdResult'> });
          return 'accepted';
        case 'cmd':
          // Our own commands (or another server's) to gateways: nothing to ingest.
          return 'ignored';
      }
    },
  };
}
export type Ingest = ReturnType<typeof createIngest>;
