import type { AlarmCondition, Reading } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { AlarmBook, AlarmSource } from './alarm-book.js';
import { type Alarm, type AlarmFold, conditionOn, FAULT_BURST_KEY, FOLD_LIST_MAX } from './model.js';

// Fault bursts fold (issue 18), as storms of silence do (fold.ts). When a gateway's RS-485 bus
// fails, or a firmware update goes wrong, every detector behind it reports the same fault at
// once: one alarm "200 detectors of gw-7 report comm_error" tells the duty officer what happened,
// where 200 fault alarms would bury it (and call the chain 200 times). A detector's fault waits
// `windowS` for others of its gateway or area with the same code; enough of them make one alarm
// with the count and the list; a lone fault raises its own alarm after the window, at the time
// the detector reported it. Each device's own fault stays queryable (foldOf).

/** What fault a reading reports, as the burst groups it: its fault codes, else its status. */
export function faultCode(r: Pick<Reading, 'faults' | 'status'>): string {
  if (r.faults !== undefined && r.faults.length > 0) return [...r.faults].sort().join('+');
  return r.status === 'fault' ? 'fault' : 'unreadable';
}

/** A detector whose fault waits for the window: raised on its own if no burst forms. */
interface Waiting {
  src: AlarmSource;
  condition: AlarmCondition;
  raisedAt: number;
  code: string;
  area: string | null;
  /** Wall time it began to wait. */
  since: number;
}

/** One open burst alarm and the detectors it stands for now. */
interface Burst {
  scope: 'gateway' | 'area';
  /** The gateway id or the area id: the alarm's `dev`. */
  of: string;
  code: string;
  alarm: Alarm;
  members: Map<string, string>; // dev → its gateway
  peak: number;
}

export interface FaultBurstDeps {
  alarms: Pick<AlarmBook, 'openAlarm' | 'raise' | 'reraise' | 'clear' | 'record'>;
  clock: () => number;
  logger: Logger;
  /** config.fold: the window and how many detectors make a burst (0: off). */
  fold: { faultWindowS: number; faultMinDevices: number };
  areaOf(gw: string, dev: string): string | null;
  gatewayArea(gw: string): string | null;
}

export interface FaultBurst {
  /** The fault a device's reading reports (kept only while it reports one). */
  saw(dev: string, r: Pick<Reading, 'faults' | 'status'>): void;
  /**
   * The device's fault condition is on and it has no fault alarm of its own: true when the burst
   * takes it (waiting, or folded into a burst alarm); false: raise its own alarm as usual.
   */
  hold(src: AlarmSource, c: AlarmCondition, raisedAt: number): boolean;
  /** The device's fault condition is off (at `ts`, its reading's time). */
  ended(dev: string, ts: number): void;
  /** Every sweep: a fault whose window passed without a burst raises its own alarm. */
  sweep(now: number): void;
  /** The burst alarm that stands for the device's fault, if any. */
  foldOf(dev: string): { scope: 'gateway' | 'area'; code: string; alarmId: string } | undefined;
  /** Records the membership of every burst that changed since the last call. */
  flush(now: number): void;
  /** At start: takes back the burst alarms still on, as stored. */
  adopt(alarms: Iterable<Alarm>): void;
}

export function createFaultBurst(deps: FaultBurstDeps): FaultBurst {
  const { alarms, logger: log, fold } = deps;
  const windowMs = fold.faultWindowS * 1_000;
  /** The code each faulty device reports now; nothing is kept for a device without a fault. */
  const codes = new Map<string, string>();
  const waiting = new Map<string, Waiting>();
  /** Waiting devices by group ("gw|<id>|<code>", "area|<id>|<code>"). */
  const groups = new Map<string, Set<string>>();
  const bursts = new Map<string, Burst>(); // by group
  const burstOfDev = new Map<string, Burst>();
  const dirty = new Set<Burst>();

  const groupKeys = (gw: string, area: string | null, code: string): string[] =>
    area === null ? [`gw|${gw}|${code}`] : [`gw|${gw}|${code}`, `area|${area}|${code}`];

  function unwait(dev: string): Waiting | undefined {
    const w = waiting.get(dev);
    if (w === undefined) return undefined;
    waiting.delete(dev);
    for (const g of groupKeys(w.src.gw, w.area, w.code)) {
      const set = groups.get(g);
      set?.delete(dev);
      if (set?.size === 0) groups.delete(g);
    }
    return w;
  }

  function snapshot(b: Burst): AlarmFold {
    const devices: string[] = [];
    const gateways = new Set<string>();
    for (const [dev, gw] of b.members) {
      if (devices.length < FOLD_LIST_MAX) devices.push(dev);
      gateways.add(gw);
    }
    b.peak = Math.max(b.peak, b.members.size);
    return {
      scope: b.scope,
      area: b.scope === 'area' ? b.of : deps.gatewayArea(b.of),
      gateways: [...gateways].sort(),
      count: b.members.size,
      devices: devices.sort(),
      peak: b.peak,
      fault: b.code,
    };
  }

  const message = (b: Burst) =>
    `${b.members.size} detector(s) of ${b.scope === 'gateway' ? 'gateway' : 'area'} ${b.of} report the same fault (${b.code}) at once: the bus, the power or a firmware update?`;

  /** A group reached the minimum: one alarm for its waiting devices. */
  function open(group: string, scope: 'gateway' | 'area', of: string, code: string, now: number): void {
    const b: Burst = { scope, of, code, alarm: undefined as unknown as Alarm, members: new Map(), peak: 0 };
    let first: Waiting | undefined;
    for (const dev of [...(groups.get(group) ?? [])]) {
      const w = unwait(dev);
      if (w === undefined) continue;
      first ??= w;
      b.members.set(dev, w.src.gw);
      burstOfDev.set(dev, b);
    }
    const c: AlarmCondition = {
      key: `${FAULT_BURST_KEY}:${code}`,
      rule: 'fault',
      severity: 'warning',
      value: b.members.size,
      threshold: fold.faultMinDevices,
      message: message(b),
    };
    const src = { gw: scope === 'gateway' ? of : (first?.src.gw ?? ''), dev: of, site: null, profile: null };
    const latched = alarms.openAlarm(of, c.key);
    if (latched !== undefined) {
      latched.fold = snapshot(b);
      if (latched.state === 'cleared_unacked') alarms.reraise(latched, now, c, false);
      else alarms.record(latched, 'folded', now);
      b.alarm = latched;
    } else b.alarm = alarms.raise({ ...src, fold: snapshot(b) }, c, now, false);
    bursts.set(group, b);
    log.warn({ [scope]: of, code, devices: b.members.size }, 'fault burst: one alarm for the same fault');
  }

  function close(group: string, b: Burst, now: number): void {
    bursts.delete(group);
    dirty.delete(b);
    if (conditionOn(b.alarm)) alarms.clear(b.alarm, Math.max(now, b.alarm.raisedAt));
    log.info({ [b.scope]: b.of, code: b.code }, 'fault burst over: every detector recovered');
  }

  const groupOf = (b: Burst) => `${b.scope === 'gateway' ? 'gw' : 'area'}|${b.of}|${b.code}`;

  return {
    saw(dev, r) {
      if (r.status === 'fault' || (r.faults !== undefined && r.faults.length > 0))
        codes.set(dev, faultCode(r));
    },

    hold(src, c, raisedAt) {
      if (fold.faultMinDevices === 0 || c.key !== 'fault') return false;
      if (burstOfDev.has(src.dev) || waiting.has(src.dev)) return true;
      const code = codes.get(src.dev) ?? 'unreadable';
      const area = deps.areaOf(src.gw, src.dev);
      const keys = groupKeys(src.gw, area, code);
      // A burst of its gateway or area with this fault is on: the device joins it.
      for (const g of keys) {
        const b = bursts.get(g);
        if (b === undefined || !conditionOn(b.alarm)) continue;
        b.members.set(src.dev, src.gw);
        burstOfDev.set(src.dev, b);
        dirty.add(b);
        return true;
      }
      const now = deps.clock();
      waiting.set(src.dev, { src, condition: c, raisedAt, code, area, since: now });
      for (const g of keys) {
        const set = groups.get(g) ?? new Set<string>();
        set.add(src.dev);
        groups.set(g, set);
      }
      // The gateway first: the cause is nearer. Then the area (a burst behind several gateways).
      const [byGw, byArea] = keys as [string, string | undefined];
      if ((groups.get(byGw)?.size ?? 0) >= fold.faultMinDevices) open(byGw, 'gateway', src.gw, code, now);
      else if (
        byArea !== undefined &&
        area !== null &&
        (groups.get(byArea)?.size ?? 0) >= fold.faultMinDevices
      )
        open(byArea, 'area', area, code, now);
      return true;
    },

    ended(dev, ts) {
      // Most readings of most devices: three lookups, nothing kept.
      if (!codes.has(dev) && !waiting.has(dev) && !burstOfDev.has(dev)) return;
      codes.delete(dev);
      const w = unwait(dev);
      if (w !== undefined) {
        // A fault shorter than the window: raised and cleared as it would have been alone.
        const a = alarms.raise(w.src, w.condition, w.raisedAt, false);
        alarms.clear(a, Math.max(ts, w.raisedAt));
        return;
      }
      const b = burstOfDev.get(dev);
      if (b === undefined) return;
      burstOfDev.delete(dev);
      b.members.delete(dev);
      dirty.add(b);
    },

    sweep(now) {
      for (const [dev, w] of waiting) {
        if (now - w.since < windowMs) continue;
        unwait(dev);
        if (alarms.openAlarm(dev, w.condition.key) === undefined)
          alarms.raise(w.src, w.condition, w.raisedAt, false);
      }
    },

    foldOf(dev) {
      const b = burstOfDev.get(dev);
      return b === undefined ? undefined : { scope: b.scope, code: b.code, alarmId: b.alarm.id };
    },

    flush(now) {
      for (const b of dirty) {
        // The last detector recovered: the burst is over.
        if (b.members.size === 0) {
          close(groupOf(b), b, now);
          continue;
        }
        b.alarm.fold = snapshot(b);
        b.alarm.value = b.members.size;
        b.alarm.message = message(b);
        alarms.record(b.alarm, 'folded', now);
      }
      dirty.clear();
    },

    adopt(all) {
      for (const a of all) {
        if (a.fold?.fault === undefined || !conditionOn(a) || !a.key.startsWith(`${FAULT_BURST_KEY}:`))
          continue;
        const b: Burst = {
          scope: a.fold.scope,
          of: a.dev,
          code: a.fold.fault,
          alarm: a,
          members: new Map(),
          peak: a.fold.peak,
        };
        for (const dev of a.fold.devices) {
          b.members.set(dev, a.fold.scope === 'gateway' ? a.dev : a.gw);
          burstOfDev.set(dev, b);
          codes.set(dev, b.code);
        }
        bursts.set(groupOf(b), b);
      }
    },
  };
}
