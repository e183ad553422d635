import type { InstalledDetector } from '../db/households.js';
import { deviceView } from '../ingest/device-view.js';
import type { DeviceRecord } from '../ingest/devices.js';
import { addDays } from '../reports/ledger-week.js';

/** Why a household's detector needs the next visit (issue 13). */
export const ATTENTION_ISSUES = ['never_reported', 'offline', 'fault', 'expired', 'expires_soon'] as const;
export type AttentionIssue = (typeof ATTENTION_ISSUES)[number];

/** A detector's life ending within this many days is listed ahead of the visit. */
export const EXPIRES_SOON_DAYS = 30;

/**
 * What is wrong with an installed detector as the server sees it now: it never reported, it is
 * silent beyond its reporting interval (offline), its last reading says fault, its life has ended
 * or ends within EXPIRES_SOON_DAYS of `today` (the local day, YYYY-MM-DD). Empty: nothing to do.
 */
export function attentionOf(
  d: InstalledDetector,
  record: DeviceRecord | undefined,
  now: number,
  today: string,
): AttentionIssue[] {
  const issues: AttentionIssue[] = [];
  if (record === undefined || record.lastSeen === null) issues.push('never_reported');
  else {
    if (!deviceView(record, now).online) issues.push('offline');
    if (record.lastReading?.status === 'fault') issues.push('fault');
  }
  if (d.expiresOn !== null) {
    if (d.expiresOn < today) issues.push('expired');
    else if (d.expiresOn <= addDays(today, EXPIRES_SOON_DAYS)) issues.push('expires_soon');
  }
  return issues;
}
