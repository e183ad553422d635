/** Scenario files: rooms with a physical model, detectors in them, transports, and a fault script. */
import { GasIdSchema, IdSchema } from '@gaswatch/shared';
import { z } from 'zod';
import { SIM_FAULTS } from '../faults.js';

const Seconds = z.number().finite().min(0).describe('Scenario time in seconds from the start');
const Concentrations = z
  .partialRecord(GasIdSchema, z.number().finite().min(0))
  .describe('Concentrations by gas, canonical units (CO ppm, O2 %vol, LEL %LEL, …)');

export const SourceSchema = z
  .object({
    name: z.string().optional().describe('What emits the gas, e.g. "flueless water heater"'),
    gas: GasIdSchema,
    lpm: z
      .number()
      .finite()
      .describe('Litres per minute of pure gas released (negative: consumed, e.g. O2 burnt by a flame)'),
    fromS: Seconds.default(0).describe('When the source starts'),
    toS: Seconds.optional().describe('When it stops (default: never)'),
    everyS: z
      .number()
      .positive()
      .optional()
      .describe('Repeat: on for toS − fromS at the start of every period of this many seconds'),
  })
  .strict()
  .refine((s) => s.toS === undefined || s.toS > s.fromS, {
    message: 'toS must be after fromS',
    path: ['toS'],
  })
  .refine((s) => s.everyS === undefined || (s.toS !== undefined && s.everyS > s.toS - s.fromS), {
    message: 'everyS needs toS and must be longer than toS − fromS',
    path: ['everyS'],
  });

export const InterlockSchema = z
  .object({
    device: IdSchema.describe('Device whose relay coil drives this interlock'),
    coil: z.enum(['sounder', 'valve', 'fan']).describe('Output name from the device profile'),
    ach: z
      .number()
      .finite()
      .min(0)
      .optional()
      .describe('While the coil is on, the zone has this many air changes per hour'),
    stopsSources: z
      .boolean()
      .optional()
      .describe('While the coil is on, every source of the zone is off (a closed gas valve)'),
  })
  .strict()
  .refine((i) => i.ach !== undefined || i.stopsSources, { message: 'give ach or stopsSources' });

export const ZoneSchema = z
  .object({
    id: IdSchema.describe('Zone id, referenced by devices and events'),
    description: z.string().optional(),
    volumeM3: z.number().positive().optional().describe('Room volume, m³ (needed unless fixed)'),
    ach: z
      .number()
      .finite()
      .min(0)
      .default(0.5)
      .describe('Air changes per hour with windows and doors as they are'),
    outdoor: Concentrations.default({}).describe(
      'Make-up air concentrations (O2 defaults to 20.9 %vol, CO2 to 420 ppm, others to 0)',
    ),
    initial: Concentrations.optional().describe('Concentrations at time 0 (default: outdoor)'),
    sources: z.array(SourceSchema).default([]),
    interlocks: z.array(InterlockSchema).default([]),
    fixed: Concentrations.optional().describe(
      'A stratified layer or test gas: concentrations held constant, no room model',
    ),
  })
  .strict()
  .refine((z) => z.fixed !== undefined || z.volumeM3 !== undefined, {
    message: 'a zone needs volumeM3 (room model) or fixed concentrations',
    path: ['volumeM3'],
  });
export type Zone = z.infer<typeof ZoneSchema>;

export const ScenarioDeviceSchema = z
  .object({
    id: IdSchema,
    profile: z
      .string()
      .min(1)
      .describe('Built-in profile id, or a path to a profile file (relative to the scenario)'),
    unit: z.number().int().min(1).max(247).default(1).describe('Modbus unit address'),
    zone: IdSchema.optional().describe('The zone whose air the sensor sees'),
    constant: Concentrations.optional().describe('Fixed concentrations instead of a zone'),
    standard: z.enum(['ul2034', 'en50291']).optional().describe('gaswatch-co: its own alarm curve'),
    warmup: z.boolean().default(false).describe('Start in warm-up, as after power-on'),
    noise: z.number().min(0).default(0).describe('Sensor noise, standard deviation in canonical units'),
    t90S: z.number().min(0).max(600).default(0).describe('Sensor response time T90, s (0: instant)'),
  })
  .strict()
  .refine((d) => !(d.zone !== undefined && d.constant !== undefined), {
    message: 'give zone or constant, not both',
  });
export type ScenarioDevice = z.infer<typeof ScenarioDeviceSchema>;

const DeviceList = z.array(IdSchema).min(1).describe('Device ids served on this transport');

export const TransportSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('modbus-tcp'),
      host: z.string().default('127.0.0.1').describe('Interface to listen on'),
      port: z.number().int().min(0).max(65535).describe('TCP port (0: any free port); --tcp-port overrides'),
      devices: DeviceList,
    })
    .strict(),
  z
    .object({
      type: z.literal('modbus-rtu'),
      path: z.string().min(1).describe('Serial device or pty; --serial overrides'),
      baudRate: z.number().int().positive().default(9600),
      parity: z.enum(['none', 'even', 'odd']).default('even'),
      stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
      wireTiming: z.boolean().default(false).describe('Baud-accurate answer delays and a busy line'),
      turnaroundMs: z.number().min(0).max(10_000).default(0).describe('Slave turnaround before answering'),
      devices: DeviceList,
    })
    .strict(),
  z
    .object({
      type: z.literal('winsen'),
      path: z.string().min(1).describe('Serial device or pty; --serial overrides'),
      device: IdSchema,
      mode: z.enum(['active', 'qa']).default('active'),
      variant: z
        .enum(['ze07', 'ze15'])
        .optional()
        .describe('Default: the profile variant; ze15 flags faults in bit 7'),
      intervalMs: z.number().int().min(10).default(1000).describe('Active upload period, wall-clock ms'),
    })
    .strict(),
]);
export type Transport = z.infer<typeof TransportSchema>;

export const EventSchema = z
  .object({
    atS: Seconds,
    everyS: z.number().min(1).optional().describe('Repeat the event every this many seconds after atS'),
    device: IdSchema.optional().describe('The device this event acts on'),
    fault: z.enum(SIM_FAULTS).nullable().optional().describe('Put the device into a fault (null: clear it)'),
    drift: z
      .object({ gas: GasIdSchema, perHour: z.number().finite() })
      .strict()
      .optional()
      .describe('Sensor drift of the reported value, canonical units per hour'),
    stuck: z.boolean().optional().describe('Freeze the reported values (true) or release them'),
    responding: z.boolean().optional().describe('false: the slave stops answering'),
    responseDelayMs: z.number().min(0).max(600_000).optional().describe('A slow slave'),
    corrupt: z
      .object({ mode: z.enum(['crc', 'garble']), probability: z.number().min(0).max(1).default(1) })
      .strict()
      .nullable()
      .optional()
      .describe('Damage answers: wrong CRC/checksum or garbled bytes (null: stop)'),
    slaveFailure: z
      .boolean()
      .optional()
      .describe('true: every Modbus request answers exception 4 (slave device failure)'),
    zone: IdSchema.optional().describe('Move the device to another zone (e.g. lowered into a sewer)'),
    set: Concentrations.optional().describe('Set a constant device concentrations'),
    bumpTestS: z.number().positive().optional().describe('Run a bump test lasting this long'),
    powerOn: z.literal(true).optional().describe('Power-cycle: warm-up again'),
    sourceLpm: z
      .object({ zone: IdSchema, index: z.number().int().min(0), lpm: z.number().finite() })
      .strict()
      .optional()
      .describe('Change the rate of a zone source (index in its sources list)'),
    ach: z
      .object({ zone: IdSchema, ach: z.number().min(0) })
      .strict()
      .optional()
      .describe('A window opened or closed'),
  })
  .strict()
  .refine((e) => Object.keys(e).some((k) => !['atS', 'everyS', 'device'].includes(k)), {
    message: 'event does nothing',
  });
export type ScenarioEvent = z.infer<typeof EventSchema>;

export const ScenarioSchema = z
  .object({
    name: z.string().min(1).describe('Scenario name (the built-in ones use their file name)'),
    description: z.string().min(1).describe('One line: what this scenario shows'),
    seed: z.number().int().default(1).describe('Seed for noise and fault probabilities; --seed overrides'),
    zones: z.array(ZoneSchema).default([]),
    devices: z.array(ScenarioDeviceSchema).min(1),
    transports: z.array(TransportSchema).min(1),
    events: z.array(EventSchema).default([]).describe('Fault scripts and changes, in scenario time'),
  })
  .strict()
  .superRefine((s, ctx) => {
    const zones = new Set<string>();
    s.zones.forEach((z, i) => {
      if (zones.has(z.id))
        ctx.addIssue({ code: 'custom', path: ['zones', i, 'id'], message: `duplicate zone "${z.id}"` });
      zones.add(z.id);
    });
    const devices = new Map<string, (typeof s.devices)[number]>();
    s.devices.forEach((d, i) => {
      if (devices.has(d.id))
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'id'], message: `duplicate device "${d.id}"` });
      devices.set(d.id, d);
      if (d.zone !== undefined && !zones.has(d.zone))
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'zone'], message: `no zone "${d.zone}"` });
    });
    s.zones.forEach((z, i) => {
      z.interlocks.forEach((il, j) => {
        if (!devices.has(il.device))
          ctx.addIssue({
            code: 'custom',
            path: ['zones', i, 'interlocks', j, 'device'],
            message: `no device "${il.device}"`,
          });
      });
    });
    const served = new Map<string, number>();
    s.transports.forEach((t, i) => {
      const ids = t.type === 'winsen' ? [t.device] : t.devices;
      const unitsSeen = new Map<number, string>();
      ids.forEach((id, j) => {
        const path = t.type === 'winsen' ? ['transports', i, 'device'] : ['transports', i, 'devices', j];
        const d = devices.get(id);
        if (!d) {
          ctx.addIssue({ code: 'custom', path, message: `no device "${id}"` });
          return;
        }
        if (served.has(id))
          ctx.addIssue({
            code: 'custom',
            path,
            message: `device "${id}" is already on transport ${served.get(id)}`,
          });
        served.set(id, i);
        const other = unitsSeen.get(d.unit);
        if (t.type !== 'winsen' && other)
          ctx.addIssue({
            code: 'custom',
            path,
            message: `devices "${other}" and "${id}" share unit ${d.unit} on one transport`,
          });
        unitsSeen.set(d.unit, id);
      });
    });
    s.events.forEach((e, i) => {
      if (e.device !== undefined && !devices.has(e.device))
        ctx.addIssue({ code: 'custom', path: ['events', i, 'device'], message: `no device "${e.device}"` });
      const needsDevice = [
        'slaveFailure',
        'fault',
        'drift',
        'stuck',
        'responding',
        'responseDelayMs',
        'corrupt',
        'zone',
        'set',
        'bumpTestS',
        'powerOn',
      ];
      if (e.device === undefined && needsDevice.some((k) => k in e))
        ctx.addIssue({ code: 'custom', path: ['events', i, 'device'], message: 'this event needs a device' });
      if (e.zone !== undefined && !zones.has(e.zone))
        ctx.addIssue({ code: 'custom', path: ['events', i, 'zone'], message: `no zone "${e.zone}"` });
      for (const k of ['sourceLpm', 'ach'] as const) {
        const zid = e[k]?.zone;
        if (zid !== undefined && !zones.has(zid))
          ctx.addIssue({ code: 'custom', path: ['events', i, k, 'zone'], message: `no zone "${zid}"` });
      }
      if (e.sourceLpm) {
        const z = s.zones.find((z) => z.id === e.sourceLpm!.zone);
        if (z && e.sourceLpm.index >= z.sources.length)
          ctx.addIssue({
            code: 'custom',
            path: ['events', i, 'sourceLpm', 'index'],
            message: `zone "${z.id}" has ${z.sources.length} sources`,
          });
      }
    });
  });
export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;
