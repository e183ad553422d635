import { type AlarmCondition, offlineTimeoutMs } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { DeviceStateInfo, ReadingAccepted } from '../bus.js';
import { SlotTable } from '../ingest/slot-table.js';
import type { Timers } from '../timers.js';
import type { AlarmBook } from './alarm-book.js';
import { createOfflineFold, type OfflineWhy } from './fold.js';
import { type Alarm, conditionOn, OFFLINE_KEY } from './model.js';

export interface OfflineSweep {
  /** Knows the device (on its gateway); its DeviceState gives the poll interval the timeout scales with. */
  track(gw: string, dev: string, state: DeviceStateInfo | null): void;
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

/** No slot (the end of a gateway's list). */
const NO_SLOT = -1;

// A watched device's numbers, by field of its slot (NaN: none).
/** The DeviceState's poll interval, s. */
const POLL_S = 0;
/** Wall time it was last heard from. */
const SEEN = 1;
/** Silence is counted from here at the earliest: its gateway came back then. */
const WATCH_FROM = 2;
/** Past its limit and waiting the fold window for others of its area since (wall ms). */
const HELD_SINCE = 3;
/** The next slot on its gateway (NO_SLOT: the end). */
const NEXT_ON_GATEWAY = 4;

/**
 * The devices watched, one slot each (issue 18): where an object per device, its map entry and its
 * gateway set's entry cost ~140 bytes (a boxed number for each time), a slot is two pointers and
 * five doubles, 56 bytes, beside one map entry from id to slot. Devices are never removed.
 */
class Watched {
  /** Slot of each device id. */
  readonly slots = new Map<string, number>();
  readonly gw: string[] = [];
  readonly dev: string[] = [];
  /** The numbers of each slot (POLL_S…NEXT_ON_GATEWAY). */
  readonly n = new SlotTable([Number.NaN, 0, 0, Number.NaN, NO_SLOT]);
  /** Each gateway's devices: its first slot here, the next in NEXT_ON_GATEWAY. */
  readonly firstOnGateway = new Map<string, number>();

  get size(): number {
    return this.dev.length;
  }

  add(gw: string, dev: string, now: number): number {
    const slot = this.n.add();
    this.n.set(slot, SEEN, now);
    this.slots.set(dev, slot);
    this.gw.push(gw);
    this.dev.push(dev);
    this.link(slot, gw);
    return slot;
  }

  /** The device in `slot` is on `gw` now (a gateway of its own when it moved). */
  moveTo(slot: number, gw: string): void {
    const was = this.gw[slot] as string;
    if (was === gw) return;
    // Unlinked from its old gateway's list: a walk of that list (a device moves rarely).
    const next = this.n.get(slot, NEXT_ON_GATEWAY);
    let at = this.firstOnGateway.get(was) ?? NO_SLOT;
    if (at === slot) {
      if (next === NO_SLOT) this.firstOnGateway.delete(was);
      else this.firstOnGateway.set(was, next);
    } else
      for (; at !== NO_SLOT; at = this.n.get(at, NEXT_ON_GATEWAY))
        if (this.n.get(at, NEXT_ON_GATEWAY) === slot) {
          this.n.set(at, NEXT_ON_GATEWAY, next);
          break;
        }
    this.gw[slot] = gw;
    this.link(slot, gw);
  }

  /**
   * The slots of the devices on `gw`, in the order they came to it (a gateway's alarm lists its
   * devices so: the list links the newest first).
   */
  onGateway(gw: string): number[] {
    const out: number[] = [];
    for (
      let at = this.firstOnGateway.get(gw) ?? NO_SLOT;
      at !== NO_SLOT;
      at = this.n.get(at, NEXT_ON_GATEWAY)
    )
      out.push(at);
    return out.reverse();
  }

  private link(slot: number, gw: string): void {
    this.n.set(slot, NEXT_ON_GATEWAY, this.firstOnGateway.get(gw) ?? NO_SLOT);
    this.firstOnGateway.set(gw, slot);
  }

  /** The offline limit of the device in `slot`, ms. */
  limitMs(slot: number): number {
    const poll = this.n.get(slot, POLL_S);
    return offlineTimeoutMs(Number.isNaN(poll) ? undefined : poll);
  }

  held(slot: number): boolean {
    return !Number.isNaN(this.n.get(slot, HELD_SINCE));
  }
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
  const w = new Watched();
  /** Gateways that sent a status: when they were last heard from (status or reading). */
  const gateways = new Map<string, number>();
  /** Devices past their limit waiting the window (their slots), by area. */
  const held = new Map<string, Set<number>>();
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

  function unhold(slot: number, area: string | null): void {
    if (!w.held(slot)) return;
    w.n.set(slot, HELD_SINCE, Number.NaN);
    if (area === null) return;
    const set = held.get(area);
    set?.delete(slot);
    if (set?.size === 0) held.delete(area);
  }

  function goDown(gw: string, now: number, why: string): void {
    const list: { dev: string; area: string | null }[] = [];
    for (const slot of w.onGateway(gw)) {
      const dev = w.dev[slot] as string;
      const own = alarms.openAlarm(dev, OFFLINE_KEY);
      // A device that already has its own offline alarm keeps it (raised before the gateway fell).
      if (own !== undefined && conditionOn(own)) continue;
      const area = deps.areaOf(gw, dev);
      unhold(slot, area);
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
    sweepSlice(0);
  }

  /**
   * Up to SWEEP_SLICE devices from slot `from`, then the rest later (devices added meanwhile are
   * swept too); after the last slice, the held areas and the folds, and the next pass.
   */
  function sweepSlice(from: number): void {
    handle = null;
    if (!deps.running()) return;
    const now = clock();
    const { windowS, minDevices } = deps.fold;
    const to = from + SWEEP_SLICE;
    for (let slot = from; slot < w.size; slot++) {
      if (slot === to) {
        handle = timers.setTimeout(() => sweepSlice(to), 0);
        return;
      }
      const dev = w.dev[slot] as string;
      try {
        const silentMs = now - Math.max(w.n.get(slot, SEEN), w.n.get(slot, WATCH_FROM));
        if (silentMs <= w.limitMs(slot) || w.held(slot)) continue;
        const open = alarms.openAlarm(dev, OFFLINE_KEY);
        if (open !== undefined && open.state !== 'cleared_unacked') continue;
        const gw = w.gw[slot] as string;
        const area = deps.areaOf(gw, dev);
        if (fold.join(dev, gw, area)) continue;
        if (open === undefined && area !== null && minDevices > 0) {
          // Wait the window: if enough others of its area go silent too, one area alarm for all.
          w.n.set(slot, HELD_SINCE, now);
          let set = held.get(area);
          if (set === undefined) {
            set = new Set();
            held.set(area, set);
          }
          set.add(slot);
          continue;
        }
        raiseOwn(slot, now);
      } catch (err) {
        log.error({ err, dev }, 'offline check failed for a device');
      }
    }
    for (const [area, set] of held) {
      try {
        if (set.size >= minDevices) {
          const list = [...set].map((slot) => ({ dev: w.dev[slot] as string, gw: w.gw[slot] as string }));
          for (const slot of set) w.n.set(slot, HELD_SINCE, Number.NaN);
          held.delete(area);
          fold.areaDown(area, now, list, windowS);
          continue;
        }
        for (const slot of set)
          if (now - w.n.get(slot, HELD_SINCE) >= windowS * 1000) {
            unhold(slot, area);
            raiseOwn(slot, now);
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

  function raiseOwn(slot: number, now: number): void {
    const dev = w.dev[slot] as string;
    const limit = w.limitMs(slot);
    const silentMs = now - w.n.get(slot, SEEN);
    raiseOffline(
      w.gw[slot] as string,
      dev,
      now,
      `${dev}: no reading for ${Math.round(silentMs / 1000)} s (limit ${limit / 1000} s)`,
      Math.round(silentMs / 1000),
      limit / 1000,
    );
  }

  return {
    track(gw, dev, state) {
      const slot = w.slots.get(dev) ?? w.add(gw, dev, clock());
      w.moveTo(slot, gw);
      if (state !== null) w.n.set(slot, POLL_S, state.pollIntervalS ?? Number.NaN);
    },
    seen(dev, wallMs) {
      const slot = w.slots.get(dev);
      if (slot !== undefined) w.n.set(slot, SEEN, Math.max(w.n.get(slot, SEEN), wallMs));
    },
    readingArrived(r) {
      const slot = w.slots.get(r.dev);
      if (slot !== undefined && w.held(slot)) unhold(slot, deps.areaOf(w.gw[slot] as string, r.dev));
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
        const slot = w.slots.get(dev);
        if (slot !== undefined) w.n.set(slot, WATCH_FROM, Math.max(w.n.get(slot, WATCH_FROM), wallMs));
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
      const slot = w.slots.get(dev);
      return slot !== undefined && w.held(slot) ? { reason: 'silent', alarmId: null } : null;
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
