import { z } from 'zod';
import { IsoTimeSchema } from '../api-schemas.js';
import type { ShiftsTable } from '../db/schema.js';
import { type ShiftReport, ShiftReportSchema } from './shift-report.js';

// The shapes the shift routes answer, apart from the routes (as alarms/detail-schema.ts): the
// console takes its types from here without type-checking a route body.

export const ShiftSchema = z
  .object({
    id: z.string(),
    area: z.string().nullable().describe("The duty room's area (the outgoing operator's); null: every area"),
    startedAt: IsoTimeSchema.describe(
      'The previous handover of the area (or 12 h before this one, for the first)',
    ),
    endedAt: IsoTimeSchema.describe('The handover'),
    handedOverBy: z.string().describe('Username or token id of the outgoing operator'),
    note: z.string().describe("The outgoing operator's handover note"),
    report: ShiftReportSchema.describe('The report as it stood at the handover (never recomputed)'),
    confirmation: z
      .object({ by: z.string(), at: IsoTimeSchema, note: z.string() })
      .nullable()
      .describe('The incoming operator who took over; null until confirmed'),
  })
  .describe('Shift');
/** A shift handover as the API shows it (times as ISO, as the other SQL records). */
export type Shift = z.infer<typeof ShiftSchema>;

export const ShiftHeadSchema = ShiftSchema.omit({ report: true }).describe('ShiftHead');
/** A handover without its report. */
export type ShiftHead = z.infer<typeof ShiftHeadSchema>;

/** What GET /api/shifts/current answers. */
export const CurrentShiftSchema = z.object({
  area: z.string().nullable().describe('Your area: the duty room whose shift this is'),
  startedAt: IsoTimeSchema,
  previous: ShiftHeadSchema.nullable().describe(
    'The handover that began this shift (to be confirmed by the incoming operator); null for none',
  ),
  report: ShiftReportSchema,
});
export type CurrentShift = z.infer<typeof CurrentShiftSchema>;

/** What GET /api/shifts answers: a page of handovers, newest first. */
export const ShiftPageSchema = z.object({
  shifts: z.array(ShiftSchema),
  total: z.number(),
  nextCursor: z.string().nullable(),
});
export type ShiftPage = z.infer<typeof ShiftPageSchema>;

const iso = (ms: number): string => new Date(ms).toISOString();

/** A shift as the API answers it, from its row. */
export function toShift(r: ShiftsTable): Shift {
  return {
    id: r.id,
    area: r.area,
    startedAt: iso(r.started_at),
    endedAt: iso(r.ended_at),
    handedOverBy: r.handed_over_by,
    note: r.note,
    report: JSON.parse(r.report) as ShiftReport,
    confirmation:
      r.confirmed_by === null || r.confirmed_at === null
        ? null
        : { by: r.confirmed_by, at: iso(r.confirmed_at), note: r.confirm_note ?? '' },
  };
}
