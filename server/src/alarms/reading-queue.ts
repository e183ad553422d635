import type { Logger } from 'pino';
import type { ReadingAccepted } from '../bus.js';

export interface ReadingQueue {
  /** Takes a reading from the bus; it is evaluated in order with the device's other readings. */
  push(r: ReadingAccepted): void;
  /** Resolves when every device queue has run out (those queued meanwhile may still run). */
  settled(): Promise<void>;
  /** Readings taken and not yet evaluated. */
  pending(): number;
}

export interface ReadingQueueDeps {
  logger: Logger;
  /** Alarm state has been rebuilt from the store (until then readings wait). */
  loaded(): boolean;
  whenLoaded(): Promise<void>;
  /** The device's rules are ready: its reading may be evaluated synchronously. */
  ready(dev: string): boolean;
  /** The reading needs the slow path after all (a rebuild from the store first). */
  needsRebuild(r: ReadingAccepted): boolean;
  /** Evaluates a reading of a ready device at once. */
  evaluateNow(r: ReadingAccepted): void;
  /** Evaluates any reading, waiting for what it needs (rule selection, a rebuild from the store). */
  process(r: ReadingAccepted): Promise<void>;
}

/**
 * The reading queue: readings of one device are evaluated in order. The common case (rules loaded
 * and warmed, nothing of the device waiting) is evaluated in one microtask per ingest batch, in
 * arrival order, without a promise chain per reading; anything else takes the device's queue.
 */
export function createReadingQueue(deps: ReadingQueueDeps): ReadingQueue {
  const log = deps.logger;
  /** Per device: its promise chain and how many readings wait in it. */
  const queues = new Map<string, { chain: Promise<void>; queued: number }>();
  /** Readings taking the synchronous path, evaluated after the current tick's bus events. */
  let fast: ReadingAccepted[] = [];
  let inQueue = 0;

  const queueOf = (dev: string) => {
    let q = queues.get(dev);
    if (q === undefined) {
      q = { chain: Promise.resolve(), queued: 0 };
      queues.set(dev, q);
    }
    return q;
  };

  /** The general path: the device's readings in order, after the alarm state is loaded and warmed. */
  function enqueue(r: ReadingAccepted): void {
    const q = queueOf(r.dev);
    q.queued++;
    q.chain = q.chain
      .then(async () => {
        if (!deps.loaded()) await deps.whenLoaded();
        return deps.process(r);
      })
      .catch((err: unknown) => log.error({ err, dev: r.dev }, 'alarm evaluation failed'))
      .finally(() => {
        q.queued--;
        inQueue--;
        // A drained queue is dropped: every device takes this path once (its first reading after a
        // start), and a chain kept per device for good is a promise per device (issue 18).
        if (q.queued === 0 && queues.get(r.dev) === q) queues.delete(r.dev);
      });
  }

  function runFast(): void {
    const batch = fast;
    fast = [];
    for (const r of batch) {
      // Something changed since (new rules, a reading of this device went the slow way, a clock jump
      // that needs a rebuild from the store): keep the order through the device's queue.
      if (!deps.ready(r.dev) || (queues.get(r.dev)?.queued ?? 0) > 0 || deps.needsRebuild(r)) {
        enqueue(r);
        continue;
      }
      try {
        deps.evaluateNow(r);
      } catch (err) {
        log.error({ err, dev: r.dev }, 'alarm evaluation failed');
      } finally {
        inQueue--;
      }
    }
  }

  return {
    push(r) {
      inQueue++;
      if (deps.loaded() && (queues.get(r.dev)?.queued ?? 0) === 0 && deps.ready(r.dev)) {
        fast.push(r);
        if (fast.length === 1) queueMicrotask(runFast);
        return;
      }
      // Readings already waiting for the synchronous path go first (order per device holds).
      if (fast.length > 0) runFast();
      enqueue(r);
    },
    settled: async () => {
      await Promise.allSettled([...queues.values()].map((q) => q.chain));
    },
    pending: () => inQueue,
  };
}
