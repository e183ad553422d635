import { type HouseholdContact, type OccupantFlag, vulnerableFlags } from '@gaswatch/shared';
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
 * A home as the index keeps it, shared by its detectors. Compact, since a county's every detector
 * has one (issue 18: as two objects per detector with parsed contacts, ~890 bytes a detector):
 * the words many homes share (area ids, flag sets) are one copy each, and the contacts stay the
 * stored JSON until an alarm asks for them.
 */
interface Home {
  id: string;
  area: string;
  address: string;
  flags: readonly OccupantFlag[];
  vulnerable: readonly OccupantFlag[];
  /**
   * The contacts' JSON as its UTF-8 bytes in a one-byte string: V8 keeps text with any Chinese in
   * it as two bytes a character, the names and the phone numbers' digits alike (~300 bytes a
   * home as stored, ~160 so). Decoded when an alarm's chain or message asks (homeOf).
   */
  contacts: string;
}

/** A detector's place: its home and where in it (卧室). */
interface Placed {
  home: Home;
  location: string;
}

/**
 * One copy of each distinct value of the short words homes repeat (area ids, detector locations,
 * flag sets), for as long as the index: a reload of a million detectors would otherwise keep a
 * string of its own per row.
 */
function interner() {
  const words = new Map<string, string>();
  const flagSets = new Map<string, { flags: readonly OccupantFlag[]; vulnerable: readonly OccupantFlag[] }>();
  return {
    word(w: string): string {
      const known = words.get(w);
      if (known !== undefined) return known;
      words.set(w, w);
      return w;
    },
    flags(flags: OccupantFlag[]) {
      const key = flags.join(',');
      let set = flagSets.get(key);
      if (set === undefined) {
        set = { flags: Object.freeze(flags), vulnerable: Object.freeze(vulnerableFlags(flags)) };
        flagSets.set(key, set);
      }
      return set;
    },
  };
}

/**
 * Device → household, in memory: every alarm list and live message asks it, so it must not ask
 * the database. Kept current by the household routes on this instance; other instances' changes
 * (and the CLI's) arrive with the periodic reload. Also area → devices, for what is counted by
 * area (the weekly ledger's alarms).
 */
export function createHouseholdIndex(db: Db): HouseholdIndex {
  let byDevice = new Map<string, Placed>();
  let byArea = new Map<string, Set<string>>();
  let generation = 0;
  /** Households refreshed while a reload reads its pages: applied again over what it read. */
  let refreshedDuringLoad: Set<string> | null = null;
  const intern = interner();
  /** The detector's place; `homes` holds the homes made so far by this read, by id (shared by their detectors). */
  const placed = (h: DetectorHome, homes: Map<string, Home>): Placed => {
    let home = homes.get(h.household);
    if (home === undefined) {
      const { flags, vulnerable } = intern.flags(h.flags);
      home = {
        id: h.household,
        area: intern.word(h.area),
        address: h.address,
        flags,
        vulnerable,
        contacts: Buffer.from(h.contactsJson, 'utf8').toString('latin1'),
      };
      homes.set(h.household, home);
    }
    return { home, location: intern.word(h.location) };
  };
  const put = (areas: Map<string, Set<string>>, area: string, device: string) => {
    const devices = areas.get(area);
    if (devices === undefined) areas.set(area, new Set([device]));
    else devices.add(device);
  };
  async function refresh(household: string): Promise<void> {
    refreshedDuringLoad?.add(household);
    const rows = await detectorHomes(db, { household });
    for (const [device, p] of byDevice)
      if (p.home.id === household) {
        byDevice.delete(device);
        byArea.get(p.home.area)?.delete(device);
      }
    const homes = new Map<string, Home>();
    for (const h of rows) {
      const p = placed(h, homes);
      byDevice.set(h.device, p);
      put(byArea, p.home.area, h.device);
    }
    generation++;
  }

  return {
    ofDevice(device) {
      const p = byDevice.get(device);
      if (p === undefined) return undefined;
      const { home } = p;
      return {
        id: home.id,
        area: home.area,
        address: home.address,
        vulnerable: home.vulnerable as OccupantFlag[],
        location: p.location,
      };
    },
    homeOf(device) {
      const p = byDevice.get(device);
      if (p === undefined) return undefined;
      const { home } = p;
      return {
        id: home.id,
        area: home.area,
        address: home.address,
        flags: home.flags,
        location: p.location,
        contacts: JSON.parse(Buffer.from(home.contacts, 'latin1').toString('utf8')) as HouseholdContact[],
      };
    },
    devicesIn: (area) => byArea.get(area) ?? [],
    generation: () => generation,
    async load() {
      const next = new Map<string, Placed>();
      const areas = new Map<string, Set<string>>();
      // A home's detectors are not in one page (pages go in device order): homes by id for the whole read.
      const homes = new Map<string, Home>();
      const refreshed = new Set<string>();
      refreshedDuringLoad = refreshed;
      try {
        let after: string | null = null;
        for (;;) {
          const page = await detectorHomes(db, { after, limit: LOAD_PAGE });
          for (const h of page) {
            const p = placed(h, homes);
            next.set(h.device, p);
            put(areas, p.home.area, h.device);
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
