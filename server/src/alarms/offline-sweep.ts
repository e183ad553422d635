import { type AlarmCondition, type DeviceState, offlineTimeoutMs } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { ReadingAccepted } from '../bus.js';
import type { Timers } from '../timers.js';
import type { AlarmBook } from './alarm-book.js';
import { conditionOn, OFFLINE_KEY } from './model.js';

export interface OfflineSweep {
  /** Knows the device (on its gateway); its DeviceState gives the poll interval the timeout scales with. */
  track(gw: string, dev: string, state: DeviceState | null): void;
  /** The device was heard from at this wall time. */
  seen(dev: string, wallMs: number): void;
  /** A reading arrived: an offline alarm of its device ends. */
  readingArrived(r: ReadingAccepted): void;
  /** The gateway's will or status said offline: every device known on it is offline at once. */
  gatewayOffline(gw: string): void;
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
  alarms: Pick<AlarmBook, 'openAlarm' | 'raise' | 'reraise' | 'clear'>;
  /** The device's site (its offline alarm escalates to that site's tiers). */
  siteOf(dev: string): string | null;
  /** Also run on every sweep (the silence answer deadline); must not throw. */
  eachSweep(now: number): void;
  running(): boolean;
}

/**
 * Offline detection: no reading for offlineTimeoutMs(pollIntervalS) (max(3 × poll interval, 30 s)),
 * checked every `sweepMs`, or the gateway said it is offline. Owns when each device was last
 * heard from and the sweep timer.
 */
export function createOfflineSweep(deps: OfflineSweepDeps): OfflineSweep {
  const { clock, timers, alarms, logger: log } = deps;
  const devices = new Map<
    string,
    { gw: string; dev: string; pollIntervalS: number | undefined; lastSeenWall: number }
  >();
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

  function sweep(): void {
    handle = null;
    if (!deps.running()) return;
    const now = clock();
    deps.eachSweep(now);
    // Runs from a timer: a throw would be an uncaught exception. One device's failure is logged
    // and the others are still checked; the sweep always reschedules.
    for (const d of devices.values()) {
      try {
        const limit = offlineTimeoutMs(d.pollIntervalS);
        const silentMs = now - d.lastSeenWall;
        if (silentMs > limit) {
          const open = alarms.openAlarm(d.dev, OFFLINE_KEY);
          if (open !== undefined && open.state !== 'cleared_unacked') continue;
          raiseOffline(
            d.gw,
            d.dev,
            now,
            `${d.dev}: no reading for ${Math.round(silentMs / 1000)} s (limit ${limit / 1000} s)`,
            Math.round(silentMs / 1000),
            limit / 1000,
          );
        }
      } catch (err) {
        log.error({ err, dev: d.dev }, 'offline check failed for a device');
      }
    }
    handle = timers.setTimeout(sweep, deps.sweepMs);
  }

  return {
    track(gw, dev, state) {
      let d = devices.get(dev);
      if (d === undefined) {
        d = { gw, dev, pollIntervalS: undefined, lastSeenWall: clock() };
        devices.set(dev, d);
      }
      d.gw = gw;
      if (state !== null) d.pollIntervalS = state.pollIntervalS;
    },
    seen(dev, wallMs) {
      const d = devices.get(dev);
      if (d !== undefined) d.lastSeenWall = Math.max(d.lastSeenWall, wallMs);
    },
    readingArrived(r) {
      const off = alarms.openAlarm(r.dev, OFFLINE_KEY);
      if (off !== undefined && conditionOn(off)) alarms.clear(off, r.receivedAt);
    },
    gatewayOffline(gw) {
      const now = clock();
      for (const d of devices.values()) {
        if (d.gw !== gw) continue;
        raiseOffline(d.gw, d.dev, now, `${d.dev}: gateway ${gw} went offline`, 0, 0);
      }
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
