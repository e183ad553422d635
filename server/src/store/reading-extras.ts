import type { Reading } from '@gaswatch/shared';

/** What a detector may say about a reading beyond its values and status (SPEC §2, optional). */
export type ReadingExtras = Pick<Reading, 'faults' | 'quality' | 'alarm'>;

/**
 * The optional detector-reported fields that are present, and only those: stored rows and rule
 * samples carry them so a fault code, a 'bad' channel or the detector's own alarm output means the
 * same thing when the alarm rules see the reading again on a rebuild.
 */
export function readingExtras(r: ReadingExtras): ReadingExtras {
  const out: ReadingExtras = {};
  if (r.faults !== undefined) out.faults = r.faults;
  if (r.quality !== undefined) out.quality = r.quality;
  if (r.alarm !== undefined) out.alarm = r.alarm;
  return out;
}
