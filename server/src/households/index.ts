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
 * Detectors read per page of a reload. SQLite answers in the event loop's thread: a million homes
 * in one query held it for seconds every minute (issue 18); a page of 5 000 takes a few ms here.
 */
export const LOAD_PAGE = 5_000;

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
  /** Households refreshed while a reload reads its pages: applied again over what it read. */
  let refreshedDuringLoad: Set<string> | null = null;
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
  async function refresh(household: string): Promise<void> {
    refreshedDuringLoad?.add(household);
    const homes = await detectorHomes(db, { household });
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
  }

  return {
    ofDevice: (device) => byDevice.get(device)?.summary,
    homeOf: (device) => byDevice.get(device)?.home,
    devicesIn: (area) => byArea.get(area) ?? [],
    generation: () => generation,
    async load() {
      const next = new Map<string, ReturnType<typeof entry>>();
      const areas = new Map<string, Set<string>>();
      const refreshed = new Set<string>();
      refreshedDuringLoad = refreshed;
      try {
        let after: string | null = null;
        for (;;) {
          const page = await detectorHomes(db, { after, limit: LOAD_PAGE });
          for (const h of page) {
            next.set(h.device, entry(h));
            put(areas, h.area, h.device);
          }
          if (page.length < LOAD_PAGE) break;
          after = (page.at(-1) as DetectorHome).device;
          // The loop turns between pages: readings and alarms go on during a large reload.
          await new Promise<void>((r) => setImmediate(r));
        }
      } finally {
        if (refreshedDuringLoad === refreshed) refreshedDuringLoad = null;
      }
      let same = next.size === byDevice.size;
      for (const device of next.keys()) if (same && !byDevice.has(device)) same = false;
      byDevice = next;
      byArea = areas;
      if (!same) generation++;
      // A page read before a household changed here holds its old detectors: read it again.
      for (const household of refreshed) await refresh(household);
    },
    refresh,
  };
}
