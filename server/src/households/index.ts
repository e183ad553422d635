import { type OccupantFlag, vulnerableFlags } from '@gaswatch/shared';
import type { Db } from '../db/database.js';
import { detectorHomes } from '../db/households.js';

/** What an alarm carries of its household (SPEC §13): enough for the board and its order. */
export interface HouseholdSummary {
  id: string;
  area: string;
  address: string;
  /** The vulnerable occupants' flags, in the board's order (empty: none). */
  vulnerable: OccupantFlag[];
  /** Where in the home the detector is. */
  location: string;
}

export interface HouseholdIndex {
  /** The household a device is installed in. */
  ofDevice(device: string): HouseholdSummary | undefined;
  /** Reads every installed detector's household again (at start, and now and then). */
  load(): Promise<void>;
  /** Reads one household's detectors again, after it changed here. */
  refresh(household: string): Promise<void>;
}

/**
 * Device → household, in memory: every alarm list and live message asks it, so it must not ask
 * the database. Kept current by the household routes on this instance; other instances' changes
 * (and the CLI's) arrive with the periodic reload.
 */
export function createHouseholdIndex(db: Db): HouseholdIndex {
  let byDevice = new Map<string, HouseholdSummary>();
  const summary = (h: Awaited<ReturnType<typeof detectorHomes>>[number]): HouseholdSummary => ({
    id: h.household,
    area: h.area,
    address: h.address,
    vulnerable: vulnerableFlags(h.flags),
    location: h.location,
  });
  return {
    ofDevice: (device) => byDevice.get(device),
    async load() {
      const next = new Map<string, HouseholdSummary>();
      for (const h of await detectorHomes(db)) next.set(h.device, summary(h));
      byDevice = next;
    },
    async refresh(household) {
      const homes = await detectorHomes(db, household);
      for (const [device, s] of byDevice) if (s.id === household) byDevice.delete(device);
      for (const h of homes) byDevice.set(h.device, summary(h));
    },
  };
}
