import { type OccupantFlag, vulnerableFlags } from '@gaswatch/shared';
import type { AlarmHome } from '../alarms/facts.js';
import type { Db } from '../db/database.js';
import { type DetectorHome, detectorHomes } from '../db/households.js';

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
  /** The devices installed in homes of this area (not of the areas within it). */
  devicesIn(area: string): Iterable<string>;
  /**
   * Changes at least whenever a device comes into the index or leaves it (installed, removed, or
   * found so by a reload): what a caller worked out from which devices are in homes holds until
   * it changes.
   */
  generation(): number;
  /** Reads every installed detector's household again (at start, and now and then). */
  load(): Promise<void>;
  /** Reads one household's detectors again, after it changed here. */
  refresh(household: string): Promise<void>;
}

/**
 * Device → household, in memory: every alarm list and live message asks it, so it must not ask
 * the database. Kept current by the household routes on this instance; other instances' changes
 * (and the CLI's) arrive with the periodic reload. Also area → devices, for what is counted by
 * area (the weekly ledger's alarms).
 */
export function createHouseholdIndex(db: Db): HouseholdIndex {
  let byDevice = new Map<string, { summary: HouseholdSummary; home: AlarmHome }>();
  let byArea = new Map<string, Set<string>>();
  let generation = 0;
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
  const put = (areas: Map<string, Set<string>>, area: string, device: string) => {
    const devices = areas.get(area);
    if (devices === undefined) areas.set(area, new Set([device]));
    else devices.add(device);
  };
  return {
    ofDevice: (device) => byDevice.get(device)?.summary,
    homeOf: (device) => byDevice.get(device)?.home,
    devicesIn: (area) => byArea.get(area) ?? [],
    generation: () => generation,
    async load() {
      const next = new Map<string, ReturnType<typeof entry>>();
      const areas = new Map<string, Set<string>>();
      for (const h of await detectorHomes(db)) {
        next.set(h.device, entry(h));
        put(areas, h.area, h.device);
      }
      let same = next.size === byDevice.size;
      for (const device of next.keys()) if (same && !byDevice.has(device)) same = false;
      byDevice = next;
      byArea = areas;
      if (!same) generation++;
    },
    async refresh(household) {
      const homes = await detectorHomes(db, household);
      for (const [device, e] of byDevice)
        if (e.summary.id === household) {
          byDevice.delete(device);
          byArea.get(e.summary.area)?.delete(device);
        }
      for (const h of homes) {
        byDevice.set(h.device, entry(h));
        put(byArea, h.area, h.device);
      }
      generation++;
    },
  };
}
