/**
 * Each device's retained `DeviceState` (online, model, where it is, why the last read failed):
 * published when it changes and again on every (re)connect. Only while connected, so mqtt.js
 * queues nothing in memory through an outage (docs/gateway.md "Safety of the backlog path").
 */
import type { DeviceState } from '@gaswatch/shared';
import type { Clock } from './clock.js';
import type { DeviceRuntime } from './runtime.js';
import type { Uplink } from './uplink.js';

export interface DeviceStates {
  /** Publishes the device's state now (nothing while disconnected: republished on connect). */
  publish(d: DeviceRuntime): void;
  /** Publishes the state of every device already polled once; on connect. */
  publishAll(devices: Iterable<DeviceRuntime>): void;
}

export function createDeviceStates(opts: { uplink: Uplink; clock: Clock }): DeviceStates {
  const { uplink, clock } = opts;

  const stateOf = (d: DeviceRuntime): DeviceState => ({
    v: 1,
    ts: new Date(clock.now()).toISOString(),
    online: d.online === true,
    model: d.profile.id,
    kind: d.profile.kind,
    site: d.config.site,
    location: d.config.location,
    lastError: d.lastError ? d.lastError.slice(0, 500) : null,
    pollIntervalS: d.config.pollIntervalS,
  });

  function publish(d: DeviceRuntime): void {
    if (!uplink.connected) return;
    uplink
      .publish('state', stateOf(d), { dev: d.config.id })
      .catch((err: Error) => d.log.debug({ err: err.message }, 'state publish failed'));
  }

  return {
    publish,
    publishAll(devices) {
      for (const d of devices) if (d.online !== undefined) publish(d);
    },
  };
}
