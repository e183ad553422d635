// The console's types come from the server and shared/ themselves (type-only: nothing of them is
// bundled), so the app cannot drift from the API it reads.
import type { Role } from '@gaswatch/shared';
import type { AlarmDetail } from '../../../src/alarms/detail-schema.js';
import type { MapAnswer } from '../../../src/alarms/map-schema.js';
import type { Alarm } from '../../../src/alarms/model.js';
import type { ConsoleCatalogue } from '../../../src/catalogue.js';

export type { Alarm, AlarmDetail, ConsoleCatalogue, MapAnswer, Role };
export type AlarmHistoryEntry = AlarmDetail['events'][number];
export type ResolutionReason = NonNullable<Alarm['resolution']>['reason'];
export type CallOutcome = NonNullable<AlarmHistoryEntry['outcome']>;
/** What POST /api/alarms/:id/responses takes. */
export type AlarmResponseBody =
  | { kind: 'call'; contact: { name: string; phone?: string }; outcome: CallOutcome; note: string }
  | { kind: 'on_my_way' | 'on_site'; note: string };

/** What GET and POST /api/session answer. */
export interface Who {
  user: { username: string; displayName: string; role: Role; area: string | null };
  via: 'session' | 'token';
  csrfToken: string | null;
  expiresAt: string | null;
}

/** One /api/live message. */
export type LiveMessage =
  | { type: 'alarm'; data: { alarmId: string; alarm: Alarm | null } }
  | { type: 'heartbeat'; data: { now: string } }
  | { type: 'reading' | 'deviceState' | 'deviceEvent' | 'commandResult'; data: unknown };
