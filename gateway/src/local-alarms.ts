/**
 * Local safety on the Pi: the shared alarm math evaluates every sample of a detector; while a gas
 * alarm (or the detector's own alarm output) is active, the profile's relay coils are driven to
 * their `onAlarm` values. When the alarm clears only the sounder is released: a closed gas valve
 * is never reopened by software, and the fan keeps running until someone resets it at the site; a
 * valve-close or fan-on write that failed is retried on every sample until it succeeds, also after
 * the alarm has cleared.
 *
 * The rules run on a monotonic time base, not on the wall clock: a Pi's clock can step (no RTC, NTP
 * arriving late, an operator fixing the date). Rule time starts at the first sample's wall time and
 * then advances by what really elapsed: `clock.monotonic()` when the clock has it; otherwise the
 * step between consecutive sample times, with a backwards step counted as one poll interval.
 * Events keep the sample's wall time.
 *
 * An evacuation alert from the server (`evacuate`, a permit's work stopped) switches the sounder on
 * as an alarm does and keeps it on, also across an alarm clearing, until a `silence`: a site that
 * must be left keeps sounding until someone acts, never for a set time.
 */
import {
  type AlarmCondition,
  type AlarmState,
  createRuleSet,
  type DeviceEvent,
  type Output,
  type Profile,
  profileForKind,
  type RuleEvent,
} from '@gaswatch/shared';
import type { Clock } from './clock.js';
import type { GatewayConfig } from './config.js';
import type { Driver, DriverDevice } from './drivers/index.js';
import type { Sample } from './sample.js';

export interface LocalAlarmDeps {
  config: GatewayConfig;
  driver: Driver;
  device: DriverDevice;
  /** Publishes a DeviceEvent (through the outbox, ahead of readings). */
  emit(event: Omit<DeviceEvent, 'v'>): void;
  /**
   * The gateway's clock. Its `monotonic()` (when present) is the local rules' time base, so wall
   * clock steps neither stop nor fast-forward dose and on-delays. Without it the rules derive
   * elapsed time from the sample times (see `createRuleTime`).
   */
  clock?: Clock;
}

/**
 * The rules a detector of this kind runs on the gateway (and what a bump test judges against):
 * the shared rule set of its alarm profile, a home's (first combustible alarm at 10 %LEL on every
 * combustible channel, GB 15322) when `alarms.siteType` is household.
 */
export function localRuleSet(kind: Profile['kind'], config: GatewayConfig) {
  return createRuleSet(profileForKind(kind, config.alarms.coStandard), {
    siteType: config.alarms.siteType,
  });
}

export interface LocalAlarm {
  onSample(sample: Sample): Promise<void>;
  /** Turns the sounder off until the next alarm is raised; ends an evacuation. Never touches the valve. */
  silence(ts: number): Promise<boolean>;
  /**
   * Switches the sounder on for an evacuation and holds it on until `silence`. True when every
   * sounder coil took the write; a failed one is retried on every sample, like an alarm's.
   */
  evacuate(ts: number, reason: string): Promise<boolean>;
  /** An evacuation alert holds the sounder on (until silenced). */
  readonly evacuating: boolean;
  /** Gas conditions active now, for status and tests. */
  readonly active: readonly AlarmCondition[];
  readonly interlocked: boolean;
  /** In alarm, sounding an evacuation, or an output write (valve, fan, sounder) has not gone through yet. */
  readonly busy: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The configured poll interval in ms (5 s, the config default, when a caller left it out). */
const pollMs = (s: number | undefined) => (s !== undefined && Number.isFinite(s) && s > 0 ? s * 1000 : 5000);

/**
 * Maps sample wall times to strictly increasing rule times that advance by real elapsed time.
 * With `monotonic`: first wall time + monotonic time since the first sample (a wall clock step in
 * either direction changes nothing). Without: + the step between consecutive wall times, and a
 * backwards step counts as `backStepMs` (one poll interval: the best guess of what elapsed).
 */
export function createRuleTime(
  monotonic: (() => number) | undefined,
  backStepMs: number,
): (wallTs: number) => number {
  let start: { wall: number; mono: number | undefined } | undefined;
  let lastWall = 0;
  let derived = 0;
  let last = Number.NEGATIVE_INFINITY;
  return (wallTs) => {
    const mono = monotonic?.();
    let t: number;
    if (!start) {
      start = { wall: wallTs, mono };
      derived = wallTs;
      t = wallTs;
    } else if (mono !== undefined && start.mono !== undefined) {
      t = start.wall + (mono - start.mono);
    } else {
      const step = wallTs - lastWall;
      derived += step >= 0 ? step : backStepMs;
      t = derived;
    }
    lastWall = wallTs;
    // The rules want strictly increasing times; whole ms keep the numbers readable in logs.
    t = Math.max(Math.round(t), last + 1);
    last = t;
    return t;
  };
}

export function createLocalAlarm(deps: LocalAlarmDeps): LocalAlarm {
  const { device, driver } = deps;
  const log = device.log;
  const rules = localRuleSet(device.profile.kind, deps.config);
  let state: AlarmState = rules.initial();
  const monotonic = deps.clock?.monotonic;
  const ruleTime = createRuleTime(
    monotonic ? () => monotonic.call(deps.clock) : undefined,
    pollMs(device.config.pollIntervalS),
  );
  let active: AlarmCondition[] = [];
  let interlocked = false;
  /** Outputs that still need to be written (a failed coil write is retried on the next sample). */
  let pendingOutputs = new Map<Output, boolean>();
  let silenced = false;
  let evacuating = false;
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

  /** `wallTs`: the sample's own (wall clock) time; rule events carry rule time. */
  function toEvent(e: RuleEvent, wallTs: number): Omit<DeviceEvent, 'v'> {
    const c = e.condition;
    return {
      ts: iso(wallTs),
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
    get evacuating() {
      return evacuating;
    },
    get busy() {
      return interlocked || evacuating || active.length > 0 || pendingOutputs.size > 0;
    },
    async onSample(sample) {
      // Rule time is monotonic: a wall clock stepped back (or forward) neither stops nor
      // fast-forwards dose and on-delays. Events and outputs keep the sample's wall time.
      const ts = sample.ts;
      const step = rules.step(state, {
        ts: ruleTime(sample.ts),
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
        deps.emit(toEvent(e, ts));
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
        // Release the sounder only; valve and fan stay as they are until reset on site, and a
        // valve-close or fan-on write that has not gone through yet stays pending until it does.
        // An evacuation keeps the sounder on: people are still to leave, whatever the gas does now.
        if (!evacuating) for (const o of outputs) if (o.name === 'sounder') pendingOutputs.set(o, !o.onAlarm);
      }
      if (pendingOutputs.size) {
        let reason: string;
        if (interlocked)
          reason = `local alarm: ${active.map((c) => c.message).join('; ') || 'detector alarm output'}`;
        else if (evacuating && [...pendingOutputs.keys()].every((o) => o.name === 'sounder'))
          reason = 'evacuation: sounder on until silenced';
        else {
          const kept = [...pendingOutputs.keys()].filter((o) => o.name !== 'sounder').map((o) => o.name);
          reason = kept.length
            ? `local alarm cleared; still switching ${kept.join(', ')} as the alarm required (valve and fan stay until reset on site)`
            : 'local alarm cleared: sounder off (valve and fan stay until reset on site)';
        }
        await applyOutputs(ts, reason);
      }
    },
    async silence(ts) {
      const sounders = outputs.filter((o) => o.name === 'sounder');
      silenced = true;
      evacuating = false;
      for (const o of sounders) pendingOutputs.set(o, !o.onAlarm);
      await applyOutputs(ts, 'sounder silenced by command');
      deps.emit({ ts: iso(ts), type: 'silenced', message: 'sounder silenced; valve and fan unchanged' });
      return sounders.length > 0 && !sounders.some((o) => pendingOutputs.has(o)) && silenced;
    },
    async evacuate(ts, reason) {
      const sounders = outputs.filter((o) => o.name === 'sounder');
      evacuating = true;
      silenced = false;
      for (const o of sounders) pendingOutputs.set(o, o.onAlarm);
      await applyOutputs(ts, `evacuation: ${reason}`);
      return sounders.length > 0 && !sounders.some((o) => pendingOutputs.has(o));
    },
  };
}
