import type { GasId, ReadingStatus } from '@gaswatch/shared';

/**
 * One successful read of one detector, in canonical units. A failed read is never a Sample: it is a
 * DriverError, so no caller can mistake it for 0 ppm.
 */
export interface Sample {
  /** Sampling time, ms since the epoch (the gateway clock when the answer arrived). */
  ts: number;
  values: Partial<Record<GasId, number>>;
  status: ReadingStatus;
  faults?: string[];
  quality?: Partial<Record<GasId, 'good' | 'bad' | 'uncertain'>>;
  /** The detector's own alarm output, where the profile exposes it. */
  alarm?: boolean;
}
