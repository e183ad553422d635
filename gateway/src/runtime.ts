/**
 * What the gateway's parts share while it runs: a running device, the parts of the config that a
 * `reload_config` swaps, and the gateway's in-process events. Types only, so every part can import
 * them without importing another part.
 */
import type { DeviceEvent, Profile } from '@gaswatch/shared';
import type { BumpTest } from './bump-test-window.js';
import type { BusConfig, GatewayConfig } from './config.js';
import type { LocalAlarm } from './local-alarms.js';
import type { PolledDevice } from './poller.js';
import type { Sample } from './sample.js';

export interface DeviceRuntime extends PolledDevice {
  bus: BusConfig;
  online: boolean | undefined;
  lastError: string | null;
  lastSample: Sample | undefined;
  readings: number;
  alarm: LocalAlarm | undefined;
  /** The bump-test window running for this device, if any (see bump-test-window.ts). */
  bumpTest: BumpTest | undefined;
}

/**
 * The config and profiles as of the last (re)load. `reload_config` replaces both; the keys it
 * refuses to change (gatewayId, uplink, outbox, clock, alarms, logLevel) never differ, so parts
 * built from those at start stay right.
 */
export interface LiveConfig {
  config: GatewayConfig;
  profiles: Map<string, Profile>;
}

export interface GatewayEvents {
  /** A sample was stored in the outbox with this seq. */
  reading: [DeviceRuntime, Sample, number];
  failure: [DeviceRuntime, Error];
  event: [DeviceRuntime, DeviceEvent];
}
