import {
  CONTACT_RELATIONS,
  DeviceEventSchema,
  DWELLINGS,
  GAS_IDS,
  GASES,
  HEATING_KINDS,
  INSPECTION_CHECKLIST,
  INSPECTION_HAZARDS,
  INSPECTION_RESULTS,
  LOCKOUT_REASONS,
  OCCUPANT_FLAGS,
  PHOTO_MAX_BYTES,
  PHOTO_TYPES,
  PHOTOS_PER_INSPECTION,
  PHOTOS_PER_ITEM,
  RECORDED_BUMP_TEST_METHODS,
  RECTIFICATION_OUTCOMES,
  ReadingStatusSchema,
  TEST_RESULTS,
  VULNERABLE_FLAGS,
} from '@gaswatch/shared';
import {
  ALARM_KINDS,
  type AlarmLifecycleState,
  CALL_OUTCOMES,
  isOpen,
  LIFECYCLE_STATES,
  RESOLUTION_REASONS,
  unacked,
} from './alarms/model.js';
import { IMPORT_MAX_BYTES, IMPORT_MAX_ROWS } from './households/import-schema.js';

/** Where each alarm state sorts among open alarms (needing action first); cleared is closed. */
const ALARM_STATE_ORDER: Record<AlarmLifecycleState, number> = {
  active: 0,
  cleared_unacked: 1,
  acknowledged: 2,
  cleared: 3,
};

/**
 * The console's copy of the gas catalogue, the alarm lifecycle states, the reading statuses and
 * the gateway event types, built from the definitions themselves (shared/ and the alarm model) so
 * the app keeps no list of its own. The words a person reads are in the app's locale files (a
 * gas's English name here is what it shows for a gas without words there).
 */
export function consoleCatalogue() {
  return {
    gases: Object.fromEntries(GAS_IDS.map((id) => [id, { name: GASES[id].name, unit: GASES[id].unit }])),
    alarmStates: [...LIFECYCLE_STATES]
      .sort((a, b) => ALARM_STATE_ORDER[a] - ALARM_STATE_ORDER[b])
      .map((id) => ({ id, open: isOpen({ state: id }), needsAck: unacked({ state: id }) })),
    /** The household registry's lists (SPEC §10), in their order; VULNERABLE_FLAGS sort alarms first. */
    households: {
      occupantFlags: [...OCCUPANT_FLAGS],
      vulnerableFlags: [...VULNERABLE_FLAGS],
      heating: [...HEATING_KINDS],
      relations: [...CONTACT_RELATIONS],
      dwellings: [...DWELLINGS],
      /** What one import takes: the console refuses a larger file before sending it. */
      import: { maxBytes: IMPORT_MAX_BYTES, maxRows: IMPORT_MAX_ROWS },
    },
    /** The inspection checklist (SPEC §10): items in the form's order, each under its hazard. */
    inspections: {
      hazards: [...INSPECTION_HAZARDS],
      items: INSPECTION_CHECKLIST.map(({ id, hazard }) => ({ id, hazard })),
      results: [...INSPECTION_RESULTS],
      outcomes: [...RECTIFICATION_OUTCOMES],
      photo: {
        types: [...PHOTO_TYPES],
        maxBytes: PHOTO_MAX_BYTES,
        perItem: PHOTOS_PER_ITEM,
        perInspection: PHOTOS_PER_INSPECTION,
      },
    },
    /** Detector maintenance (SPEC §11): how a bump test is recorded by hand, results, lockout reasons in order. */
    maintenance: {
      recordedMethods: [...RECORDED_BUMP_TEST_METHODS],
      results: [...TEST_RESULTS],
      lockoutReasons: [...LOCKOUT_REASONS],
    },
    resolutionReasons: [...RESOLUTION_REASONS],
    callOutcomes: [...CALL_OUTCOMES],
    alarmKinds: [...ALARM_KINDS],
    /** What a detector says of itself in a reading (ok, warmup, fault, calibrating, bump_test). */
    readingStatuses: [...ReadingStatusSchema.options],
    /** Gateway event types (interlock, bump_test…); their words are the console's locale files. */
    eventTypes: [...DeviceEventSchema.shape.type.options],
  };
}

/** What `GET /api/console/catalogue` answers and the console app reads its lists from. */
export type ConsoleCatalogue = ReturnType<typeof consoleCatalogue>;
