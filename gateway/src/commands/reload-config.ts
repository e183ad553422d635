/**
 * What a `reload_config` may change live. The gateway id, uplink, outbox, clock, local-alarm
 * rules and log level are wired into long-lived parts (the MQTT session and its will, the
 * LevelDB outbox, every detector's alarm state, every child logger); a reload that changes them
 * is refused as a whole, naming the keys, and the running gateway stays as it was. Buses, their
 * devices, profileDirs and bumpTestS are applied live; see `planBuses`.
 */
import type { Profile } from '@gaswatch/shared';
import type { BusConfig, DeviceConfig, GatewayConfig } from '../config.js';

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
