import { HouseholdSchema, OCCUPANT_FLAGS } from '@gaswatch/shared';
import { z } from 'zod';
import { NotificationRecordSchema } from '../notify/record.js';
import { ProcedureSchema } from './config-schema.js';
import { type Alarm, AlarmHistoryEntrySchema, AlarmSchema } from './model.js';
import { ResponseMilestonesSchema } from './response.js';

/** What an alarm row carries of the household its detector is installed in (issue 13). */
export const HouseholdSummarySchema = z
  .object({
    id: z.string(),
    area: z.string(),
    address: z.string(),
    vulnerable: z.array(z.enum(OCCUPANT_FLAGS)).describe("Vulnerable occupants, in the board's order"),
    location: z.string().describe('Where in the home the detector is'),
  })
  .describe("The household of the alarm's detector");

/** An alarm as lists, answers and live messages carry it: the alarm and its household, if any. */
export const AlarmRowSchema = AlarmSchema.extend({ household: HouseholdSummarySchema.optional() });
export type AlarmRow = z.infer<typeof AlarmRowSchema>;

/** The alarm with its household's summary (none when its detector is in no registered home). */
export function alarmRow(
  a: Alarm,
  ofDevice: (dev: string) => z.infer<typeof HouseholdSummarySchema> | undefined,
): AlarmRow {
  const household = ofDevice(a.dev);
  return household === undefined ? a : { ...a, household };
}

/** What GET /api/alarms/:id answers: the response card's data. */
export const AlarmDetailSchema = z.object({
  alarm: AlarmRowSchema,
  household: HouseholdSchema.nullable().describe("The whole household of the alarm's detector"),
  events: z.array(AlarmHistoryEntrySchema),
  procedure: ProcedureSchema.nullable().describe('What to do, in both languages'),
  escalation: z
    .object({
      tiers: z.array(
        z.object({
          tier: z.number().int(),
          name: z.string().optional(),
          contacts: z.array(z.object({ name: z.string(), to: z.string().optional() })),
        }),
      ),
      next: z.object({ tier: z.number().int(), at: z.number() }).nullable(),
    })
    .describe(
      "The alarm's chain: its steps' contacts in call order, and the next notification when one is due",
    ),
  notifications: z
    .array(NotificationRecordSchema)
    .describe(
      'The latest 100 notifications of the alarm, oldest first (GET /api/alarms/:id/notifications pages all)',
    ),
  notificationsTotal: z.number().int().describe('How many notifications the alarm has in all'),
  response: ResponseMilestonesSchema.nullable().describe(
    'Raise → first sent → delivered → acknowledged → on site → resolved; null while the notification records cannot be read',
  ),
});
export type AlarmDetail = z.infer<typeof AlarmDetailSchema>;
