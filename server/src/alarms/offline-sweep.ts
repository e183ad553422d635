import { type AlarmCondition, type DeviceState, offlineTimeoutMs } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { ReadingAccepted } from '../bus.js';
import type { Timers } from '../timers.js';
import type { AlarmBook } from './alarm-book.js';
import { createOfflineFold, type OfflineWhy } from './fold.js';
import { type Alarm, conditionOn, OFFLINE_KEY } from './model.js';

export interface OfflineSweep {
  /** Knows the device (on its gateway); its DeviceState gives the poll interval the timeout scales with. */
  track(gw: string, dev: string, state: DeviceState | null): void;
  /** The device was heard from at this wall time. */
  seen(dev: string, wallMs: number): void;
  /** A reading arrived: an offline alarm of its device ends; it leaves a folded alarm. */
  readingArrived(r: ReadingAccepted): void;
  /** The gateway's will or status said offline: one gateway alarm for every device known on it. */
  gatewayOffline(gw: string): void;
  /**
   * The gateway was heard from (a status online:true, or a reading through it): it is online, its
   * alarm clears. `status`: it was a status message (only gateways that send them can miss them).
   */
  gatewayHeard(gw: string, wallMs: number, status: boolean): void;
  /** Takes back the folded alarms still on at start (after the devices are tracked). */
  adopt(alarms: Iterable<Alarm>): void;
  /** Why the device counts as offline now (null: it does not). */
  why(dev: string): OfflineWhy | null;
  start(): void;
  stop(): void;
}

export interface OfflineSweepDeps {
  /** Wall clock: offline is the only rule in wall time. */
  clock: () => number;
  timers: Timers;
  /** How often every device is looked at. */
  sweepMs: number;
  logger: Logger;
  alarms: Pick<AlarmBook, 'openAlarm' | 'raise' | 'reraise' | 'clear' | 'record'>;
  /** The device's site (its offline alarm escalates to that site's tiers). */
  siteOf(dev: string): string | null;
  /** The device's area (its site's or household's), for area folding; null: never folded by area. */
  areaOf(gw: string, dev: string): string | null;
  /** A gateway's own area (its alarm's, when its devices share none). */
  gatewayArea(gw: string): string | null;
  /** config.fold: the area window and minimum, the gateway status timeout. */
  fold: { windowS: number; minDevices: number; gatewayTimeoutS: number };
  /** Also run on every sweep (the silence answer deadline); must not throw. */
  eachSweep(now: number): void;
  running(): boolean;
}

interface Watched {
  gw: string;
  dev: string;
  pollIntervalS: number | undefined;
  lastSeenWall: number;
  /** Silence is counted from here at the earliest: its gateway came back then. */
  watchFrom: number;
  /** Past its limit and waiting the fold window for others of its area (wall ms), else null. */
  heldSince: number | null;
}

/**
 * Devices looked at per slice of a sweep. A slice of 5 000 takes a millisecond or two; between
 * slices the event loop runs readings and alarms. A million devices in one pass held it ~50 ms
 * every second (issue 18). A registry of at most this many is swept in one go, as before.
 */
export const SWEEP_SLICE = 5_000;

/**
 * Offline detection: no reading for offlineTimeoutMs(pollIntervalS) (max(3 × poll interval, 30 s)),
 * checked every `sweepMs`, or the gateway said it is offline (or missed its status). Owns when
 * each device was last heard from, which gateways are heard from, and the sweep timer; what folds
 * into a gateway or area alarm is fold.ts's.
 */
export function createOfflineSweep(deps: OfflineSweepDeps): OfflineSweep {
  const { clock, timers, alarms, logger: log } = deps;
  const devices = new Map<string, Watched>();
  const onGateway = new Map<string, Set<string>>();
  /** Gateways that sent a status: when they were last heard from (status or reading). */
  const gateways = new Map<string, number>();
  /** Devices past their limit waiting the window, by area. */
  const held = new Map<string, Set<Watched>>();
  const fold = createOfflineFold({ alarms, logger: log, gatewayArea: deps.gatewayArea });
  let handle: unknown = null;

  function raiseOffline(
    gw: string,
    dev: string,
    now: number,
    message: string,
    value: number,
    threshold: number,
  ): void {
    const open = alarms.openAlarm(dev, OFFLINE_KEY);
    const c: AlarmCondition = {
      key: OFFLINE_KEY,
      rule: 'offline',
      severity: 'warning',
      value,
      threshold,
      unit: 's',
      message,
    };
    if (open !== undefined) {
      if (open.state === 'cleared_unacked') alarms.reraise(open, now, c, false);
      return;
    }
    alarms.raise({ gw, dev, site: deps.siteOf(dev), profile: null }, c, now, false);
  }

  function unhold(d: Watched, area: string | null): void {
    if (d.heldSince === null) return;
    d.heldSince = null;
    if (area === null) return;
    const set = held.get(area);
    set?.delete(d);
    if (set?.size === 0) held.delete(area);
  }

  function goDown(gw: string, now: number, why: string): void {
    const list: { dev: string; area: string | null }[] = [];
    for (const dev of onGateway.get(gw) ?? []) {
      const own = alarms.openAlarm(dev, OFFLINE_KEY);
      // A device that already has its own offline alarm keeps it (raised before the gateway fell).
      if (own !== undefined && conditionOn(own)) continue;
      const d = devices.get(dev);
      const area = deps.areaOf(gw, dev);
      if (d !== undefined) unhold(d, area);
      list.push({ dev, area });
    }
    fold.gatewayDown(gw, now, why, list);
  }

  /** One pass: the gateways, then the devices in slices (sweepSlice), then the held areas. */
  function sweep(): void {
    handle = null;
    if (!deps.running()) return;
    const now = clock();
    deps.eachSweep(now);
    const { gatewayTimeoutS } = deps.fold;
    // Runs from a timer: a throw would be an uncaught exception. One device's failure is logged
    // and the others are still checked; the sweep always reschedules.
    if (gatewayTimeoutS > 0)
      for (const [gw, heard] of gateways)
        if (!fold.isGatewayDown(gw) && now - heard > gatewayTimeoutS * 1000) {
          try {
            goDown(gw, now, `no status for ${Math.round((now - heard) / 1000)} s`);
          } catch (err) {
            log.error({ err, gw }, 'gateway offline check failed');
          }
        }
    sweepSlice(devices.values());
  }

  /**
   * Up to SWEEP_SLICE devices, then the rest later (the Map's iterator sees devices added
   * meanwhile); after the last slice, the held areas and the folds, and the next pass.
   */
  function sweepSlice(rest: IterableIterator<Watched>): void {
    handle = null;
    if (!deps.running()) return;
    const now = clock();
    const { windowS, minDevices } = deps.fold;
    for (let k = 0; ; k++) {
      if (k === SWEEP_SLICE) {
        handle = timers.setTimeout(() => sweepSlice(rest), 0);
        return;
      }
      const next = rest.next();
      if (next.done) break;
      const d = next.value;
      try {
        const limit = offlineTimeoutMs(d.pollIntervalS);
        const silentMs = now - Math.max(d.lastSeenWall, d.watchFrom);
        if (silentMs <= limit || d.heldSince !== null) continue;
        const open = alarms.openAlarm(d.dev, OFFLINE_KEY);
        if (open !== undefined && open.state !== 'cleared_unacked') continue;
        const area = deps.areaOf(d.gw, d.dev);
        if (fold.join(d.dev, d.gw, area)) continue;
        if (open === undefined && area !== null && minDevices > 0) {
          // Wait the window: if enough others of its area go silent too, one area alarm for all.
          d.heldSince = now;
          let set = held.get(area);
          if (set === undefined) {
            set = new Set();
            held.set(area, set);
          }
          set.add(d);
          continue;
        }
        raiseOwn(d, now);
      } catch (err) {
        log.error({ err, dev: d.dev }, 'offline check failed for a device');
      }
    }
    for (const [area, set] of held) {
      try {
        if (set.size >= minDevices) {
          const list = [...set].map((d) => ({ dev: d.dev, gw: d.gw }));
          for (const d of set) d.heldSince = null;
          held.delete(area);
          fold.areaDown(area, now, list, windowS);
          continue;
        }
        for (const d of set)
          if (now - (d.heldSince ?? now) >= windowS * 1000) {
            unhold(d, area);
            raiseOwn(d, now);
          }
      } catch (err) {
        log.error({ err, area }, 'area fold check failed');
      }
    }
    try {
      fold.flush(now);
    } catch (err) {
      log.error({ err }, 'recording folded alarms failed');
    }
    handle = timers.setTimeout(sweep, deps.sweepMs);
  }

  function raiseOwn(d: Watched, now: number): void {
    const limit = offlineTimeoutMs(d.pollIntervalS);
    const silentMs = now - d.lastSeenWall;
    raiseOffline(
      d.gw,
      d.dev,
      now,
      `${d.dev}: no reading for ${Math.round(silentMs / 1000)} s (limit ${limit / 1000} s)`,
      Math.round(silentMs / 1000),
      limit / 1000,
    );
  }

  return {
    track(gw, dev, state) {
      let d = devices.get(dev);
      const moved = d === undefined || d.gw !== gw;
      if (d === undefined) {
        d = { gw, dev, pollIntervalS: undefined, lastSeenWall: clock(), watchFrom: 0, heldSince: null };
        devices.set(dev, d);
      }
      if (moved) {
        onGateway.get(d.gw)?.delete(dev);
        let set = onGateway.get(gw);
        if (set === undefined) {
          set = new Set();
          onGateway.set(gw, set);
        }
        set.add(dev);
      }
      d.gw = gw;
      if (state !== null) d.pollIntervalS = state.pollIntervalS;
    },
    seen(dev, wallMs) {
      const d = devices.get(dev);
      if (d !== undefined) d.lastSeenWall = Math.max(d.lastSeenWall, wallMs);
    },
    readingArrived(r) {
      const d = devices.get(r.dev);
      if (d !== undefined) unhold(d, deps.areaOf(d.gw, d.dev));
      fold.heard(r.dev, r.receivedAt);
      const off = alarms.openAlarm(r.dev, OFFLINE_KEY);
      if (off !== undefined && conditionOn(off)) alarms.clear(off, r.receivedAt);
    },
    gatewayOffline(gw) {
      goDown(gw, clock(), 'it said so: will or status online:false');
    },
    gatewayHeard(gw, wallMs, status) {
      if (status || gateways.has(gw)) gateways.set(gw, Math.max(gateways.get(gw) ?? 0, wallMs));
      if (!fold.isGatewayDown(gw)) return;
      // Back: each device behind it gets its own limit from now before it counts as silent.
      for (const dev of fold.gatewayUp(gw, wallMs)) {
        const d = devices.get(dev);
        if (d !== undefined) d.watchFrom = Math.max(d.watchFrom, wallMs);
      }
    },
    adopt(all) {
      fold.adopt(all);
    },
    why(dev) {
      const f = fold.foldOf(dev);
      if (f !== undefined)
        return { reason: f.scope === 'gateway' ? 'gateway_offline' : 'area_outage', alarmId: f.alarmId };
      const own = alarms.openAlarm(dev, OFFLINE_KEY);
      if (own !== undefined && conditionOn(own)) return { reason: 'silent', alarmId: own.id };
      const d = devices.get(dev);
      return d?.heldSince != null ? { reason: 'silent', alarmId: null } : null;
    },
    start() {
      handle = timers.setTimeout(sweep, deps.sweepMs);
    },
    stop() {
      if (handle !== null) timers.clearTimeout(handle);
      handle = null;
    },
  };
}
