import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { GasIdSchema } from './gases.js';
import { REGISTER_TYPES } from './registers.js';
import { DeviceKindSchema, ReadingStatusSchema } from './schemas.js';

const Address = z.number().int().min(0).max(65535).describe('0-based Modbus protocol address (40001 → 0)');
const ReadFunction = z
  .union([z.literal(3), z.literal(4)])
  .default(3)
  .describe('Modbus function: 3 holding registers, 4 input registers');

export const ModbusChannelSchema = z
  .object({
    gas: GasIdSchema.describe('Which gas this channel measures (canonical unit of the gas catalogue)'),
    fc: ReadFunction,
    address: Address,
    type: z.enum(REGISTER_TYPES).describe('Register encoding'),
    wordOrder: z
      .enum(['be', 'le'])
      .default('be')
      .describe('32-bit types: be = high word first, le = low word first'),
    scale: z.number().positive().optional().describe('value = raw × scale (e.g. 0.1 for tenths of a ppm)'),
    decimalsRegister: Address.optional().describe(
      'value = raw / 10^(this register), read with the same function',
    ),
    fullScale: z
      .number()
      .positive()
      .optional()
      .describe('Top of the sensor range; a larger raw value is marked bad'),
  })
  .strict()
  .refine((c) => !(c.scale !== undefined && c.decimalsRegister !== undefined), {
    message: 'give scale or decimalsRegister, not both',
  });
export type ModbusChannel = z.infer<typeof ModbusChannelSchema>;

export const STATUS_FLAGS = [
  'alarm',
  'lowAlarm',
  'highAlarm',
  'fault',
  'warmup',
  'bumpTest',
  'calibrating',
  'eol',
] as const;
export type StatusFlag = (typeof STATUS_FLAGS)[number];

export const StatusWordSchema = z
  .object({
    fc: ReadFunction,
    address: Address,
    bits: z
      .partialRecord(z.enum(STATUS_FLAGS), z.number().int().min(0).max(15))
      .default({})
      .describe('Single-bit flags: meaning → bit number'),
    state: z
      .object({
        shift: z.number().int().min(0).max(15),
        width: z.number().int().min(1).max(16),
        values: z.record(z.string().regex(/^\d+$/), ReadingStatusSchema),
      })
      .strict()
      .optional()
      .describe('A multi-bit state field (e.g. Midas bits 0–3): field value → reading status'),
  })
  .strict();
export type StatusWord = z.infer<typeof StatusWordSchema>;

export const OutputSchema = z
  .object({
    name: z.enum(['sounder', 'valve', 'fan']).describe('What the relay drives'),
    coil: Address.describe('Coil address (function 5 writes, function 1 reads)'),
    onAlarm: z.boolean().describe('Coil value the gateway writes when a local alarm is active'),
    description: z.string().optional(),
  })
  .strict();
export type Output = z.infer<typeof OutputSchema>;

const CommonProfile = {
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/)
    .describe('Profile id, referenced from the gateway config'),
  description: z.string().describe('What detector model this is'),
  kind: DeviceKindSchema.describe('Device kind, which picks the alarm profile on the server'),
  warmupS: z.number().int().min(0).default(0).describe('Seconds after power-on before readings are valid'),
};

export const ModbusProfileSchema = z
  .object({
    ...CommonProfile,
    transport: z.literal('modbus'),
    channels: z.array(ModbusChannelSchema).min(1).describe('Measured channels'),
    status: StatusWordSchema.optional(),
    faultCode: z.object({ fc: ReadFunction, address: Address }).strict().optional(),
    outputs: z.array(OutputSchema).default([]).describe('Relay coils the gateway may switch'),
  })
  .strict();
export type ModbusProfile = z.infer<typeof ModbusProfileSchema>;

export const WinsenProfileSchema = z
  .object({
    ...CommonProfile,
    transport: z.literal('winsen'),
    variant: z.enum(['ze07', 'ze15']).describe('ze15: bit 7 of the high byte is the fault flag'),
    gas: GasIdSchema,
    baud: z.number().int().default(9600),
    fullScale: z
      .number()
      .positive()
      .optional()
      .describe(
        'Top of the module range (ppm) for question-and-answer replies, which do not carry it; active uploads send their own',
      ),
  })
  .strict();
export type WinsenProfile = z.infer<typeof WinsenProfileSchema>;

export const ProfileSchema = z.discriminatedUnion('transport', [ModbusProfileSchema, WinsenProfileSchema]);
export type Profile = z.infer<typeof ProfileSchema>;

/** The profiles shipped with gaswatch (shared/profiles). */
export const BUILTIN_PROFILE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'profiles');

export class ProfileError extends Error {
  readonly code = 'bad_profile';
  constructor(
    readonly file: string,
    readonly issues: string[],
  ) {
    super(`${file}: ${issues.join('; ')}`);
    this.name = 'ProfileError';
  }
}

/** Parses and validates one profile file (YAML or JSON). Throws ProfileError listing every problem. */
export function loadProfileFile(file: string): Profile {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ProfileError(file, [(err as Error).message]);
  }
  const parsed = ProfileSchema.safeParse(doc);
  if (!parsed.success) {
    throw new ProfileError(
      file,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const expected = basename(file, extname(file));
  if (parsed.data.id !== expected)
    throw new ProfileError(file, [`id "${parsed.data.id}" must match the file name "${expected}"`]);
  return parsed.data;
}

/** Loads every profile in the given folders; a later folder's profile replaces an earlier one's of the same id. */
export function loadProfiles(dirs: readonly string[] = [BUILTIN_PROFILE_DIR]): Map<string, Profile> {
  const out = new Map<string, Profile>();
  for (const dir of dirs) {
    for (const name of readdirSync(dir).sort()) {
      if (!/\.(ya?ml|json)$/.test(name)) continue;
      const p = loadProfileFile(join(dir, name));
      out.set(p.id, p);
    }
  }
  return out;
}

/** One built-in profile by id. */
export function builtinProfile(id: string): Profile {
  const p = loadProfiles().get(id);
  if (!p) throw new Error(`no built-in profile "${id}"`);
  return p;
}
