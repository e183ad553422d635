import type { Reading } from '@gaswatch/shared';

/** What a detector may say about a reading beyond its values and status (SPEC §2, optional). */
export type ReadingExtras = Pick<Reading, 'faults' | 'quality' | 'alarm'>;

/**
 * Copies the optional detector-reported fields that are present, and only those, onto `to`:
 * stored rows and rule samples carry them so a fault code, a 'bad' channel or the detector's own
 * alarm output means the same thing when the alarm rules see the reading again on a rebuild.
 * Assigns in place (no intermediate object: this runs for every reading the engine evaluates).
 */
export function withReadingExtras<T extends ReadingExtras>(to: T, from: ReadingExtras): T {
  if (from.faults !== undefined) to.faults = from.faults;
  if (from.quality !== undefined) to.quality = from.quality;
  if (from.alarm !== undefined) to.alarm = from.alarm;
  return to;
}
