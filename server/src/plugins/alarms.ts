import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { type AlarmEngine, createAlarmEngine } from '../alarms/engine.js';
import { sqlAlarmRecords } from '../db/alarm-records.js';
import { importLegacyAlarmEvents } from '../db/legacy-import.js';
import { sqlNotificationStore } from '../db/notifications.js';
import type { Timers } from '../timers.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The alarm engine (lifecycle, escalation, acknowledgement). */
    alarms: AlarmEngine;
  }
}

export interface AlarmsPluginOptions {
  /** Timers for escalation and offline sweeps (tests pass simulated ones). */
  timers?: Timers;
  /** Offline sweep period, ms (default 1000). */
  offlineSweepMs?: number;
}

/**
 * The alarm engine (docs/alarm-engine.md): built from the other plugins' decorators, its events
 * in SQL (app.db), started at registration (store and database are open; the broker starts only
 * once everything is ready), stopped in preClose after the broker, while both are still open.
 */
async function alarmsPlugin(app: FastifyInstance, opts: AlarmsPluginOptions): Promise<void> {
  // buildServer hands Fastify a pino logger (loggerInstance), so its children are pino loggers.
  const logger = app.log.child({ plugin: 'alarms' }) as unknown as Logger;
  const engine = createAlarmEngine({
    store: app.store,
    records: sqlAlarmRecords(app.db),
    // Until this has run once, the events of before SQL are only in the time-series store: the
    // engine is not ready (alarms_loading) while they cannot be read, never empty-handed.
    beforeLoad: async () => {
      await importLegacyAlarmEvents({ db: app.db, store: app.store, logger, clock: app.clock });
    },
    bus: app.bus,
    sendCommand: app.sendCommand,
    config: app.config.gaswatch,
    clock: app.clock,
    logger,
    metrics: app.metrics,
    devices: app.devices,
    vulnerableOf: (dev) => app.households.ofDevice(dev)?.vulnerable ?? [],
    homeOf: (dev) => app.households.homeOf(dev),
    ...(process.env.BENCH_NO_RECORDS ? {} : { notifications: sqlNotificationStore(app.db) }),
    areaOf: (a) => app.auth.areaOf(a),
    deviceArea: (gw, dev, site) => app.auth.areaOf({ gw, dev, site }),
    gatewayArea: (gw) => app.auth.areaOf({ gw, dev: null }),
    areas: app.auth.areas,
    timeZone: app.config.timeZone,
    ...(opts.timers === undefined ? {} : { timers: opts.timers }),
    ...(opts.offlineSweepMs === undefined ? {} : { offlineSweepMs: opts.offlineSweepMs }),
  });
  await engine.start();
  app.decorate('alarms', engine);
  app.addHook('preClose', async () => {
    await engine.stop();
  });
}

export default fp(alarmsPlugin, {
  name: 'alarms',
  fastify: '5.x',
  dependencies: ['core', 'store', 'db', 'households', 'auth', 'ingest', 'broker'],
});
