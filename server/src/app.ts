import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.js';
import alarms, { type AlarmsPluginOptions } from './plugins/alarms.js';
import auth from './plugins/auth.js';
import broker from './plugins/broker.js';
import core from './plugins/core.js';
import db from './plugins/db.js';
import deviceEvents from './plugins/device-events.js';
import gateways from './plugins/gateways.js';
import households from './plugins/households.js';
import http, { frameworkErrors } from './plugins/http.js';
import ingest from './plugins/ingest.js';
import ledgers, { type LedgersPluginOptions } from './plugins/ledgers.js';
import liveHub from './plugins/live-hub.js';
import maintenance from './plugins/maintenance.js';
import permits, { type PermitsPluginOptions } from './plugins/permits.js';
import store from './plugins/store.js';
import advisoryRoutes from './routes/advisories.js';
import alarmRoutes from './routes/alarms.js';
import areaRoutes from './routes/areas.js';
import auditRoutes from './routes/audit.js';
import consoleRoutes from './routes/console.js';
import devicesRoutes from './routes/devices.js';
import eventsRoutes from './routes/events.js';
import gatewayRoutes from './routes/gateways.js';
import healthRoutes from './routes/health.js';
import householdRoutes from './routes/households.js';
import inspectionRoutes from './routes/inspections.js';
import ledgerRoutes from './routes/ledgers.js';
import liveRoutes from './routes/live.js';
import maintenanceRoutes from './routes/maintenance.js';
import mapRoutes from './routes/map.js';
import notifyRoutes from './routes/notify.js';
import permitRoutes from './routes/permits.js';
import readingsRoutes from './routes/readings.js';
import reportRoutes from './routes/reports.js';
import sessionRoutes from './routes/session.js';
import shiftRoutes from './routes/shifts.js';
import spaceRoutes from './routes/spaces.js';
import tokenRoutes from './routes/tokens.js';
import userRoutes from './routes/users.js';
import type { Store } from './store/types.js';

export interface BuildServerOptions {
  config: ServerConfig;
  logger: Logger;
  clock?: () => number;
  /** Store to use instead of the one the config names (tests, benchmarks). */
  store?: Store;
  /** Timers, channels and sweep period of the alarm engine (tests). */
  alarms?: AlarmsPluginOptions;
  /** How often the ledger schedule checks (tests). */
  ledgers?: LedgersPluginOptions;
  /** How often permits are swept (tests). */
  permits?: PermitsPluginOptions;
}

/**
 * Builds the server: the feature plugins in dependency order, then the routes. docs/server.md
 * draws the picture. Registration opens the store, opens and migrates the SQL database, opens the
 * ingest journal and rebuilds the alarm state; `ready()` starts the broker; `close()` stops the
 * broker first (nothing new is acknowledged), then the alarm engine, then the drainer's last
 * write, then the database, then the store.
 */
export async function buildServer(opts: BuildServerOptions): Promise<FastifyInstance> {
  const { https } = opts.config;
  // With TLS_CERT and TLS_KEY the same server speaks HTTPS (a proxy in front is the other way:
  // docs/security.md). Fastify types an HTTPS instance apart; the app uses nothing of that.
  const app = Fastify({
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors,
    trustProxy: opts.config.trustProxy,
    ...(https === null ? {} : { https: { cert: https.cert, key: https.key } }),
  }) as FastifyInstance;

  await app.register(core, { config: opts.config, clock: opts.clock ?? Date.now });
  await app.register(http);
  await app.register(store, opts.store === undefined ? {} : { store: opts.store });
  await app.register(db);
  await app.register(households);
  await app.register(auth);
  await app.register(gateways);
  await app.register(ingest);
  await app.register(broker);
  await app.register(deviceEvents);
  await app.register(alarms, opts.alarms ?? {});
  await app.register(maintenance);
  await app.register(liveHub);
  await app.register(ledgers, opts.ledgers ?? {});
  await app.register(permits, opts.permits ?? {});

  await app.register(healthRoutes);
  await app.register(sessionRoutes);
  await app.register(userRoutes);
  await app.register(tokenRoutes);
  await app.register(areaRoutes);
  await app.register(householdRoutes);
  await app.register(inspectionRoutes);
  await app.register(advisoryRoutes);
  await app.register(auditRoutes);
  await app.register(devicesRoutes);
  await app.register(maintenanceRoutes);
  await app.register(gatewayRoutes);
  await app.register(eventsRoutes);
  await app.register(readingsRoutes);
  await app.register(alarmRoutes);
  await app.register(shiftRoutes);
  await app.register(reportRoutes);
  await app.register(ledgerRoutes);
  await app.register(spaceRoutes);
  await app.register(permitRoutes);
  await app.register(liveRoutes);
  await app.register(mapRoutes);
  await app.register(notifyRoutes);
  await app.register(consoleRoutes);
  return app;
}
