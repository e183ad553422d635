import { z } from 'zod';
import { AreaIdSchema } from './access.js';
import { DaySchema } from './households.js';
import { IdSchema } from './ids.js';

/**
 * Home visits of the CO-prevention campaign (SPEC §10, issue 13): the checklist an inspector ticks
 * in a home, as ids. The console and the ledger say them in Chinese or English (docs/server.md
 * "Inspections" has both); these lists are the only copies of the ids.
 */

/** The hazards of SPEC §10, in the checklist's order: the headings items are grouped under. */
export const INSPECTION_HAZARDS = [
  'water_heater',
  'flue',
  'stove',
  'bedroom_burning',
  'ventilation',
  'gas_hose',
  'appliance_life',
  'mixed_gas',
  'kitchen_sleeping',
  'co_alarm',
] as const;
export type InspectionHazard = (typeof INSPECTION_HAZARDS)[number];

/**
 * What an inspector ticks, each under its hazard, in the order of the form. An id names the
 * hazardous state, so `found` always means "this is wrong here".
 */
export const INSPECTION_CHECKLIST = [
  { id: 'water_heater_in_bathroom', hazard: 'water_heater' },
  { id: 'water_heater_flueless', hazard: 'water_heater' },
  { id: 'flue_missing', hazard: 'flue' },
  { id: 'flue_damaged', hazard: 'flue' },
  { id: 'flue_blocked', hazard: 'flue' },
  { id: 'flue_not_outdoors', hazard: 'flue' },
  { id: 'stove_no_chimney', hazard: 'stove' },
  { id: 'chimney_leaking', hazard: 'stove' },
  { id: 'chimney_blocked', hazard: 'stove' },
  { id: 'no_vent_window', hazard: 'stove' },
  { id: 'no_wind_cap', hazard: 'stove' },
  { id: 'burning_in_bedroom', hazard: 'bedroom_burning' },
  { id: 'room_sealed', hazard: 'ventilation' },
  { id: 'gas_hose_aged', hazard: 'gas_hose' },
  { id: 'gas_hose_rubber', hazard: 'gas_hose' },
  { id: 'gas_hose_expired', hazard: 'gas_hose' },
  { id: 'appliance_past_life', hazard: 'appliance_life' },
  { id: 'pipeline_and_lpg_mixed', hazard: 'mixed_gas' },
  { id: 'sleeping_in_kitchen', hazard: 'kitchen_sleeping' },
  { id: 'co_alarm_missing', hazard: 'co_alarm' },
  { id: 'co_alarm_unpowered', hazard: 'co_alarm' },
  { id: 'co_alarm_expired', hazard: 'co_alarm' },
  { id: 'co_alarm_misplaced', hazard: 'co_alarm' },
] as const satisfies readonly { id: string; hazard: InspectionHazard }[];

/** The checklist's item ids, in order. */
export const INSPECTION_ITEMS = INSPECTION_CHECKLIST.map((c) => c.id) as unknown as readonly [
  (typeof INSPECTION_CHECKLIST)[number]['id'],
  ...(typeof INSPECTION_CHECKLIST)[number]['id'][],
];
export type InspectionItemId = (typeof INSPECTION_ITEMS)[number];

/** What the inspector saw of an item: the hazard is there, is not, or cannot be (no such appliance). */
export const INSPECTION_RESULTS = ['found', 'not_found', 'n/a'] as const;
export type InspectionResult = (typeof INSPECTION_RESULTS)[number];

/** Where the rectification of the hazards found stands. */
export const RECTIFICATION_OUTCOMES = ['pending', 'rectified', 'not_rectified'] as const;
export type RectificationOutcome = (typeof RECTIFICATION_OUTCOMES)[number];

/** Most photos one checklist item, and one inspection, may have. */
export const PHOTOS_PER_ITEM = 5;
export const PHOTOS_PER_INSPECTION = 20;
/** Largest photo accepted, bytes: the console shrinks a phone's photo before sending it. */
export const PHOTO_MAX_BYTES = 2 * 1024 * 1024;
/** The image types a photo may be, told by its first bytes (never by what the client says). */
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type PhotoType = (typeof PHOTO_TYPES)[number];

export const InspectionItemInputSchema = z
  .object({
    item: z.enum(INSPECTION_ITEMS).describe('Checklist item id (INSPECTION_CHECKLIST)'),
    result: z
      .enum(INSPECTION_RESULTS)
      .describe('found: the hazard is there; n/a: the home has no such thing'),
    note: z.string().trim().max(500).default('').describe('What the inspector saw, e.g. 烟道接口脱开'),
  })
  .strict();
export type InspectionItemInput = z.infer<typeof InspectionItemInputSchema>;

export const RectificationSchema = z
  .object({
    deadline: DaySchema.describe('Day by which the hazards found must be put right'),
    outcome: z.enum(RECTIFICATION_OUTCOMES).default('pending'),
    rectifiedOn: DaySchema.nullable().default(null).describe('Day it was put right; only when rectified'),
    note: z.string().trim().max(2000).default('').describe('What was done, or why not'),
  })
  .strict();
export type Rectification = z.infer<typeof RectificationSchema>;

/** A problem of an inspection as a whole, with the path of the field it is about. */
export interface InspectionProblem {
  path: (string | number)[];
  message: string;
}

/**
 * What a valid inspection must also be, beyond each field's shape: each item once; a rectification
 * when a hazard was found and none when nothing was; a deadline and a rectification day not before
 * the visit; a rectification day exactly when rectified; with `today` (the server's local day),
 * no visit and no rectification in the future. Used by the schema (without today) and by the
 * server (with it), so the console's form and the server refuse the same things.
 */
export function inspectionProblems(
  i: {
    date: string;
    items: readonly { item: string; result: string }[];
    rectification: Rectification | null;
  },
  today?: string,
): InspectionProblem[] {
  const problems: InspectionProblem[] = [];
  const seen = new Set<string>();
  i.items.forEach((x, n) => {
    if (seen.has(x.item)) problems.push({ path: ['items', n, 'item'], message: `${x.item} is listed twice` });
    seen.add(x.item);
  });
  if (today !== undefined && i.date > today)
    problems.push({ path: ['date'], message: `a visit cannot be after today (${today})` });
  const found = i.items.some((x) => x.result === 'found');
  const r = i.rectification;
  if (r === null) {
    if (found)
      problems.push({
        path: ['rectification'],
        message:
          'a hazard was found: give a rectification deadline (the day itself if put right on the spot)',
      });
    return problems;
  }
  if (!found)
    problems.push({ path: ['rectification'], message: 'no hazard was found: there is nothing to rectify' });
  if (r.deadline < i.date)
    problems.push({ path: ['rectification', 'deadline'], message: `cannot be before the visit (${i.date})` });
  if (r.outcome === 'rectified' && r.rectifiedOn === null)
    problems.push({ path: ['rectification', 'rectifiedOn'], message: 'say the day it was put right' });
  if (r.outcome !== 'rectified' && r.rectifiedOn !== null)
    problems.push({
      path: ['rectification', 'rectifiedOn'],
      message: `only when rectified, not ${r.outcome}`,
    });
  if (r.rectifiedOn !== null && r.rectifiedOn < i.date)
    problems.push({
      path: ['rectification', 'rectifiedOn'],
      message: `cannot be before the visit (${i.date})`,
    });
  if (r.rectifiedOn !== null && today !== undefined && r.rectifiedOn > today)
    problems.push({ path: ['rectification', 'rectifiedOn'], message: `cannot be after today (${today})` });
  return problems;
}

const InspectionFields = z
  .object({
    household: IdSchema.describe('The household visited'),
    date: DaySchema.describe('Day of the visit'),
    inspectors: z
      .array(z.string().trim().min(1).max(64))
      .min(1)
      .max(10)
      .describe('Who visited, by name, e.g. ["李国强", "王芳"]'),
    items: z
      .array(InspectionItemInputSchema)
      .max(INSPECTION_CHECKLIST.length)
      .describe('The checklist as ticked; an item left out was not checked'),
    rectification: RectificationSchema.nullable()
      .default(null)
      .describe('Required when an item is found; null when nothing was'),
    note: z.string().trim().max(2000).default('').describe('Anything else of the visit'),
  })
  .strict();

/** What POST /api/inspections takes: a visit as recorded. Photos are uploaded after, per item. */
export const InspectionInputSchema = InspectionFields.superRefine((v, ctx) => {
  for (const p of inspectionProblems(v)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
});
export type InspectionInput = z.infer<typeof InspectionInputSchema>;

/** What PATCH /api/inspections/:id takes: the rectification's fields to change, the visit's note. */
export const InspectionPatchSchema = z
  .object({
    // Not RectificationSchema.partial(): its defaults would fill what the caller left out.
    rectification: z
      .object({
        deadline: DaySchema.optional(),
        outcome: z.enum(RECTIFICATION_OUTCOMES).optional(),
        rectifiedOn: DaySchema.nullable().optional(),
        note: z.string().trim().max(2000).optional(),
      })
      .strict()
      .optional()
      .describe(
        'Fields of the rectification to change, the others stay; outcome rectified without rectifiedOn means today, another outcome clears it',
      ),
    note: z.string().trim().max(2000).optional(),
  })
  .strict();
export type InspectionPatch = z.infer<typeof InspectionPatchSchema>;

export const InspectionPhotoSchema = z.object({
  id: z.string().describe('GET /api/inspections/:id/photos/:photoId'),
  contentType: z.enum(PHOTO_TYPES),
  size: z.number().describe('Bytes'),
});
export type InspectionPhoto = z.infer<typeof InspectionPhotoSchema>;

/** An inspection as the API answers it. */
export const InspectionSchema = z.object({
  id: z.string().describe('Sorts by the time it was recorded'),
  household: IdSchema,
  area: AreaIdSchema.describe("The household's area when the visit was recorded"),
  date: DaySchema,
  inspectors: z.array(z.string()),
  items: z.array(
    z.object({
      item: z.enum(INSPECTION_ITEMS),
      result: z.enum(INSPECTION_RESULTS),
      note: z.string(),
      photos: z.array(InspectionPhotoSchema),
    }),
  ),
  foundCount: z.number().describe('Items found'),
  rectification: RectificationSchema.nullable(),
  overdue: z.boolean().describe("Pending and past its deadline, in the server's local day"),
  note: z.string(),
  createdBy: z.string().describe('Username or token id of who recorded it'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Inspection = z.infer<typeof InspectionSchema>;
