import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { createLedgerService, type LedgerService } from '../reports/ledger-service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Weekly ledgers: made on request and on the schedule (reports/ledger-service.ts). */
    ledgers: LedgerService;
  }
}

export interface LedgersPluginOptions {
  /** How often the schedule looks whether a run is due, ms (tests make it short). */
  checkMs?: number;
}

/**
 * The weekly ledger (SPEC §10): the service over the database, the alarm engine and the device
 * registry. The schedule starts once the server is ready (so a run missed while it was down is
 * made at once, with every alarm loaded) and stops before anything closes, waiting for a run in
 * progress.
 */
async function ledgersPlugin(app: FastifyInstance, opts: LedgersPluginOptions): Promise<void> {
  const service = createLedgerService({
    db: app.db,
    alarms: app.alarms,
    areaOf: (s) => app.auth.areaOf(s),
    homes: app.households,
    devices: app.devices,
    config: app.config.gaswatch.ledger,
    timeZone: app.config.timeZone,
    clock: app.clock,
    // buildServer hands Fastify a pino logger (loggerInstance), so its children are pino loggers.
    logger: app.log.child({ plugin: 'ledgers' }) as unknown as Logger,
    ...(opts.checkMs === undefined ? {} : { checkMs: opts.checkMs }),
  });
  app.decorate('ledgers', service);
  app.addHook('onReady', async () => service.start());
  app.addHook('preClose', async () => service.stop());
}

export default fp(ledgersPlugin, {
  name: 'ledgers',
  fastify: '5.x',
  dependencies: ['core', 'db', 'auth', 'households', 'ingest', 'alarms'],
});
