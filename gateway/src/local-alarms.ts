/**
 * Local safety on the Pi: the shared alarm math evaluates every sample of a detector; while a gas
 * alarm (or the detector's own alarm output) is active, the profile's relay coils are driven to
 * their `onAlarm` values. When the alarm clears only the sounder is released: a closed gas valve
 * is never reopened by software, and the fan keeps running until someone resets it at the site.
 */
import {
  type AlarmCondition,
  type AlarmState,
  createRuleSet,
  type DeviceEvent,
  type Output,
  profileForKind,
  type RuleEvent,
} from '@gaswatch/shared';
import type { GatewayConfig } from './config.js';
import type { Driver, DriverDevice } from './drivers/index.js';
import type { Sample } from './sample.js';

export interface LocalAlarmDeps {
  config: GatewayConfig;
  driver: Driver;
  device: DriverDevice;
  /** Publishes a DeviceEvent (through the outbox, ahead of readings). */
  emit(event: Omit<DeviceEvent, 'v'>): void;
}

export interface LocalAlarm {
  onSample(sample: Sample): Promise<void>;
  /** Turns the sounder off until the next alarm is raised. Never touches the valve. */
  silence(ts: number): Promise<boolean>;
  /** Gas conditions active now, for status and tests. */
  readonly active: readonly AlarmCondition[];
  readonly interlocked: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function createLocalAlarm(deps: LocalAlarmDeps): LocalAlarm {
  const { device, driver } = deps;
  const log = device.log;
  const household = deps.config.alarms.householdStandard;
  const rules = createRuleSet(
    profileForKind(device.profile.kind, household),
    deps.config.alarms.household ? { thresholds: { 'LEL:low': 10 } } : {},
  );
  let state: AlarmState = rules.initial();
  let lastTs = -Infinity;
  let active: AlarmCondition[] = [];
  let interlocked = false;
  /** Outputs that still need to be written (a failed coil write is retried on the next sample). */
  let pendingOutputs = new Map<Output, boolean>();
  let silenced = false;
  const outputs: Output[] =
    device.profile.transport === 'modbus' && device.config.outputs ? device.profile.outputs : [];

  async function applyOutputs(ts: number, reason: string): Promise<void> {
    const done: Record<string, boolean> = {};
    for (const [out, value] of [...pendingOutputs]) {
      try {
        await driver.writeCoil(device, out.coil, value);
        pendingOutputs.delete(out);
        done[out.name] = value;
      } catch (err) {
        log.error(
          { err, output: out.name, coil: out.coil, value },
          'could not switch local output; will retry',
        );
      }
    }
    if (Object.keys(done).length) {
      log.warn({ outputs: done, reason }, 'local outputs switched');
      deps.emit({
        ts: iso(ts),
        type: 'interlock',
        severity: 'critical',
        outputs: done,
        message: reason.slice(0, 500),
      });
    }
  }

  function toEvent(e: RuleEvent): Omit<DeviceEvent, 'v'> {
    const c = e.condition;
    return {
      ts: iso(e.ts),
      type: e.type === 'raised' ? 'alarm_raised' : 'alarm_cleared',
      severity: c.severity,
      ...(c.gas ? { gas: c.gas } : {}),
      rule: c.rule.slice(0, 64),
      ...(Number.isFinite(c.value) ? { value: c.value } : {}),
      message: c.message.slice(0, 500),
    };
  }

  return {
    get active() {
      return active;
    },
    get interlocked() {
      return interlocked;
    },
    async onSample(sample) {
      // The math wants increasing event time; a clock stepped back must not stop local safety.
      const ts = Math.max(sample.ts, lastTs + 1);
      lastTs = ts;
      const step = rules.step(state, {
        ts,
        values: sample.values,
        status: sample.status,
        ...(sample.faults ? { faults: sample.faults } : {}),
        ...(sample.quality ? { quality: sample.quality } : {}),
      });
      state = step.state;
      for (const e of step.events) {
        log.warn(
          { event: e.type, condition: e.condition.key, value: e.condition.value },
          `local alarm ${e.type}: ${e.condition.message}`,
        );
        deps.emit(toEvent(e));
      }
      active = step.active.filter((c) => c.gas !== undefined);
      const raisedNow = step.events.some((e) => e.type === 'raised' && e.condition.gas !== undefined);
      const want = active.length > 0 || sample.alarm === true;
      if (want && (!interlocked || raisedNow)) {
        if (!interlocked && sample.alarm === true && active.length === 0) {
          deps.emit({
            ts: iso(ts),
            type: 'alarm_raised',
            severity: 'critical',
            rule: 'device',
            message: "the detector's own alarm output is on",
          });
        }
        interlocked = true;
        silenced = false;
        pendingOutputs = new Map(outputs.map((o) => [o, o.onAlarm]));
      } else if (!want && interlocked) {
        interlocked = false;
        // Release the sounder only; valve and fan stay as they are until reset on site.
        pendingOutputs = new Map(outputs.filter((o) => o.name === 'sounder').map((o) => [o, !o.onAlarm]));
      }
      if (pendingOutputs.size) {
        const reason = interlocked
          ? `local alarm: ${active.map((c) => c.message).join('; ') || 'detector alarm output'}`
          : 'local alarm cleared: sounder off (valve and fan stay until reset on site)';
        await applyOutputs(ts, reason);
      }
    },
    async silence(ts) {
      const sounders = outputs.filter((o) => o.name === 'sounder');
      silenced = true;
      for (const o of sounders) pendingOutputs.set(o, !o.onAlarm);
      await applyOutputs(ts, 'sounder silenced by command');
      deps.emit({ ts: iso(ts), type: 'silenced', message: 'sounder silenced; valve and fan unchanged' });
      return sounders.length > 0 && !sounders.some((o) => pendingOutputs.has(o)) && silenced;
    },
  };
}
