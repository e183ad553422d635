import { z } from 'zod';
import { AreaIdSchema } from './access.js';
import { IdSchema } from './ids.js';

/**
 * The CO-prevention campaign's household registry (SPEC §10): the words township offices keep
 * their lists in, as ids. The console and the exports say them in Chinese or English; these
 * lists are the only copies.
 */

/** The campaigns' priority places. */
export const DWELLINGS = ['own_home', 'rental', 'urban_village', 'remote_single'] as const;

/**
 * Who lives there that CO harms first or cannot get out: the order is the board's (an elderly
 * person alone first).
 */
export const OCCUPANT_FLAGS = [
  'elderly_alone',
  'bedridden',
  'disabled',
  'infant',
  'left_behind_child',
  'elderly',
  'migrant',
] as const;
export type OccupantFlag = (typeof OCCUPANT_FLAGS)[number];

/** Flags that make a household vulnerable: its alarms sort first (SPEC §13). `migrant` is not one. */
export const VULNERABLE_FLAGS: readonly OccupantFlag[] = [
  'elderly_alone',
  'bedridden',
  'disabled',
  'infant',
  'left_behind_child',
  'elderly',
];

export const HEATING_KINDS = [
  'coal_stove',
  'charcoal',
  'kang',
  'gas_water_heater_flued',
  'gas_water_heater_flueless',
  'gas_cooker',
  'other',
] as const;

export const CONTACT_RELATIONS = ['occupant', 'family', 'neighbour', 'grid_worker', 'village_cadre'] as const;

/** A phone number as people write it: digits, spaces, dashes, a leading +. */
export const PhoneSchema = z
  .string()
  .trim()
  .regex(
    /^\+?[0-9][0-9 -]{2,30}$/,
    'must be a phone number: digits, spaces and dashes, optionally a leading +',
  );

export const HouseholdContactSchema = z
  .object({
    name: z.string().trim().min(1).max(64),
    relation: z.enum(CONTACT_RELATIONS),
    phone: PhoneSchema,
  })
  .strict();
export type HouseholdContact = z.infer<typeof HouseholdContactSchema>;

/** A day, as offices write it: YYYY-MM-DD. */
export const DaySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((d) => {
    const [y, m, day] = d.split('-').map(Number);
    // Date.UTC rolls 02-30 over into March: a real date comes back as written.
    return new Date(Date.UTC(y ?? 0, (m ?? 1) - 1, day ?? 1)).toISOString().slice(0, 10) === d;
  }, 'must be a real date');

export const HouseholdDetectorSchema = z
  .object({
    device: IdSchema.describe('The device id its gateway reports'),
    location: z.string().trim().max(64).default('').describe('Where in the home, e.g. 卧室, 厨房'),
    installedOn: DaySchema.optional(),
    expiresOn: DaySchema.optional().describe('Household CO alarms wear out: the end of its life'),
  })
  .strict();
export type HouseholdDetector = z.infer<typeof HouseholdDetectorSchema>;

/** What a household is made of, as written (create); every field but the id and area has a default. */
export const HouseholdInputSchema = z
  .object({
    id: IdSchema.describe('The office\'s own household number, lowercase, e.g. "liujiang-3-12"'),
    area: AreaIdSchema.describe('The village or community it belongs to'),
    address: z.string().trim().min(1).max(256),
    lat: z.number().min(-90).max(90).nullable().default(null),
    lon: z.number().min(-180).max(180).nullable().default(null),
    dwelling: z.enum(DWELLINGS).nullable().default(null),
    occupants: z
      .object({
        count: z.number().int().min(0).max(99),
        flags: z.array(z.enum(OCCUPANT_FLAGS)).max(OCCUPANT_FLAGS.length).default([]),
      })
      .strict()
      .default({ count: 0, flags: [] }),
    heating: z.array(z.enum(HEATING_KINDS)).max(HEATING_KINDS.length).default([]),
    contacts: z.array(HouseholdContactSchema).max(10).default([]).describe('In call order'),
    notes: z.string().max(2000).default(''),
  })
  .strict();
export type HouseholdInput = z.infer<typeof HouseholdInputSchema>;

export const HouseholdSchema = HouseholdInputSchema.extend({
  detectors: z.array(HouseholdDetectorSchema.required({ location: true })),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Household = z.infer<typeof HouseholdSchema>;

/** The vulnerable flags of a household's occupants, in the board's order. */
export function vulnerableFlags(flags: readonly OccupantFlag[]): OccupantFlag[] {
  return VULNERABLE_FLAGS.filter((f) => flags.includes(f));
}
