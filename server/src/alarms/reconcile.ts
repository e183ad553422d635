import type { AlarmCondition } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { AlarmBook, AlarmSource } from './alarm-book.js';
import type { FaultBurst } from './fault-burst.js';
import { alarmIdFor, conditionOn, ruledByReadings } from './model.js';
import type { RuleStep } from './replay-buffer.js';

/**
 * Turns what a device's rules report into alarms: every active condition has exactly one open
 * alarm, an open alarm whose condition ended is cleared (at the rule's clear time), and an episode
 * a replay of late readings finds is raised at its own time, marked late.
 */
export interface Reconciler {
  /** After an in-order step: `raisedAt` holds the raise time of each raised condition. */
  afterStep(
    src: AlarmSource,
    raisedAt: ReadonlyMap<string, number>,
    active: AlarmCondition[],
    clearedAt: ReadonlyMap<string, number>,
    ts: number,
    late: boolean,
  ): void;
  /**
   * After a replay of kept samples with a late one (at `lateTs`) in place: `raisedAt` holds the
   * raise times after the replayed steps.
   */
  afterReplay(
    src: AlarmSource,
    raisedAt: ReadonlyMap<string, number>,
    steps: { ts: number; step: RuleStep }[],
    lateTs: number,
  ): void;
}

export function createReconciler(deps: {
  alarms: Pick<
    AlarmBook,
    'openAlarm' | 'openAlarmsOf' | 'has' | 'coveredEpisode' | 'raise' | 'reraise' | 'clear'
  >;
  logger: Logger;
  /** Fault bursts (fault-burst.ts): a live fault without an alarm of its own may wait there. */
  faults?: Pick<FaultBurst, 'hold' | 'ended'>;
}): Reconciler {
  const { alarms: book, logger: log, faults } = deps;

  function reconcileReplayed(
    src: AlarmSource,
    raisedAtNow: ReadonlyMap<string, number>,
    active: AlarmCondition[],
    clearedAt: Map<string, number>,
    ts: number,
  ): void {
    const activeKeys = new Set(active.map((c) => c.key));
    for (const c of active) {
      if (book.openAlarm(src.dev, c.key) !== undefined) continue;
      const raisedAt = raisedAtNow.get(c.key) ?? ts;
      if (book.has(alarmIdFor(src.dev, c.key, raisedAt))) continue;
      book.raise(src, c, raisedAt, true);
    }
    for (const a of book.openAlarmsOf(src.dev)) {
      if (!ruledByReadings(a.key) || !conditionOn(a) || activeKeys.has(a.key)) continue;
      const at = clearedAt.get(a.key);
      // Only an end the replay saw after the alarm's raise ends it.
      if (at === undefined || at < a.raisedAt) continue;
      book.clear(a, at);
    }
  }

  return {
    afterStep(src, raisedAtNow, active, clearedAt, ts, late) {
      const activeKeys = new Set<string>();
      for (const c of active) {
        activeKeys.add(c.key);
        const open = book.openAlarm(src.dev, c.key);
        if (open !== undefined) {
          // Kept in memory, stored with the next transition: no event per reading.
          if (c.value > (open.peak ?? open.value)) open.peak = c.value;
          if (open.state === 'cleared_unacked') book.reraise(open, raisedAtNow.get(c.key) ?? ts, c, late);
          continue;
        }
        const raisedAt = raisedAtNow.get(c.key) ?? ts;
        // The same episode was already raised (and closed): a replay, not a new alarm.
        if (book.has(alarmIdFor(src.dev, c.key, raisedAt))) continue;
        if (!late && faults?.hold(src, c, raisedAt) === true) continue;
        book.raise(src, c, raisedAt, late);
      }
      if (!activeKeys.has('fault')) faults?.ended(src.dev, ts);
      for (const a of book.openAlarmsOf(src.dev)) {
        if (!ruledByReadings(a.key) || !conditionOn(a) || activeKeys.has(a.key)) continue;
        book.clear(a, clearedAt.get(a.key) ?? ts);
      }
    },

    afterReplay(src, raisedAt, steps, lateTs) {
      const pending = new Map<string, { ts: number; condition: AlarmCondition }>();
      const clearedAt = new Map<string, number>();
      for (const { step } of steps) {
        for (const ev of step.events) {
          const key = ev.condition.key;
          if (ev.type === 'raised') {
            pending.set(key, { ts: ev.ts, condition: ev.condition });
            clearedAt.delete(key);
            continue;
          }
          clearedAt.set(key, ev.ts);
          const ep = pending.get(key);
          pending.delete(key);
          // An episode that began and ended inside the replay: raise it (late) and latch it.
          if (ep === undefined) continue;
          const open = book.openAlarm(src.dev, key);
          if (open !== undefined) {
            // A latched alarm of an earlier episode: the condition came back, as live it is re-raised.
            if (open.state === 'cleared_unacked' && open.clearedAt !== null && open.clearedAt < ep.ts) {
              book.reraise(open, ep.ts, ep.condition, true);
              book.clear(open, ev.ts);
            }
            continue;
          }
          if (book.coveredEpisode(src.dev, key, ep.ts, ev.ts)) continue;
          const a = book.raise(src, ep.condition, ep.ts, true);
          book.clear(a, ev.ts);
        }
      }
      const last = steps.at(-1);
      if (last === undefined) return;
      log.info(
        { dev: src.dev, ts: lateTs, replayed: steps.length },
        'late reading evaluated by replaying the samples after it',
      );
      // Alarms raised after the last replayed clear keep their time; an open alarm whose condition
      // is no longer active after the replay is cleared at the replay's clear time.
      reconcileReplayed(src, raisedAt, last.step.active, clearedAt, last.ts);
    },
  };
}
