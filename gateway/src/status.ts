/**
 * The gateway's retained status heartbeat (`GatewayStatus`, online): version, uptime, outbox depth
 * and drops, clock skew, which buses have their port open. Published on connect, every `uplink.statusIntervalS` and when the clock
 * becomes suspect; only while connected, so mqtt.js queues nothing in memory through an outage.
 * A growing drop count is logged as a warning even while offline.
 */
import type { GatewayStatus } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { ClockCheck } from './clock-check.js';
import type { Outbox } from './outbox.js';
import type { Uplink } from './uplink.js';
import { VERSION } from './version.js';

export type OnlineStatus = Extract<GatewayStatus, { online: true }>;

export interface StatusHeartbeat {
  /** The status as of now. */
  current(): OnlineStatus;
  /** Publishes the status now (when connected). */
  publish(): void;
  start(): void;
  stop(): void;
}

export function createStatusHeartbeat(opts: {
  intervalS: number;
  clock: Clock;
  outbox: Outbox;
  uplink: Uplink;
  clockCheck: Pick<ClockCheck, 'skewS' | 'suspect'>;
  /** Each bus and whether its port is open (a serial adapter unplugged shows as open: false). */
  buses?: () => { id: string; open: boolean }[];
  logger: Logger;
}): StatusHeartbeat {
  const { clock, outbox, uplink, clockCheck, logger: log } = opts;
  const startedAt = clock.now();
  let timer: NodeJS.Timeout | undefined;
  let lastDroppedLogged = 0;

  function current(): OnlineStatus {
    const s: OnlineStatus = {
      v: 1,
      online: true,
      ts: new Date(clock.now()).toISOString(),
      version: VERSION,
      uptimeS: Math.max(0, Math.round((clock.now() - startedAt) / 1000)),
      outboxDepth: outbox.depth,
      outboxDropped: outbox.dropped,
    };
    const skew = clockCheck.skewS;
    if (skew !== undefined) {
      s.clockSkewS = Math.round(skew * 1000) / 1000;
      s.clockSuspect = clockCheck.suspect;
    }
    const buses = opts.buses?.();
    if (buses?.length) s.buses = buses;
    return s;
  }

  function publish(): void {
    if (outbox.dropped > lastDroppedLogged) {
      log.warn({ outboxDropped: outbox.dropped }, 'outbox has dropped readings');
      lastDroppedLogged = outbox.dropped;
    }
    if (!uplink.connected) return;
    uplink
      .publish('status', current())
      .catch((err: Error) => log.debug({ err: err.message }, 'status publish failed'));
  }

  return {
    current,
    publish,
    start() {
      timer = setInterval(publish, opts.intervalS * 1000);
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
