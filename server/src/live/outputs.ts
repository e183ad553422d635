/**
 * What an interlock event's outputs mean for the device that sent them. A gateway reports the coil
 * values it wrote (`{"valve": true}`), and whether `true` closes a valve or opens it depends on the
 * detector model: in `gaswatch-lel` coil 1 set means the gas valve is CLOSED. The profile says it
 * once: `onAlarm` is the value the gateway writes to put an output in its alarm position (valve
 * closed, fan running, sounder sounding), so a value equal to `onAlarm` is that position.
 */
import type { Output, Profile } from '@gaswatch/shared';
import type { DeviceRegistry } from '../ingest/devices.js';
import { builtinProfiles } from '../profiles.js';
import type { DeviceEventRecord } from '../store/types.js';

/** The position an output is in, in words a person reads on the console. */
export type OutputPosition = 'closed' | 'open' | 'on' | 'off';

export interface OutputMeaning {
  /** Output name as the gateway sent it (sounder, valve, fan). */
  name: string;
  /** The coil value the gateway wrote. */
  value: boolean;
  /** What that value does on this device's model; null when the model or the output is unknown. */
  position: OutputPosition | null;
  /** The output is now where a local alarm drives it (valve closed, fan on, sounder on). */
  alarmPosition: boolean | null;
}

const ALARM_POSITION: Record<Output['name'], [alarm: OutputPosition, normal: OutputPosition]> = {
  sounder: ['on', 'off'],
  valve: ['closed', 'open'],
  fan: ['on', 'off'],
};

/** Reads an event's outputs through the profiles of the devices that sent them. */
export type DescribeOutputs = (
  model: string | undefined,
  outputs: Readonly<Record<string, boolean>>,
) => OutputMeaning[];

/** `profiles`: the detector profiles by id (default: the built-in ones, loaded on first use). */
export function createOutputMeanings(profiles?: ReadonlyMap<string, Profile>): DescribeOutputs {
  let known = profiles;
  return (model, outputs) => {
    // Without the built-in profiles nothing is known: every position is reported unknown.
    known ??= builtinProfiles();
    const profile = model === undefined ? undefined : known.get(model);
    const defined = profile?.transport === 'modbus' ? profile.outputs : [];
    return Object.entries(outputs).map(([name, value]) => {
      const out = defined.find((o) => o.name === name);
      if (out === undefined) return { name, value, position: null, alarmPosition: null };
      const alarm = value === out.onAlarm;
      const [inAlarm, normal] = ALARM_POSITION[out.name];
      return { name, value, position: alarm ? inAlarm : normal, alarmPosition: alarm };
    });
  };
}

/**
 * The outputs of a stored gateway event, read through the profile of the device's model as the
 * server knows it now (its latest DeviceState); undefined for events that switched nothing.
 */
export function createEventOutputs(
  devices: Pick<DeviceRegistry, 'get'>,
  describe: DescribeOutputs = createOutputMeanings(),
): (r: DeviceEventRecord) => OutputMeaning[] | undefined {
  return (r) =>
    r.kind === 'event' && r.data.outputs !== undefined
      ? describe(devices.get(r.dev)?.state?.model, r.data.outputs)
      : undefined;
}
