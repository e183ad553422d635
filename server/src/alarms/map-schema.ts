import { z } from 'zod';
import { LocationSchema, MapConfigSchema, SiteTypeSchema } from './config-schema.js';

/** Households drawn on the map at most: a township's homes, not a province's. */
export const MAP_HOUSEHOLDS = 5000;

/** What GET /api/map answers (kept out of the route so the console can import its type). */
export const MapAnswerSchema = z.object({
  tiles: MapConfigSchema.nullable().describe('null: no tiles configured, the console draws a plain plan'),
  sites: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      area: z.string().nullable(),
      type: SiteTypeSchema,
      address: z.string().optional(),
      location: LocationSchema,
    }),
  ),
  unplaced: z.array(z.string()).describe('Visible sites without a location'),
  households: z
    .array(z.object({ id: z.string(), address: z.string(), area: z.string(), location: LocationSchema }))
    .describe(`Households of the caller's area with a place, by id (at most ${MAP_HOUSEHOLDS})`),
  householdsTotal: z.number().int().describe('All of them: more than are listed when over the limit'),
});
export type MapAnswer = z.infer<typeof MapAnswerSchema>;
