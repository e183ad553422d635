// gaswatch-gateway --config FILE
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { createGateway, type Gateway } from './gateway.js';
import { createLogger } from './logger.js';
import { createSdNotify } from './sd-notify.js';

const USAGE = 'usage: gaswatch-gateway --config FILE';

/** Collect when the V8 heap has grown this much past what the last collection left... */
const TRIM_STEP_BYTES = 2 << 20;
/** ...checked this often. */
const TRIM_CHECK_MS = 2000;

/**
 * Heap trim (SPEC §8's 60 MB; docs/gateway.md "Memory"). On its own, V8 lets the old generation
 * grow at least 8 MB past the live heap before it collects (its minimum allocation-limit step),
 * and the gateway promotes a steady trickle of short-lived poll objects (~0.12 MB/s), so the RSS
 * climbs ~8 MB in a sawtooth every ~80 s. Run with `node --expose-gc` (as the systemd unit, the
 * Dockerfile and `npm start` do), the gateway instead runs a full collection itself whenever the
 * heap has grown TRIM_STEP_BYTES past the previous floor, checked every TRIM_CHECK_MS: about one
 * collection every ~8 s at 32 detectors, each a pause of ~10–40 ms on x86 (it is logged at debug
 * level). Each costs about the live heap's size in marking, not the garbage's, so the step trades
 * CPU for RSS: 1 MB cost ~0.1 ms of CPU per reading (docs/gateway.md "CPU per reading"). Nothing is limited: unlike a small --max-old-space-size, a heap that really grows (a
 * long outage, more detectors) just raises the floor and can never end in an out-of-memory crash.
 */
function startHeapTrim(log: Logger): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') {
    log.info('heap trim off (node runs without --expose-gc)');
    return () => {};
  }
  let floor = 0;
  const timer = setInterval(() => {
    const before = getHeapStatistics().used_heap_size;
    if (floor > 0 && before < floor + TRIM_STEP_BYTES) return;
    const t0 = performance.now();
    gc();
    floor = getHeapStatistics().used_heap_size;
    log.debug(
      {
        beforeMb: +(before / 2 ** 20).toFixed(2),
        afterMb: +(floor / 2 ** 20).toFixed(2),
        ms: +(performance.now() - t0).toFixed(1),
      },
      'heap trimmed',
    );
  }, TRIM_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** How often STATUS= is refreshed under systemd when the unit has no watchdog. */
const STATUS_EVERY_MS = 15_000;

/**
 * Under systemd (the .deb's unit is Type=notify with WatchdogSec=): READY=1 with the health
 * summary once started, then every half WatchdogSec a WATCHDOG=1 while every poll loop is alive,
 * and STATUS= whenever the summary changed (`systemctl status` shows it: a bus waiting for its
 * adapter, detectors answering, uplink, outbox). A hung or crashed poll loop stops the pings, so
 * systemd restarts the gateway; local alarms are the reason it must never quietly stop polling.
 */
function startSystemdNotify(gateway: Gateway, log: Logger): () => Promise<void> {
  const notify = createSdNotify({ env: process.env, logger: log.child({ part: 'systemd' }) });
  if (!notify.enabled) return async () => {};
  let summary = gateway.health().summary;
  let problem: string | undefined;
  notify.send({ READY: '1', STATUS: summary });
  log.info({ watchdogMs: notify.watchdogMs }, 'told systemd the gateway is ready');
  const timer = setInterval(() => {
    const h = gateway.health();
    const fields: Record<string, string> = {};
    if (h.summary !== summary) fields.STATUS = h.summary;
    summary = h.summary;
    if (h.ok) {
      if (notify.watchdogMs !== undefined) fields.WATCHDOG = '1';
      if (problem) log.info('healthy again; pinging the systemd watchdog');
    } else if (h.problem !== problem)
      log.error(
        { problem: h.problem },
        'unhealthy: no more watchdog pings, systemd will restart the gateway',
      );
    problem = h.problem;
    if (Object.keys(fields).length) notify.send(fields);
  }, notify.watchdogMs ?? STATUS_EVERY_MS);
  return async () => {
    clearInterval(timer);
    notify.send({ STOPPING: '1', STATUS: 'stopping' });
    await notify.flush();
  };
}

async function main(): Promise<number> {
  let values: { config?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.config) {
    process.stderr.write(`missing --config\n${USAGE}\n`);
    return 2;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(values.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 78; // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const stopHeapTrim = startHeapTrim(logger);
  const gateway = createGateway({ config, logger });
  let stopNotify: () => Promise<void> = async () => {};
  closeWithGrace({ delay: 10_000, logger }, async ({ err, signal }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    stopHeapTrim();
    await Promise.all([stopNotify(), gateway.stop()]);
  });
  await gateway.start();
  stopNotify = startSystemdNotify(gateway, logger);
  return 0;
}

main().then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`gaswatch-gateway failed to start: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
    process.exit(1);
  },
);
