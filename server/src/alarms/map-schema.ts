import { z } from 'zod';
import { LocationSchema, MapConfigSchema, SiteTypeSchema } from './config-schema.js';

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
});
export type MapAnswer = z.infer<typeof MapAnswerSchema>;
