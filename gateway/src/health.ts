/**
 * Is the gateway doing its job, in one look: the systemd watchdog pings only while every bus's
 * poll loop is alive, and `systemctl status` shows the summary line (STATUS=): which buses wait for
 * their adapter, how many detectors answer, the uplink, the outbox.
 */
import type { BusSlot } from './buses.js';
import type { BusConfig } from './config.js';
import type { Outbox } from './outbox.js';
import type { DeviceRuntime } from './runtime.js';
import type { Uplink } from './uplink.js';

export interface GatewayHealth {
  /** False when a poll loop has crashed or one poll has run far longer than it can (a hang). */
  ok: boolean;
  /** Why not ok, for the log. */
  problem?: string;
  /** One line for systemd's STATUS=. */
  summary: string;
}

/**
 * The longest one poll of this bus may take before the loop counts as hung: every request of the
 * slowest device timing out on every retry, twice over, plus a minute for the outbox write.
 */
export function pollHangMs(bus: BusConfig): number {
  const worst = Math.max(
    ...bus.devices.map((d) => (d.timeoutMs ?? bus.timeoutMs) * ((d.retries ?? bus.retries) + 1)),
  );
  return 2 * worst + 60_000;
}

/** Where a bus connects, as a technician would look for it. */
const whereOf = (bus: BusConfig) => (bus.type === 'modbus-tcp' ? `${bus.host}:${bus.port}` : bus.path);

export function checkHealth(parts: {
  slots: Iterable<BusSlot>;
  devices: Iterable<DeviceRuntime>;
  uplink: Pick<Uplink, 'connected'>;
  outbox: Pick<Outbox, 'depth'>;
}): GatewayHealth {
  const problems: string[] = [];
  const waiting: string[] = [];
  for (const slot of parts.slots) {
    const busy = slot.poller.busyMs();
    if (busy === Number.POSITIVE_INFINITY) problems.push(`poll loop of bus ${slot.bus.id} crashed`);
    else if (busy > pollHangMs(slot.bus))
      problems.push(`poll loop of bus ${slot.bus.id} stuck for ${Math.round(busy / 1000)} s`);
    if (!slot.driver.open)
      waiting.push(
        slot.bus.type === 'modbus-tcp'
          ? `bus ${slot.bus.id} cannot reach ${whereOf(slot.bus)}`
          : `bus ${slot.bus.id} waiting for ${whereOf(slot.bus)}`,
      );
  }
  let total = 0;
  let online = 0;
  for (const d of parts.devices) {
    total++;
    if (d.online === true) online++;
  }
  const summary = [
    ...problems,
    ...waiting,
    `${online}/${total} detectors answering`,
    parts.uplink.connected ? 'uplink connected' : 'uplink down',
    `outbox ${parts.outbox.depth}`,
  ].join('; ');
  return problems.length
    ? { ok: false, problem: problems.join('; '), summary: summary.slice(0, 500) }
    : { ok: true, summary: summary.slice(0, 500) };
}
