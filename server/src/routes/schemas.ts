// The API's shared shapes live at the root (api-schemas.ts), where the domain folders (reports,
// alarms) may import them without depending on the routes.
import { z } from 'zod';
import { limitSchema } from '../api-schemas.js';
import { NOTIFICATION_CURSOR } from '../db/notifications.js';
import { NotificationRecordSchema } from '../notify/record.js';

export { ErrorSchema, IsoTimeSchema, limitSchema } from '../api-schemas.js';

/** A page of notification records (an alarm's, a permit's evacuation alerts). */
export const NotificationsQuery = z
  .object({
    limit: limitSchema(500, 100, 'notifications, in the order they were queued'),
    cursor: z
      .string()
      .regex(NOTIFICATION_CURSOR, 'must be a nextCursor of this list')
      .optional()
      .describe('nextCursor of the previous page'),
  })
  .strict();

export const NotificationsPageSchema = z.object({
  notifications: z.array(NotificationRecordSchema),
  total: z.number(),
  nextCursor: z.string().nullable(),
});
