/**
 * Moves entries from the outbox to the broker: at most `maxInflight` awaiting PUBACK, paced at
 * `ratePerS` so a backlog replays without flooding the broker; events first. The pacing is a token
 * bucket of a quarter second's worth of `ratePerS` (at least `maxInflight`) tokens: the readings of
 * one group commit go out together (one socket write for as many as may be in flight, the rest as
 * soon as their PUBACKs come) instead of one timer each, and a backlog still leaves at `ratePerS`.
 */
import type { Logger } from 'pino';
import type { Outbox, OutboxEntry } from './outbox.js';
import type { Uplink } from './uplink.js';

/** One send awaiting its PUBACK; `settled` once its slot is given back (answer or timeout). */
interface Flight {
  entry: OutboxEntry;
  at: number;
  settled: boolean;
}

export interface Forwarder {
  start(): void;
  stop(): Promise<void>;
  /** Something was appended: look again. */
  kick(): void;
  readonly inflight: number;
}

export function createForwarder(opts: {
  outbox: Outbox;
  uplink: Uplink;
  logger: Logger;
  ratePerS: number;
  maxInflight: number;
  /** Resend an entry whose PUBACK has not come after this long (default 60 s). */
  ackTimeoutMs?: number;
}): Forwarder {
  const { outbox, uplink, logger: log } = opts;
  const ackTimeoutMs = opts.ackTimeoutMs ?? 60_000;
  const intervalMs = 1000 / opts.ratePerS;
  // With the bucket only maxInflight deep, a commit of more readings than that (32 detectors, 20
  // in flight) sent the rest one per token, a timer and a socket write each, 5 ms apart.
  const burst = Math.max(opts.maxInflight, Math.ceil(opts.ratePerS / 4));
  let inflight = 0;
  let running = false;
  let pumping = false;
  /** Sends allowed now, and when that was computed. */
  let tokens = burst;
  let tokensAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  /** Sends whose PUBACK or error has not come yet (those the watchdog gave up on included). */
  let outstanding = 0;
  /** Sends awaiting their PUBACK, for the sweep. */
  const flights = new Set<Flight>();
  let sweepTimer: NodeJS.Timeout | undefined;
  const idle: (() => void)[] = [];

  let again = false;
  /** The running pump, awaited by stop() so the outbox is not closed under a read. */
  let current: Promise<void> = Promise.resolve();
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  /** Never rejects: it runs from timers and events, where a throw would stop the gateway. */
  function pump(): Promise<void> {
    if (!running) return current;
    // Every PUBACK and every stored reading pumps: when there is nothing to take (caught up,
    // between two group commits) that would be an async drain, an async pumpOnce and an async
    // take() for nothing, per reading.
    if (!pumping && !outbox.hasWaiting()) return current;
    if (pumping) {
      again = true;
      return current;
    }
    pumping = true;
    current = drain().finally(() => {
      pumping = false;
    });
    return current;
  }

  async function drain(): Promise<void> {
    try {
      again = true;
      while (again) {
        again = false;
        await pumpOnce();
      }
    } catch (err) {
      // The outbox could not be read (a disk error): nothing is lost, it is read again later.
      failures++;
      const retryInMs = Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5));
      log.error({ err, retryInMs }, 'could not read the outbox; trying again');
      if (running)
        retryTimer ??= setTimeout(() => {
          retryTimer = undefined;
          void pump();
        }, retryInMs);
    }
  }

  async function pumpOnce(): Promise<void> {
    while (running && uplink.connected && inflight < opts.maxInflight) {
      const now = performance.now();
      tokens = Math.min(burst, tokens + (now - tokensAt) / intervalMs);
      tokensAt = now;
      if (tokens < 1) {
        timer ??= setTimeout(
          () => {
            timer = undefined;
            void pump();
          },
          Math.ceil((1 - tokens) * intervalMs),
        );
        return;
      }
      // Backing off after a read error: events (held in memory) still go out at once, readings
      // wait for the retry timer instead of every kick and ack reading the failing disk again.
      let entry: OutboxEntry | undefined;
      if (retryTimer) entry = outbox.takeEvent();
      else {
        // From memory without a promise when it can (every reading of a caught-up forwarder).
        entry = outbox.takeInMemory() ?? (await outbox.take());
        failures = 0;
      }
      if (!entry) return;
      tokens -= 1;
      inflight++;
      const flight: Flight = { entry, at: now, settled: false };
      flights.add(flight);
      outstanding++;
      // A callback rather than a promise chain: this runs for every reading.
      uplink.sendWith(entry, (err) => {
        flights.delete(flight);
        outstanding--;
        try {
          // The delete is written with a later batch (which logs a failure); the slot is free now.
          if (!err) void outbox.ack(entry);
          else {
            log.debug({ err: err.message, key: entry.key }, 'publish not acknowledged; will resend');
            if (!flight.settled) outbox.release(entry);
          }
        } catch (e) {
          log.error({ err: e }, 'outbox update failed');
        }
        if (!outstanding) for (const f of idle.splice(0)) f();
        if (flight.settled) return;
        flight.settled = true;
        inflight--;
        void pump();
      });
    }
  }

  /**
   * A PUBACK that never comes (a lost packet id across reconnects) must not strand a reading:
   * after ackTimeoutMs (checked every half of it, so at most 1.5 × late) the entry goes back to
   * the queue and is sent again (a duplicate at worst). One sweep for all sends, not a timer each.
   */
  function sweep(): void {
    const now = performance.now();
    for (const f of flights) {
      if (now - f.at < ackTimeoutMs) continue;
      flights.delete(f);
      if (f.settled) continue;
      f.settled = true;
      log.warn({ key: f.entry.key, ackTimeoutMs }, 'no PUBACK in time; will resend');
      outbox.release(f.entry);
      inflight--;
      void pump();
    }
  }

  const onConnect = () => void pump();
  return {
    get inflight() {
      return inflight;
    },
    start() {
      running = true;
      uplink.on('connect', onConnect);
      sweepTimer = setInterval(sweep, ackTimeoutMs / 2);
      sweepTimer.unref();
      void pump();
    },
    async stop() {
      running = false;
      uplink.off('connect', onConnect);
      if (timer) clearTimeout(timer);
      if (retryTimer) clearTimeout(retryTimer);
      clearInterval(sweepTimer);
      timer = retryTimer = sweepTimer = undefined;
      await current;
      // Wait briefly for acks in flight so they are not resent after a clean restart.
      if (outstanding) {
        let t: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          idle.push(resolve);
          t = setTimeout(resolve, 1000);
        });
        clearTimeout(t);
      }
    },
    kick() {
      void pump();
    },
  };
}
