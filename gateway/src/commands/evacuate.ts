/**
 * `evacuate`: the server stopped work at a site (a permit suspended, docs/permits.md) and the
 * people there must leave. Switches on the sounder outputs of the device's profile, the ones a
 * local alarm drives, and keeps them on until a `silence` for the device: a site being evacuated
 * sounds until someone acts, not for a set time. Refused, naming why, for an unknown device and one
 * whose sounder this gateway does not switch (no sounder output in its profile, or local alarms or
 * outputs off): the server must know that nothing sounds at the site.
 */
import type { Buses } from '../buses.js';
import type { Clock } from '../clock.js';
import type { CommandHandler, CommandOf } from './command.js';
import { switchesSounder, type WithAlarm } from './silence.js';

export function createEvacuate(ctx: {
  buses: Pick<Buses, 'devices'>;
  clock: Clock;
}): CommandHandler<CommandOf<'evacuate'>, { d: WithAlarm; reason: string }> {
  const { devices } = ctx.buses;
  return {
    plan({ device: id, reason }) {
      const d = devices.get(id);
      if (!d) return { ok: false, message: `no device "${id}" on this gateway: nothing sounds at the site` };
      if (!switchesSounder(d))
        return {
          ok: false,
          message: `${id} has no sounder this gateway switches (the profile has no sounder output, or local alarms are off): nothing sounds at the site, warn the people there another way`,
        };
      return { ok: true, plan: { d, reason } };
    },
    async apply({ d, reason }) {
      const id = d.config.id;
      d.log.warn({ reason }, 'evacuation alert: sounder on until silenced');
      const on = await d.alarm.evacuate(ctx.clock.now(), reason);
      return on
        ? { ok: true, message: `sounder of ${id} on for the evacuation; it sounds until a silence command` }
        : {
            ok: false,
            message: `could not switch on the sounder of ${id}; retrying on every poll until it sounds`,
          };
    },
  };
}
