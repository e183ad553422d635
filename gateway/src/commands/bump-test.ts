/**
 * `bump_test`: opens a bump-test window (bump-test-window.ts) of `bumpTestS` seconds for one
 * detector that answers, judged against the alarm level of each of its channels. Refused for an
 * unknown device, one already in a window, one not answering, or a profile without an alarm level.
 */
import type { Profile } from '@gaswatch/shared';
import { type BumpLevel, type BumpTest, createBumpTest } from '../bump-test-window.js';
import type { Buses } from '../buses.js';
import type { Clock } from '../clock.js';
import type { GatewayConfig } from '../config.js';
import type { DeviceReports } from '../device-reports.js';
import { localRuleSet } from '../local-alarms.js';
import type { DeviceRuntime, LiveConfig } from '../runtime.js';
import type { CommandHandler, CommandOf } from './command.js';

/**
 * The alarm level of each channel of a profile: the lowest instantaneous set point of the local
 * rule set for that gas (for household CO the dose set point, in ppm, read as a concentration);
 * oxygen uses its low (depletion) set point. Exposure means (mg/m³ STEL/TWA/MAC) are not levels a
 * short test gas can be judged by and are left out.
 */
export function bumpLevels(profile: Profile, config: GatewayConfig): BumpLevel[] {
  const rules = localRuleSet(profile.kind, config);
  const levels: BumpLevel[] = [];
  const gases = profile.transport === 'modbus' ? profile.channels.map((c) => c.gas) : [profile.gas];
  for (const gas of gases) {
    const conds = rules.conditions.filter((c) => c.gas === gas && c.unit !== 'mg/m³');
    const below = conds.filter((c) => c.op === '<' || c.op === '<=');
    const above = conds.filter((c) => c.op === '>=' || c.op === '>');
    if (below.length) {
      const c = below.reduce((a, b) => (b.setPoint > a.setPoint ? b : a));
      levels.push({ gas, op: '<', level: c.setPoint, unit: c.unit });
    } else if (above.length) {
      const c = above.reduce((a, b) => (b.setPoint < a.setPoint ? b : a));
      levels.push({ gas, op: '>=', level: c.setPoint, unit: c.unit });
    }
  }
  return levels;
}

/** Ends every open window without a verdict (the gateway is stopping). */
export function cancelBumpTests(devices: Iterable<DeviceRuntime>, reason: string): void {
  for (const d of devices) d.bumpTest?.cancel(reason);
}

interface BumpTestPlan {
  d: DeviceRuntime;
  levels: BumpLevel[];
  windowS: number;
}

export function createBumpTestCommand(ctx: {
  live: LiveConfig;
  buses: Pick<Buses, 'devices'>;
  reports: Pick<DeviceReports, 'event'>;
  clock: Clock;
}): CommandHandler<CommandOf<'bump_test'>, BumpTestPlan> {
  const { devices } = ctx.buses;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    plan({ device: id }) {
      const d = devices.get(id);
      if (!d)
        return {
          ok: false,
          message: `no device "${id}" on this gateway (devices: ${[...devices.keys()].join(', ') || 'none'})`,
        };
      if (d.bumpTest)
        return {
          ok: false,
          message: `a bump test of ${id} is already running until ${iso(d.bumpTest.endsAt)}`,
        };
      if (d.online === false)
        return {
          ok: false,
          message: `${id} is not answering (${d.lastError ?? 'offline'}); a bump test needs a detector that answers`,
        };
      const levels = bumpLevels(d.profile, ctx.live.config);
      if (!levels.length)
        return { ok: false, message: `profile ${d.profile.id} has no alarm level to bump-test against` };
      return { ok: true, plan: { d, levels, windowS: ctx.live.config.bumpTestS } };
    },
    apply({ d, levels, windowS }) {
      const id = d.config.id;
      const bt: BumpTest = createBumpTest({
        deviceId: id,
        levels,
        windowMs: windowS * 1000,
        clock: ctx.clock,
        logger: d.log,
        emit: (e) => ctx.reports.event(d, e),
        onEnd: () => {
          if (d.bumpTest === bt) d.bumpTest = undefined;
        },
      });
      d.bumpTest = bt;
      const pass = levels.map((l) => `${l.gas} ${l.op === '<' ? '<' : '≥'} ${l.level} ${l.unit}`).join(', ');
      return {
        ok: true,
        message: `bump test of ${id} started: ${windowS} s window, readings carry status bump_test, passes at ${pass}; local alarms stay armed`,
      };
    },
  };
}
