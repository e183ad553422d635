import { z } from 'zod';
import { ProcedureSchema } from './config-schema.js';
import { AlarmHistoryEntrySchema, AlarmSchema } from './model.js';

/** What GET /api/alarms/:id answers: the response card's data. */
export const AlarmDetailSchema = z.object({
  alarm: AlarmSchema,
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
    .describe("The site's contact tiers in call order, and the next notification when one is due"),
});
export type AlarmDetail = z.infer<typeof AlarmDetailSchema>;
