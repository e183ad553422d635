/**
 * Clock sanity: a Pi has no real-time clock, and readings carry the gateway's time. The gateway
 * compares its clock with a reference (the time the server publishes on `clock.referenceTopic`,
 * and/or the `Date` header of `clock.referenceUrl`, checked every 5 min) and reports the skew in
 * its status; becoming suspect (|skew| > `clock.maxSkewS`) or recovering is logged and reported
 * at once.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { GatewayConfig } from './config.js';
import type { Uplink } from './uplink.js';

const URL_CHECK_MS = 300_000;

export interface ClockCheck {
  /** Listens on the reference topic (call before the uplink starts) and checks the URL. */
  start(): void;
  stop(): void;
  /** Gateway clock minus the reference, in seconds; undefined before the first reference. */
  readonly skewS: number | undefined;
  /** |skew| is beyond `clock.maxSkewS`. */
  readonly suspect: boolean;
}

export function createClockCheck(opts: {
  config: GatewayConfig['clock'];
  clock: Clock;
  uplink: Uplink;
  logger: Logger;
  /** The skew became suspect or agrees again: the status should say so now. */
  onSuspectChange(): void;
}): ClockCheck {
  const { config, clock, uplink, logger: log } = opts;
  let skewS: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const isSuspect = (s: number | undefined) => s !== undefined && Math.abs(s) > config.maxSkewS;

  function noteReference(refMs: number, source: string): void {
    if (!Number.isFinite(refMs)) return;
    const skew = (clock.now() - refMs) / 1000;
    const suspect = isSuspect(skew);
    const wasSuspect = isSuspect(skewS);
    skewS = skew;
    if (suspect && !wasSuspect)
      log.error(
        { clockSkewS: skew, source, maxSkewS: config.maxSkewS },
        'gateway clock is far from the reference time; readings carry this clock',
      );
    else if (!suspect && wasSuspect)
      log.info({ clockSkewS: skew, source }, 'gateway clock agrees with the reference again');
    if (suspect !== wasSuspect) opts.onSuspectChange();
  }

  async function checkReferenceUrl(): Promise<void> {
    const url = config.referenceUrl;
    if (!url) return;
    try {
      const t0 = clock.now();
      const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
      const date = res.headers.get('date');
      if (date) noteReference(Date.parse(date) + (clock.now() - t0) / 2, url);
    } catch (err) {
      log.debug({ err: (err as Error).message, url }, 'clock reference unavailable');
    }
  }

  /** The payload is epoch ms or an ISO 8601 time, bare or as a JSON string. */
  const onMessage = (topic: string, payload: Buffer) => {
    if (topic !== config.referenceTopic) return;
    const text = payload.toString('utf8').trim();
    const n = Number(text);
    noteReference(Number.isFinite(n) && text !== '' ? n : Date.parse(text.replace(/^"|"$/g, '')), topic);
  };

  return {
    get skewS() {
      return skewS;
    },
    get suspect() {
      return isSuspect(skewS);
    },
    start() {
      uplink.on('message', onMessage);
      if (config.referenceTopic) uplink.subscribe(config.referenceTopic);
      if (config.referenceUrl) {
        void checkReferenceUrl();
        timer = setInterval(() => void checkReferenceUrl(), URL_CHECK_MS);
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      uplink.off('message', onMessage);
    },
  };
}
