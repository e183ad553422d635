/**
 * `silence`: turns off the sounder this gateway switches for one device, or for every device,
 * until the next alarm is raised. Valve and fan are never touched (see local-alarms.ts). A
 * detector's own buzzer is not ours to switch: a device without a sounder output the gateway
 * drives is refused, naming why.
 */
import type { Buses } from '../buses.js';
import type { Clock } from '../clock.js';
import type { DeviceRuntime } from '../runtime.js';
import type { CommandHandler, CommandOf } from './command.js';

export type WithAlarm = DeviceRuntime & { alarm: NonNullable<DeviceRuntime['alarm']> };

/** Whether this gateway switches a sounder for the device: a profile sounder output, local alarms on. */
export const switchesSounder = (d: DeviceRuntime): d is WithAlarm =>
  d.alarm !== undefined &&
  d.profile.transport === 'modbus' &&
  d.profile.outputs.some((o) => o.name === 'sounder');

export function createSilence(ctx: {
  buses: Pick<Buses, 'devices'>;
  clock: Clock;
}): CommandHandler<CommandOf<'silence'>, WithAlarm[]> {
  const { devices } = ctx.buses;
  return {
    plan(cmd) {
      const targets = cmd.device
        ? [devices.get(cmd.device)].filter((d) => d !== undefined)
        : [...devices.values()];
      if (cmd.device && !targets.length)
        return { ok: false, message: `no device "${cmd.device}" on this gateway` };
      const withSounder = targets.filter(switchesSounder);
      if (!withSounder.length)
        return {
          ok: false,
          message: `${cmd.device ?? 'no device on this gateway'} has no sounder this gateway switches (the profile has no sounder output, or local alarms are off): a detector's own buzzer can only be silenced on site`,
        };
      return { ok: true, plan: withSounder };
    },
    async apply(withSounder) {
      const results = await Promise.all(withSounder.map((d) => d.alarm.silence(ctx.clock.now())));
      const failed = withSounder.filter((_, i) => !results[i]).map((d) => d.config.id);
      return failed.length
        ? { ok: false, message: `could not switch the sounder of ${failed.join(', ')}; retrying` }
        : { ok: true, message: `silenced ${withSounder.map((d) => d.config.id).join(', ')}` };
    },
  };
}
