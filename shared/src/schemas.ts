import { z } from 'zod';
import { GasIdSchema } from './gases.js';
import { IdSchema } from './ids.js';

/** Largest payload any gaswatch topic accepts (SPEC §2). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

const IsoTimestamp = z.iso
  .datetime({ offset: true, precision: 3 })
  .or(z.iso.datetime({ offset: true }))
  .describe('ISO 8601 time, millisecond precision, e.g. 2026-11-23T18:00:00.000Z');

/** A finite, non-negative concentration in the gas's canonical unit. */
const Concentration = z
  .number()
  .finite()
  .min(0)
  .max(1_000_000)
  .describe('Concentration in the canonical unit of the gas');

export const ReadingStatusSchema = z
  .enum(['ok', 'warmup', 'fault', 'calibrating', 'bump_test'])
  .describe('What the detector said about itself when this sample was taken');
export type ReadingStatus = z.infer<typeof ReadingStatusSchema>;

export const ReadingSchema = z
  .object({
    v: z.literal(1).describe('Payload version'),
    ts: IsoTimestamp.describe('Sampling time at the gateway'),
    seq: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .describe('Per device, +1 per reading, persisted'),
    values: z
      .partialRecord(GasIdSchema, Concentration)
      .refine((v) => Object.keys(v).length > 0, 'at least one channel')
      .describe('One sample of every channel, canonical units'),
    status: ReadingStatusSchema,
    faults: z.array(z.string().max(64)).max(32).optional().describe('Fault codes the detector reported'),
    quality: z
      .partialRecord(GasIdSchema, z.enum(['good', 'bad', 'uncertain']))
      .optional()
      .describe('Per-channel quality where a channel is doubtful'),
    alarm: z
      .boolean()
      .optional()
      .describe("The detector's own alarm output at sampling time, where the profile exposes it"),
  })
  .strict();
export type Reading = z.infer<typeof ReadingSchema>;

export const GatewayStatusSchema = z.union([
  z
    .object({
      v: z.literal(1),
      online: z.literal(true),
      ts: IsoTimestamp,
      version: z.string().max(64).describe('Gateway software version'),
      uptimeS: z.number().finite().min(0).describe('Seconds since the gateway process started'),
      outboxDepth: z.number().int().min(0).describe('Readings waiting in the on-disk outbox'),
      outboxDropped: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe('Readings dropped because the outbox was full'),
      clockSkewS: z
        .number()
        .finite()
        .optional()
        .describe('Gateway clock minus the broker/server view of time, seconds, when known'),
      clockSuspect: z
        .boolean()
        .optional()
        .describe('True when the gateway clock is far from the broker time'),
      buses: z
        .array(
          z
            .object({
              id: IdSchema.describe('Bus id from the gateway config'),
              open: z
                .boolean()
                .describe(
                  'False while the port cannot be opened: a serial adapter unplugged, a TCP peer down',
                ),
            })
            .strict(),
        )
        .max(256)
        .optional()
        .describe('Each bus of the gateway and whether its port or connection is open'),
    })
    .strict(),
  // The MQTT will message: the broker publishes it when the gateway vanishes.
  z.object({ v: z.literal(1), online: z.literal(false), ts: IsoTimestamp.optional() }).strict(),
]);
export type GatewayStatus = z.infer<typeof GatewayStatusSchema>;

export const DeviceKindSchema = z
  .enum(['household-co', 'multigas', 'combustible'])
  .describe('household-co | multigas (confined spaces) | combustible (fixed combustible-gas detector)');
export type DeviceKind = z.infer<typeof DeviceKindSchema>;

export const DeviceStateSchema = z
  .object({
    v: z.literal(1),
    ts: IsoTimestamp,
    online: z.boolean().describe('False when the gateway cannot read the detector'),
    model: z.string().max(64).describe('Detector profile id'),
    kind: DeviceKindSchema,
    site: z.string().max(128).describe('Site the detector belongs to'),
    location: z.string().max(128).describe('Where on the site, e.g. bathroom'),
    lastError: z.string().max(512).nullable().describe('Why the last read failed, or null'),
    pollIntervalS: z
      .number()
      .positive()
      .max(86_400)
      .optional()
      .describe('How often the gateway polls this detector; the server derives the offline timeout from it'),
  })
  .strict();
export type DeviceState = z.infer<typeof DeviceStateSchema>;

export const DeviceEventSchema = z
  .object({
    v: z.literal(1),
    ts: IsoTimestamp,
    type: z
      .enum(['alarm_raised', 'alarm_cleared', 'interlock', 'fault', 'silenced', 'bump_test'])
      .describe('What happened at the gateway'),
    result: z
      .enum(['started', 'pass', 'fail'])
      .optional()
      .describe('bump_test events: the window started, or the detector passed/failed it'),
    severity: z.enum(['info', 'warning', 'critical']).optional(),
    gas: GasIdSchema.optional(),
    rule: z.string().max(64).optional().describe('The alarm rule that fired, e.g. ul2034'),
    value: z.number().finite().optional(),
    outputs: z
      .record(z.string().max(32), z.boolean())
      .optional()
      .describe(
        'Local outputs switched: output name → the coil value written, e.g. {"valve": true, "fan": true}; what a value does (valve closed or open) is the device profile\'s `outputs` meaning',
      ),
    message: z.string().max(512).optional(),
  })
  .strict();
export type DeviceEvent = z.infer<typeof DeviceEventSchema>;

export const CommandSchema = z.discriminatedUnion('type', [
  z
    .object({
      v: z.literal(1),
      id: z.string().min(1).max(64).describe('Command id, echoed in the result'),
      type: z.literal('silence'),
      device: z.string().max(64).optional().describe('Silence one device; all when absent'),
      alarmId: z.string().max(128).optional(),
    })
    .strict(),
  z.object({ v: z.literal(1), id: z.string().min(1).max(64), type: z.literal('reload_config') }).strict(),
  z
    .object({
      v: z.literal(1),
      id: z.string().min(1).max(64),
      type: z.literal('bump_test'),
      device: z.string().max(64),
    })
    .strict(),
  z
    .object({
      v: z.literal(1),
      id: z.string().min(1).max(64).describe('Command id, echoed in the result'),
      type: z.literal('evacuate'),
      device: z.string().max(64).describe('The detector whose profile sounder outputs are switched on'),
      reason: z
        .string()
        .min(1)
        .max(256)
        .describe(
          'Why people must leave, for the gateway log and its interlock event (e.g. the permit and its suspension)',
        ),
    })
    .strict()
    .describe(
      'Evacuation alert at the work site: the sounder stays on until a silence command for the device (no time limit: it sounds until someone acts)',
    ),
]);
export type Command = z.infer<typeof CommandSchema>;

export const CommandResultSchema = z
  .object({
    v: z.literal(1),
    id: z.string().min(1).max(64),
    ok: z.boolean(),
    ts: IsoTimestamp,
    message: z.string().max(512).optional(),
  })
  .strict();
export type CommandResult = z.infer<typeof CommandResultSchema>;
