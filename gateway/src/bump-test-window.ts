/**
 * The gateway-side bump-test window that the `bump_test` command opens (commands/bump-test.ts
 * decides whether, and against which levels). For `windowMs` the device's readings carry
 * `status: "bump_test"` (a detector-reported fault still wins), so the server does not escalate
 * test gas as an emergency. Local alarms and outputs are never touched: gas during a test window
 * may be real gas. The test passes as soon as every channel with an alarm level has reached it
 * (O2: fallen below its low set point) inside the window, and fails when the window ends first. No shipped profile has a register or coil that starts the detector's own bump test,
 * so the window is opened by the gateway alone; the person at the detector applies the test gas.
 */
import type { DeviceEvent, GasId, ReadingStatus } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Sample } from './sample.js';

/** The level one channel must reach in a bump test. */
export interface BumpLevel {
  gas: GasId;
  /** `>=`: the reading must rise to `level`; `<`: fall below it (oxygen depletion). */
  op: '>=' | '<';
  level: number;
  unit: string;
}

export interface BumpTestOptions {
  deviceId: string;
  levels: BumpLevel[];
  windowMs: number;
  clock: Clock;
  logger: Logger;
  /** Publishes a DeviceEvent (through the outbox). */
  emit(event: Omit<DeviceEvent, 'v'>): void;
  /** Called once when the window is over (or cancelled). */
  onEnd(): void;
}

export interface BumpTest {
  readonly startedAt: number;
  readonly endsAt: number;
  /** Looks at one sample of the device; returns the status its reading must carry. */
  onSample(sample: Sample): ReadingStatus;
  /** Ends the window without a verdict (device removed, gateway stopping). */
  cancel(reason: string): void;
}

const fmt = (n: number) => String(Math.round(n * 100) / 100);

export function createBumpTest(opts: BumpTestOptions): BumpTest {
  const { clock, levels, logger: log } = opts;
  const startedAt = clock.now();
  const endsAt = startedAt + opts.windowMs;
  const iso = (ms: number) => new Date(ms).toISOString();
  /** Per gas: the most extreme value seen in the window in the test's direction. */
  const peak = new Map<GasId, number>();
  const reached = new Set<GasId>();
  let verdict: 'pass' | 'fail' | 'cancelled' | undefined;

  const describeLevel = (l: BumpLevel) => `${l.gas} ${l.op === '<' ? '<' : '≥'} ${fmt(l.level)} ${l.unit}`;
  const describePeak = (l: BumpLevel) => {
    const p = peak.get(l.gas);
    return `${l.gas} ${l.op === '<' ? 'lowest' : 'peak'} ${p === undefined ? 'no reading' : `${fmt(p)} ${l.unit}`}`;
  };

  opts.emit({
    ts: iso(startedAt),
    type: 'bump_test',
    result: 'started',
    severity: 'info',
    message: `bump test window open for ${fmt(opts.windowMs / 1000)} s; pass at ${levels.map(describeLevel).join(', ')}`,
  });
  log.info({ windowS: opts.windowMs / 1000, levels }, 'bump test started');

  const timer = clock.setTimeout(() => {
    if (verdict === 'cancelled') return;
    if (verdict === 'pass') {
      log.info('bump test window closed');
      opts.onEnd();
      return;
    }
    const missing = levels.filter((l) => !reached.has(l.gas));
    verdict = 'fail';
    const first = missing[0];
    const message = `bump test failed: ${missing.map((l) => `${describePeak(l)}, needs ${describeLevel(l)}`).join('; ')} within ${fmt(opts.windowMs / 1000)} s`;
    log.warn({ missing: missing.map((l) => l.gas), peak: Object.fromEntries(peak) }, message);
    opts.emit({
      ts: iso(clock.now()),
      type: 'bump_test',
      result: 'fail',
      severity: 'warning',
      ...(first ? { gas: first.gas } : {}),
      ...(first && peak.has(first.gas) ? { value: peak.get(first.gas) } : {}),
      message: message.slice(0, 512),
    });
    opts.onEnd();
  }, opts.windowMs);

  return {
    startedAt,
    endsAt,
    onSample(sample) {
      if (sample.ts < startedAt || sample.ts > endsAt || verdict === 'cancelled') return sample.status;
      if (!verdict) {
        for (const l of levels) {
          const v = sample.values[l.gas];
          if (v === undefined || sample.quality?.[l.gas] === 'bad') continue;
          const p = peak.get(l.gas);
          if (p === undefined || (l.op === '<' ? v < p : v > p)) peak.set(l.gas, v);
          if (l.op === '<' ? v < l.level : v >= l.level) reached.add(l.gas);
        }
        if (levels.every((l) => reached.has(l.gas))) {
          verdict = 'pass';
          const first = levels[0];
          const message = `bump test passed after ${fmt((sample.ts - startedAt) / 1000)} s: ${levels.map(describePeak).join(', ')}`;
          log.info({ peak: Object.fromEntries(peak) }, message);
          opts.emit({
            ts: iso(sample.ts),
            type: 'bump_test',
            result: 'pass',
            severity: 'info',
            ...(first ? { gas: first.gas, value: peak.get(first.gas) } : {}),
            message: message.slice(0, 512),
          });
          // The window stays open to its end: the test gas takes a while to clear.
        }
      }
      // A fault the detector reports is never hidden behind the test window.
      return sample.status === 'fault' ? 'fault' : 'bump_test';
    },
    cancel(reason) {
      if (verdict === 'cancelled') return;
      const hadVerdict = verdict !== undefined;
      verdict = 'cancelled';
      clock.clearTimeout(timer);
      if (!hadVerdict) log.info({ reason }, 'bump test cancelled');
      opts.onEnd();
    },
  };
}
