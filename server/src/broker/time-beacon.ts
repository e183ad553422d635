import { topics } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { ServerBus } from '../bus.js';
import type { Broker } from './types.js';

export interface TimeBeaconOptions {
  broker: Pick<Broker, 'publish' | 'connected'>;
  bus: ServerBus;
  clock: () => number;
  logger: Logger;
  /** How often the time is published, ms (default 30 s). */
  intervalMs?: number;
}

export interface TimeBeacon {
  start(): void;
  stop(): void;
  /** Publishes the time now (no-op while the broker is down). */
  publish(): void;
}

/** Answers to gateways coming online no more often than this, ms. */
const MIN_GAP_MS = 1_000;

/**
 * The reference time for the gateways' clock check (a Raspberry Pi has no real-time clock): the
 * server's time as a JSON string (`"2026-11-23T18:00:00.000Z"`) on `gaswatch/v1/time`, every 30 s
 * and at once when a gateway comes online (not on its periodic statuses), so a gateway that booted with a wrong clock says so
 * in its status within a second of connecting. QoS 0 and not retained on purpose: a retained or
 * queued time would be old when it arrives, and an old time reads as a skewed gateway clock. For
 * the same reason nothing is published while the broker is unreachable (mqtt.js would queue it).
 */
export function createTimeBeacon(opts: TimeBeaconOptions): TimeBeacon {
  const log = opts.logger.child({ part: 'time-beacon' });
  const intervalMs = opts.intervalMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  let lastAt = Number.NEGATIVE_INFINITY;
  /** Gateways whose last status said online: only a gateway coming online needs the time at once. */
  const online = new Set<string>();
  let soon: NodeJS.Timeout | undefined;

  const publish = (): void => {
    if (!opts.broker.connected()) return;
    const now = opts.clock();
    lastAt = now;
    opts.broker
      .publish(topics.time(), Buffer.from(JSON.stringify(new Date(now).toISOString())), {
        qos: 0,
        retain: false,
      })
      .catch((err: unknown) => log.debug({ err }, 'time not published'));
  };
  const onGatewayStatus = ({ gw, status }: { gw: string; status: { online: boolean } }): void => {
    if (!status.online) {
      online.delete(gw);
      return;
    }
    // Periodic statuses of gateways already online wait for the interval (one broadcast reaches all).
    if (online.has(gw)) return;
    online.add(gw);
    // Several gateways coming online together (a site's power returns) share one publish.
    const wait = MIN_GAP_MS - (opts.clock() - lastAt);
    if (wait <= 0) publish();
    else if (!soon)
      soon = setTimeout(() => {
        soon = undefined;
        publish();
      }, wait);
  };

  return {
    start() {
      if (timer) return;
      opts.bus.on('gatewayStatus', onGatewayStatus);
      timer = setInterval(publish, intervalMs);
      timer.unref();
      publish();
    },
    stop() {
      opts.bus.off('gatewayStatus', onGatewayStatus);
      clearInterval(timer);
      clearTimeout(soon);
      timer = undefined;
      soon = undefined;
    },
    publish,
  };
}
