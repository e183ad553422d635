/**
 * What can go wrong inside a simulated device, named once: the firmware latches these, the models map
 * them to their fault-code registers, scenario files script them.
 */

/**
 * Faults a device can be put into. `fault` is a generic internal fault; the others map to the
 * profile's fault-code register (see docs/firmware-sim.md for each model's numbers).
 */
export const SIM_FAULTS = [
  'fault',
  'sensor_eol',
  'sensor_open',
  'self_test',
  'o2_cell',
  'lel_bead',
  'co_cell',
  'h2s_cell',
  'pump',
  'supply_low',
] as const;
export type SimFault = (typeof SIM_FAULTS)[number];
