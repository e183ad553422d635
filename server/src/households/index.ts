import { type OccupantFlag, vulnerableFlags } from '@gaswatch/shared';
import type { Db } from '../db/database.js';
import { type DetectorHome, detectorHomes } from '../db/households.js';
import type { AlarmHome } from '../notify/facts.js';

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
  /** The same with its contacts in call order: what the escalation chain of its alarms starts with. */
  homeOf(device: string): AlarmHome | undefined;
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
  let byDevice = new Map<string, { summary: HouseholdSummary; home: AlarmHome }>();
  const entry = (h: DetectorHome) => ({
    summary: {
      id: h.household,
      area: h.area,
      address: h.address,
      vulnerable: vulnerableFlags(h.flags),
      location: h.location,
    },
    home: {
      id: h.household,
      area: h.area,
      address: h.address,
      flags: h.flags,
      location: h.location,
      contacts: h.contacts,
    },
  });
  return {
    ofDevice: (device) => byDevice.get(device)?.summary,
    homeOf: (device) => byDevice.get(device)?.home,
    async load() {
      const next = new Map<string, ReturnType<typeof entry>>();
      for (const h of await detectorHomes(db)) next.set(h.device, entry(h));
      byDevice = next;
    },
    async refresh(household) {
      const homes = await detectorHomes(db, household);
      for (const [device, e] of byDevice) if (e.summary.id === household) byDevice.delete(device);
      for (const h of homes) byDevice.set(h.device, entry(h));
    },
  };
}
