import { Counter, Gauge, Registry } from 'prom-client';
import { type Alarm, LIFECYCLE_STATES } from './model.js';

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** The alarm engine's Prometheus metrics, on core's registry (app.metrics) or a private one. */
export function createAlarmMetrics(registry: Registry = new Registry(), alarms: () => Iterable<Alarm>) {
  const registers = [registry];
  const openName = 'gaswatch_alarms_open';
  registry.removeSingleMetric(openName);
  const open = new Gauge({
    name: openName,
    help: 'Alarms not yet closed, by severity and lifecycle state (active, acknowledged, cleared_unacked)',
    labelNames: ['severity', 'state'] as const,
    registers,
    collect() {
      const counts = new Map<string, number>();
      for (const a of alarms()) {
        if (a.state === 'cleared') continue;
        const k = `${a.severity}|${a.state}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      for (const severity of ['warning', 'critical'])
        for (const state of LIFECYCLE_STATES)
          if (state !== 'cleared') this.set({ severity, state }, counts.get(`${severity}|${state}`) ?? 0);
    },
  });
  return {
    open,
    transitions: reuse(
      registry,
      'gaswatch_alarm_transitions_total',
      () =>
        new Counter({
          name: 'gaswatch_alarm_transitions_total',
          help: 'Alarm lifecycle events recorded, by type (raised, acknowledged, cleared, escalated, ...)',
          labelNames: ['type'] as const,
          registers,
        }),
    ),
    escalations: reuse(
      registry,
      'gaswatch_alarm_escalations_total',
      () =>
        new Counter({
          name: 'gaswatch_alarm_escalations_total',
          help: 'Steps of the chain notified (1 on raise, higher ones after each wait, the top one again on each repeat)',
          labelNames: ['tier', 'severity'] as const,
          registers,
        }),
    ),
    notificationsSent: reuse(
      registry,
      'gaswatch_notifications_sent_total',
      () =>
        new Counter({
          name: 'gaswatch_notifications_sent_total',
          help: 'Notifications delivered, by channel',
          labelNames: ['channel'] as const,
          registers,
        }),
    ),
    notificationsFailed: reuse(
      registry,
      'gaswatch_notifications_failed_total',
      () =>
        new Counter({
          name: 'gaswatch_notifications_failed_total',
          help: 'Notifications given up after every retry, by channel',
          labelNames: ['channel'] as const,
          registers,
        }),
    ),
    notificationRetries: reuse(
      registry,
      'gaswatch_notification_retries_total',
      () =>
        new Counter({
          name: 'gaswatch_notification_retries_total',
          help: 'Failed notification attempts that were retried, by channel',
          labelNames: ['channel'] as const,
          registers,
        }),
    ),
    notificationOutcomes: reuse(
      registry,
      'gaswatch_notification_outcomes_total',
      () =>
        new Counter({
          name: 'gaswatch_notification_outcomes_total',
          help: 'Notifications by channel and what became of them as the chain knows it at once (sent, delivered, failed, capped, skipped; grouped: sent in a storm message)',
          labelNames: ['channel', 'outcome'] as const,
          registers,
        }),
    ),
    callbacksRefused: reuse(
      registry,
      'gaswatch_notify_callbacks_refused_total',
      () =>
        new Counter({
          name: 'gaswatch_notify_callbacks_refused_total',
          help: 'Provider callbacks refused, by channel and reason (unsigned, bad_signature, stale, unreadable; unknown_channel with channel "unknown", no_callbacks)',
          labelNames: ['channel', 'reason'] as const,
          registers,
        }),
    ),
    replies: reuse(
      registry,
      'gaswatch_notify_replies_total',
      () =>
        new Counter({
          name: 'gaswatch_notify_replies_total',
          help: 'SMS replies and keys pressed on calls, by channel and result (acknowledged: "1" acknowledged an alarm; replied: anything else, or the alarm was acknowledged already; unmatched: from a number nothing was sent to)',
          labelNames: ['channel', 'result'] as const,
          registers,
        }),
    ),
    silence: reuse(
      registry,
      'gaswatch_silence_commands_total',
      () =>
        new Counter({
          name: 'gaswatch_silence_commands_total',
          help: 'Sounder silence on acknowledgement, by result (sent, failed: not taken by the broker, held: other alarms of the device still active and unacknowledged; confirmed / refused: the gateway answered ok true / false; unanswered: no answer within 30 s)',
          labelNames: ['result'] as const,
          registers,
        }),
    ),
    skipped: reuse(
      registry,
      'gaswatch_alarm_readings_skipped_total',
      () =>
        new Counter({
          name: 'gaswatch_alarm_readings_skipped_total',
          help: 'Readings the alarm rules did not evaluate, by reason (out_of_order: older than the replay window; duplicate_ts; rule_error; clock_jump_reset; listener_error)',
          labelNames: ['reason'] as const,
          registers,
        }),
    ),
    rebuilds: reuse(
      registry,
      'gaswatch_alarm_rule_rebuilds_total',
      () =>
        new Counter({
          name: 'gaswatch_alarm_rule_rebuilds_total',
          help: 'Device rule states rebuilt from stored readings because the gateway clock moved, by reason (clock_reset: set back, seq still moving forward; clock_jump: stamped in the future, then corrected)',
          labelNames: ['reason'] as const,
          registers,
        }),
    ),
    storeErrors: reuse(
      registry,
      'gaswatch_alarm_store_errors_total',
      () =>
        new Counter({
          name: 'gaswatch_alarm_store_errors_total',
          help: 'Failed attempts to store or load alarm events (retried)',
          registers,
        }),
    ),
    eventsRefused: reuse(
      registry,
      'gaswatch_alarm_events_refused_total',
      () =>
        new Counter({
          name: 'gaswatch_alarm_events_refused_total',
          help: 'Alarm events the database refused as invalid (alarm_record_invalid): logged in full and dropped, not retried; each one is a bug to report',
          registers,
        }),
    ),
    dispose() {
      registry.removeSingleMetric(openName);
    },
  };
}
export type AlarmMetrics = ReturnType<typeof createAlarmMetrics>;
