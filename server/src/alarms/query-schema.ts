import { AreaIdSchema, GasIdSchema, IdSchema } from '@gaswatch/shared';
import { z } from 'zod';
import { IsoTimeSchema } from '../api-schemas.js';
import { ALARM_KINDS, LIFECYCLE_STATES, RESOLUTION_REASONS } from './model.js';

/**
 * The filters of the alarm history (SPEC §13 "history with export"), the same for the list
 * (`GET /api/alarms`) and the export (`GET /api/alarms/export`): each narrows, all must hold.
 */
export const AlarmFilterFields = {
  from: IsoTimeSchema.optional().describe('Raised at or after this time (inclusive), ISO 8601 with zone'),
  to: IsoTimeSchema.optional().describe('Raised before this time (exclusive), ISO 8601 with zone'),
  area: AreaIdSchema.optional().describe(
    'Only alarms in this area and the areas under it (one of GET /api/areas: an area outside your own is 400 unknown_area, as an unknown one)',
  ),
  site: z.string().min(1).max(128).optional().describe('Only alarms of this site (the id devices report)'),
  device: IdSchema.optional().describe('Only this device'),
  kind: z
    .enum(ALARM_KINDS)
    .optional()
    .describe(
      'gas (a reading over its set point) | detector (its own alarm output) | offline | fault | maintenance',
    ),
  gas: GasIdSchema.optional().describe('Only alarms of this gas (offline and fault alarms have none)'),
  severity: z.enum(['warning', 'critical']).optional().describe('warning | critical'),
  outcome: z
    .enum([...RESOLUTION_REASONS, 'unresolved'])
    .optional()
    .describe(
      'The resolution reason (real_event | false_alarm | test | maintenance | device_fault), or unresolved: not resolved yet',
    ),
  state: z
    .enum([...LIFECYCLE_STATES, 'open'])
    .optional()
    .describe('active | acknowledged | cleared | cleared_unacked | open (every state but cleared)'),
};

export type AlarmFilterQuery = z.infer<z.ZodObject<typeof AlarmFilterFields>>;
