import type { AlarmCondition } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { AlarmBook } from './alarm-book.js';
import {
  type Alarm,
  type AlarmFold,
  AREA_OFFLINE_KEY,
  conditionOn,
  FOLD_LIST_MAX,
  GATEWAY_OFFLINE_KEY,
} from './model.js';

// Storms fold (issue 18). A gateway that goes offline takes every detector behind it off the air:
// one alarm for the gateway tells the duty officer what happened, where 500 offline alarms would
// bury it (and call the chain 500 times). A power cut behind several gateways silences many
// detectors of one area within a short window: one area alarm, with the count and the list. The
// devices' own conditions are kept here (why(dev)), so each device still reads as offline, and why.

/** Why a device counts as offline, for GET /api/devices. */
export interface OfflineWhy {
  /** silent: no reading within its limit; gateway_offline / area_outage: folded into that alarm. */
  reason: 'silent' | 'gateway_offline' | 'area_outage';
  /** The alarm that stands for it (its own, or the folded one); null while it waits for the window. */
  alarmId: string | null;
}

/** One open folded alarm and the devices it stands for now. */
interface Fold {
  scope: AlarmFold['scope'];
  /** The gateway id or the area id: the alarm's `dev`. */
  of: string;
  alarm: Alarm;
  members: Map<string, string>; // dev → its gateway
  peak: number;
  /** What made it (the alarm's message says it). */
  why: string;
}

export interface FoldDeps {
  alarms: Pick<AlarmBook, 'openAlarm' | 'raise' | 'reraise' | 'clear' | 'record'>;
  logger: Logger;
  /** The area of a gateway's alarm when its devices say none (the gateway's own area). */
  gatewayArea(gw: string): string | null;
}

export interface OfflineFold {
  /** The gateway is offline (will, status online:false, or missed status): one alarm for `devices`. */
  gatewayDown(
    gw: string,
    now: number,
    why: string,
    devices: Iterable<{ dev: string; area: string | null }>,
  ): void;
  /** The gateway is back: its alarm clears. Returns the devices that were folded into it. */
  gatewayUp(gw: string, now: number): string[];
  isGatewayDown(gw: string): boolean;
  /** Adds a silent device to its gateway's open alarm (true) or to its area's open one (true). */
  join(dev: string, gw: string, area: string | null): boolean;
  /** Many silent devices of one area at once: one area alarm for them. */
  areaDown(
    area: string,
    now: number,
    devices: ReadonlyArray<{ dev: string; gw: string }>,
    windowS: number,
  ): void;
  /** A device was heard from: it leaves the alarm it was folded into (the last one clears it). */
  heard(dev: string, now: number): void;
  /** The fold that stands for the device, if any. */
  foldOf(dev: string): { scope: AlarmFold['scope']; alarmId: string } | undefined;
  /** Records the membership of every fold that changed since the last call (one event each). */
  flush(now: number): void;
  /** At start: takes back the folded alarms still on, as stored. */
  adopt(alarms: Iterable<Alarm>): void;
}

export function createOfflineFold(deps: FoldDeps): OfflineFold {
  const { alarms, logger: log } = deps;
  const byGateway = new Map<string, Fold>();
  const byArea = new Map<string, Fold>();
  const foldOfDev = new Map<string, Fold>();
  /**
   * Gateways that went offline while their area's alarm was open: one power cut behind several
   * gateways stays the one area alarm (their devices join it) instead of becoming an alarm per
   * gateway as each gateway's status times out.
   */
  const downInArea = new Map<string, Fold>();
  const dirty = new Set<Fold>();

  function snapshot(f: Fold, area: string | null): AlarmFold {
    const devices: string[] = [];
    const gateways = new Set<string>();
    for (const [dev, gw] of f.members) {
      if (devices.length < FOLD_LIST_MAX) devices.push(dev);
      gateways.add(gw);
    }
    if (f.scope === 'gateway') gateways.add(f.of);
    f.peak = Math.max(f.peak, f.members.size);
    return {
      scope: f.scope,
      area,
      gateways: [...gateways].sort(),
      count: f.members.size,
      devices,
      peak: f.peak,
    };
  }

  const message = (f: Fold) =>
    f.scope === 'gateway'
      ? `gateway ${f.of} offline (${f.why}): ${f.members.size} detector(s) behind it not heard from`
      : `${f.members.size} detector(s) of area ${f.of} silent at once (${f.why}): a power cut or a network outage?`;

  /** Raises the folded alarm, or raises its latched one again, with the members in `f`. */
  function open(f: Fold, key: string, gw: string, area: string | null, now: number): void {
    const c: AlarmCondition = {
      key,
      rule: 'offline',
      severity: 'warning',
      value: f.members.size,
      threshold: 0,
      message: message(f),
    };
    const latched = alarms.openAlarm(f.of, key);
    const fold = snapshot(f, area);
    if (latched !== undefined) {
      latched.fold = fold;
      latched.gw = gw;
      if (latched.state === 'cleared_unacked') alarms.reraise(latched, now, c, false);
      else alarms.record(latched, 'folded', now);
      f.alarm = latched;
    } else {
      f.alarm = alarms.raise({ gw, dev: f.of, site: null, profile: null, fold }, c, now, false);
    }
    for (const dev of f.members.keys()) foldOfDev.set(dev, f);
  }

  function close(f: Fold, now: number): void {
    (f.scope === 'gateway' ? byGateway : byArea).delete(f.of);
    dirty.delete(f);
    for (const [gw, a] of downInArea) if (a === f) downInArea.delete(gw);
    for (const dev of f.members.keys()) if (foldOfDev.get(dev) === f) foldOfDev.delete(dev);
    if (conditionOn(f.alarm)) alarms.clear(f.alarm, Math.max(now, f.alarm.raisedAt));
  }

  function add(f: Fold, dev: string, gw: string): void {
    f.members.set(dev, gw);
    foldOfDev.set(dev, f);
    dirty.add(f);
  }

  return {
    gatewayDown(gw, now, why, devices) {
      if (byGateway.has(gw) || downInArea.has(gw)) return;
      const list = [...devices];
      const areas = new Set(list.map((d) => d.area));
      // The alarm is in its devices' area when they share one, else in the gateway's.
      const [only] = areas;
      const area = areas.size === 1 && only !== null && only !== undefined ? only : deps.gatewayArea(gw);
      const outage = area === null ? undefined : byArea.get(area);
      if (outage !== undefined && conditionOn(outage.alarm)) {
        downInArea.set(gw, outage);
        for (const d of list) {
          const before = foldOfDev.get(d.dev);
          if (before !== undefined && before !== outage) {
            before.members.delete(d.dev);
            dirty.add(before);
          }
          add(outage, d.dev, gw);
        }
        log.warn(
          { gw, area, devices: list.length, why },
          "gateway offline during its area's outage: its devices join the area alarm",
        );
        return;
      }
      const f: Fold = {
        scope: 'gateway',
        of: gw,
        alarm: undefined as unknown as Alarm,
        members: new Map(),
        peak: 0,
        why,
      };
      for (const d of list) {
        // A device already folded into its area's alarm moves to its gateway's: the cause is known.
        const before = foldOfDev.get(d.dev);
        if (before !== undefined && before.scope === 'area') {
          before.members.delete(d.dev);
          dirty.add(before);
        }
        f.members.set(d.dev, gw);
      }
      byGateway.set(gw, f);
      open(f, GATEWAY_OFFLINE_KEY, gw, area, now);
      log.warn({ gw, devices: f.members.size, why }, 'gateway offline: its devices fold into one alarm');
      for (const a of byArea.values()) if (a.members.size === 0) close(a, now);
    },

    gatewayUp(gw, now) {
      const outage = downInArea.get(gw);
      if (outage !== undefined) {
        // Its devices leave the area alarm (each gets its own limit again); the area alarm clears
        // when the last of its devices is heard or its last gateway is back.
        downInArea.delete(gw);
        const devs: string[] = [];
        for (const [dev, via] of outage.members)
          if (via === gw) {
            devs.push(dev);
            outage.members.delete(dev);
            if (foldOfDev.get(dev) === outage) foldOfDev.delete(dev);
          }
        dirty.add(outage);
        log.info({ gw, devices: devs.length }, "gateway back online: its devices leave the area's alarm");
        return devs;
      }
      const f = byGateway.get(gw);
      if (f === undefined) return [];
      const devs = [...f.members.keys()];
      close(f, now);
      log.info({ gw, devices: devs.length }, 'gateway back online: its alarm clears');
      return devs;
    },

    isGatewayDown: (gw) => byGateway.has(gw) || downInArea.has(gw),

    join(dev, gw, area) {
      if (foldOfDev.has(dev)) return true;
      const g = byGateway.get(gw) ?? downInArea.get(gw);
      if (g !== undefined) {
        add(g, dev, gw);
        return true;
      }
      const a = area === null ? undefined : byArea.get(area);
      if (a !== undefined && conditionOn(a.alarm)) {
        add(a, dev, gw);
        return true;
      }
      return false;
    },

    areaDown(area, now, devices, windowS) {
      const f: Fold = {
        scope: 'area',
        of: area,
        alarm: undefined as unknown as Alarm,
        members: new Map(),
        peak: 0,
        why: `within ${windowS} s`,
      };
      for (const d of devices) f.members.set(d.dev, d.gw);
      byArea.set(area, f);
      const [first] = devices;
      open(f, AREA_OFFLINE_KEY, first?.gw ?? '', area, now);
      log.warn({ area, devices: f.members.size }, 'many devices of one area silent: one area alarm');
    },

    heard(dev) {
      const f = foldOfDev.get(dev);
      if (f === undefined) return;
      foldOfDev.delete(dev);
      f.members.delete(dev);
      dirty.add(f);
    },

    foldOf(dev) {
      const f = foldOfDev.get(dev);
      return f === undefined ? undefined : { scope: f.scope, alarmId: f.alarm.id };
    },

    flush(now) {
      for (const f of dirty) {
        // The last device of an area heard again: the power is back. (A gateway's alarm waits for
        // the gateway itself: its status, or a reading through it.)
        if (f.scope === 'area' && f.members.size === 0) {
          close(f, now);
          continue;
        }
        f.alarm.fold = snapshot(f, f.alarm.fold?.area ?? null);
        f.alarm.value = f.members.size;
        f.alarm.message = message(f);
        alarms.record(f.alarm, 'folded', now);
      }
      dirty.clear();
    },

    adopt(all) {
      for (const a of all) {
        if (a.fold === undefined || !conditionOn(a)) continue;
        const scope = a.key === GATEWAY_OFFLINE_KEY ? 'gateway' : a.key === AREA_OFFLINE_KEY ? 'area' : null;
        if (scope === null) continue;
        // The message keeps what made it: "… offline (why): n detector(s) …".
        const why = /\(([^)]*)\)/.exec(a.message)?.[1] ?? 'before the restart';
        const f: Fold = { scope, of: a.dev, alarm: a, members: new Map(), peak: a.fold.peak, why };
        for (const dev of a.fold.devices) {
          f.members.set(dev, scope === 'gateway' ? a.dev : a.gw);
          foldOfDev.set(dev, f);
        }
        (scope === 'gateway' ? byGateway : byArea).set(a.dev, f);
      }
    },
  };
}
