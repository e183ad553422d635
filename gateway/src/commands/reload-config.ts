/**
 * `reload_config`: re-reads the --config file and applies what can be applied live. Invalid →
 * nothing changes. The gateway id, uplink, outbox, clock, local-alarm rules and log level are
 * wired into long-lived parts (the MQTT session and its will, the LevelDB outbox, every
 * detector's alarm state, every child logger); a reload that changes them is refused as a whole,
 * naming the keys, and the running gateway stays as it was. So is one that would retire a device
 * whose local safety is acting. Otherwise buses and devices are added, removed, reopened or
 * edited (`planBuses`, `deviceChange`); buses that did not change keep polling undisturbed;
 * profileDirs and bumpTestS apply live.
 */
import type { Profile } from '@gaswatch/shared';
import type { Logger } from 'pino';
import { type Buses, type BusSlot, deviceLog } from '../buses.js';
import {
  type BusConfig,
  type DeviceConfig,
  type GatewayConfig,
  loadConfig,
  loadConfigProfiles,
} from '../config.js';
import { ConfigError } from '../errors.js';
import type { DeviceRuntime, LiveConfig } from '../runtime.js';
import type { CommandHandler, CommandOf } from './command.js';

const RESTART_ONLY = ['gatewayId', 'uplink', 'outbox', 'clock', 'alarms', 'logLevel'] as const;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Keys (dotted, one level deep) that differ between the configs and need a restart. */
export function restartOnlyChanges(cur: GatewayConfig, next: GatewayConfig): string[] {
  const keys: string[] = [];
  for (const k of RESTART_ONLY) {
    const a = cur[k] as unknown;
    const b = next[k] as unknown;
    if (same(a, b)) continue;
    if (a && b && typeof a === 'object' && typeof b === 'object') {
      const sub = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const s of sub)
        if (!same((a as Record<string, unknown>)[s], (b as Record<string, unknown>)[s]))
          keys.push(`${k}.${s}`);
    } else keys.push(k);
  }
  return keys;
}

/** A bus's own settings, without its device list. */
const busSettings = (b: BusConfig) => ({ ...b, devices: undefined });

export type DeviceChange = 'same' | 'settings' | 'replace';

/**
 * How a device that stays on the same bus changed: `same`; `settings` (poll interval, site,
 * location, timeouts: applied to the running device, local alarm state kept); `replace` (profile,
 * unit, localAlarms or outputs changed: a fresh device with fresh alarm state).
 */
export function deviceChange(
  a: DeviceConfig,
  b: DeviceConfig,
  profileA: Profile | undefined,
  profileB: Profile | undefined,
): DeviceChange {
  if (!same(profileA, profileB)) return 'replace';
  if (a.unit !== b.unit || a.localAlarms !== b.localAlarms || a.outputs !== b.outputs) return 'replace';
  return same(a, b) ? 'same' : 'settings';
}

export interface BusPlan {
  /** Buses only in the new config. */
  added: BusConfig[];
  /** Bus ids only in the old config. */
  removed: string[];
  /** Same id, changed bus settings (or a winsen line whose module changed): closed and reopened. */
  reopened: BusConfig[];
  /** Same id and settings: the bus keeps polling; only its device list is edited. */
  edited: BusConfig[];
}

export function planBuses(cur: readonly BusConfig[], next: readonly BusConfig[]): BusPlan {
  const old = new Map(cur.map((b) => [b.id, b]));
  const plan: BusPlan = { added: [], removed: [], reopened: [], edited: [] };
  for (const b of next) {
    const a = old.get(b.id);
    if (!a) plan.added.push(b);
    else if (!same(busSettings(a), busSettings(b)) || (b.type === 'winsen' && !same(a, b)))
      plan.reopened.push(b);
    else plan.edited.push(b);
  }
  const ids = new Set(next.map((b) => b.id));
  for (const b of cur) if (!ids.has(b.id)) plan.removed.push(b.id);
  return plan;
}

/** "2 devices added, 1 removed, 1 changed; bus rs485-1 added" */
export function summarise(c: {
  added: number;
  removed: number;
  changed: number;
  busesAdded: string[];
  busesRemoved: string[];
  busesReopened: string[];
}): string {
  const parts: string[] = [];
  const n = (k: number, what: string) => `${k} device${k === 1 ? '' : 's'} ${what}`;
  if (c.added) parts.push(n(c.added, 'added'));
  if (c.removed) parts.push(n(c.removed, 'removed'));
  if (c.changed) parts.push(n(c.changed, 'changed'));
  const buses: string[] = [];
  if (c.busesAdded.length) buses.push(`bus ${c.busesAdded.join(', ')} added`);
  if (c.busesRemoved.length) buses.push(`bus ${c.busesRemoved.join(', ')} removed`);
  if (c.busesReopened.length) buses.push(`bus ${c.busesReopened.join(', ')} reopened`);
  const text = [parts.join(', '), buses.join(', ')].filter(Boolean).join('; ');
  return text || 'no changes';
}

export interface ReloadPlan {
  next: GatewayConfig;
  nextProfiles: Map<string, Profile>;
  buses: BusPlan;
}

export function createReloadConfig(ctx: {
  live: LiveConfig;
  buses: Buses;
  /** The file the gateway was started from; undefined for a config built in code. */
  configFile: string | undefined;
  /** Whether buses are running (a reload before start or during stop builds without opening). */
  running(): boolean;
  logger: Logger;
}): CommandHandler<CommandOf<'reload_config'>, ReloadPlan> {
  const { live, buses, configFile, logger: log } = ctx;
  const { devices, slots } = buses;

  /** Which bus each device was on at the last (re)load, to tell a move from an edit. */
  const prevBusOf = new Map<string, string>();
  function refreshBusIndex(): void {
    prevBusOf.clear();
    for (const d of devices.values()) prevBusOf.set(d.config.id, d.bus.id);
  }
  refreshBusIndex();

  /** Ids of devices whose local alarm is busy and that `next` would not keep as they are. */
  function busyDevicesRetiredBy(next: GatewayConfig, nextProfiles: Map<string, Profile>): string[] {
    const out: string[] = [];
    for (const d of devices.values()) {
      if (!d.alarm?.busy) continue;
      const nextBus = next.buses.find((b) => b.devices.some((x) => x.id === d.config.id));
      const dc = nextBus?.devices.find((x) => x.id === d.config.id);
      const kept =
        nextBus !== undefined &&
        dc !== undefined &&
        nextBus.id === d.bus.id &&
        deviceChange(d.config, dc, live.profiles.get(d.config.profile), nextProfiles.get(dc.profile)) !==
          'replace';
      if (!kept) out.push(d.config.id);
    }
    return out;
  }

  return {
    plan() {
      if (!configFile)
        return { ok: false, message: 'this gateway was not started from a config file; nothing to reload' };
      let next: GatewayConfig;
      let nextProfiles: Map<string, Profile>;
      try {
        next = loadConfig(configFile);
        nextProfiles = loadConfigProfiles(next, configFile);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        log.warn(
          { file: configFile, issues: err.issues },
          'reload_config: invalid config; running config kept',
        );
        return { ok: false, message: `invalid config ${configFile}: ${err.issues.join('; ')}` };
      }
      const restart = restartOnlyChanges(live.config, next);
      if (restart.length) {
        log.warn(
          { file: configFile, keys: restart },
          'reload_config: changes need a restart; running config kept',
        );
        return {
          ok: false,
          message: `not applied, these keys need a restart of the gateway: ${restart.join(', ')}; nothing changed`,
        };
      }

      // A device the reload would retire (removed, moved or replaced: new profile, unit, outputs or
      // local alarm settings) loses its local alarm state, including valve/fan writes still being
      // retried. Never while its local safety is acting: the duty officer reloads once it settled.
      const busy = busyDevicesRetiredBy(next, nextProfiles);
      if (busy.length) {
        log.warn(
          { file: configFile, devices: busy },
          'reload_config: devices in local alarm would be replaced; running config kept',
        );
        return {
          ok: false,
          message: `not applied: ${busy.join(', ')} in local alarm or still switching outputs would be removed or replaced; reload once it has cleared; nothing changed`,
        };
      }
      return { ok: true, plan: { next, nextProfiles, buses: planBuses(live.config.buses, next.buses) } };
    },

    async apply({ next, nextProfiles, buses: plan }) {
      const oldIds = new Set(devices.keys());
      const nextIds = new Set(next.buses.flatMap((b) => b.devices.map((d) => d.id)));
      let changed = 0;
      const prevProfiles = live.profiles;
      live.profiles = nextProfiles;
      live.config = next;

      // Phase 1: close what goes away or is reopened, take departing devices off edited buses.
      for (const id of plan.removed) {
        const slot = slots.get(id);
        if (!slot) continue;
        if (ctx.running()) await buses.stopSlot(slot);
        slots.delete(id);
        for (const d of slot.devices) buses.retire(d, !nextIds.has(d.config.id));
      }
      const reopenedOld = new Map<string, BusSlot>();
      for (const b of plan.reopened) {
        const slot = slots.get(b.id);
        if (!slot) continue;
        if (ctx.running()) await buses.stopSlot(slot);
        slots.delete(b.id);
        reopenedOld.set(b.id, slot);
      }
      for (const b of plan.edited) {
        const slot = slots.get(b.id);
        if (!slot) continue;
        const ids = new Set(b.devices.map((d) => d.id));
        for (const d of slot.devices) if (!ids.has(d.config.id)) buses.retire(d, !nextIds.has(d.config.id));
      }

      // Phase 2: reopened and added buses, then device edits on buses that keep running.
      const toStart: BusSlot[] = [];
      for (const b of plan.reopened) {
        const old = reopenedOld.get(b.id);
        const slot = buses.build(b, (dc) => {
          const o = old?.devices.find((x) => x.config.id === dc.id);
          if (!o) return undefined;
          const c = deviceChange(
            o.config,
            dc,
            prevProfiles.get(o.config.profile),
            nextProfiles.get(dc.profile),
          );
          if (c !== 'same') changed++;
          if (c !== 'replace') return o;
          buses.retire(o, false);
          return undefined;
        });
        for (const o of old?.devices ?? [])
          if (!b.devices.some((dc) => dc.id === o.config.id)) buses.retire(o, !nextIds.has(o.config.id));
        slots.set(b.id, slot);
        toStart.push(slot);
      }
      for (const b of plan.added) {
        const slot = buses.build(b);
        slots.set(b.id, slot);
        toStart.push(slot);
      }
      for (const b of plan.edited) {
        const slot = slots.get(b.id);
        if (!slot) continue;
        const list: DeviceRuntime[] = [];
        for (const dc of b.devices) {
          const o = slot.devices.find((x) => x.config.id === dc.id);
          const c = o
            ? deviceChange(o.config, dc, prevProfiles.get(o.config.profile), nextProfiles.get(dc.profile))
            : 'replace';
          if (o && c !== 'replace') {
            if (c === 'settings') {
              o.config = dc;
              o.log = deviceLog(slot.log, b, dc);
              changed++;
            }
            list.push(o);
            continue;
          }
          if (o) {
            buses.retire(o, false);
            changed++;
          }
          // Polled when the poller next wakes (within one poll interval of the bus's devices).
          list.push(buses.addDevice(dc, b, slot.log));
        }
        slot.devices.splice(0, slot.devices.length, ...list);
        slot.bus = b;
      }
      if (ctx.running()) await Promise.all(toStart.map((s) => buses.startSlot(s)));

      // Devices that moved from one bus to another count as changed, not added and removed.
      const added = [...nextIds].filter((id) => !oldIds.has(id)).length;
      const removed = [...oldIds].filter((id) => !nextIds.has(id)).length;
      const moved = [...nextIds].filter((id) => {
        if (!oldIds.has(id)) return false;
        const before = prevBusOf.get(id);
        return before !== undefined && before !== devices.get(id)?.bus.id;
      }).length;
      const summary = summarise({
        added,
        removed,
        changed: changed + moved,
        busesAdded: plan.added.map((b) => b.id),
        busesRemoved: plan.removed,
        busesReopened: plan.reopened.map((b) => b.id),
      });
      refreshBusIndex();
      log.info({ file: configFile, summary, devices: devices.size, buses: slots.size }, 'config reloaded');
      return { ok: true, message: summary };
    },
  };
}
