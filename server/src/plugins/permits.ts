import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { createPermitService, type PermitService } from '../permits/service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Confined-space entry and hot-work permits (permits/service.ts). */
    permits: PermitService;
  }
}

export interface PermitsPluginOptions {
  /** How often validity and the watching detectors are swept, ms (tests make it long and sweep by hand). */
  sweepMs?: number;
}

/**
 * Permits (SPEC §7): the service over the database, the device registry, the alarm engine and
 * detector maintenance (a test's detector must be fit).
 * The watch over work in progress starts at registration, before the broker (so no reading of a
 * watched detector passes unseen), and stops before anything closes, finishing what it queued.
 */
async function permitsPlugin(app: FastifyInstance, opts: PermitsPluginOptions): Promise<void> {
  const service = createPermitService({
    db: app.db,
    bus: app.bus,
    clock: app.clock,
    // buildServer hands Fastify a pino logger (loggerInstance), so its children are pino loggers.
    logger: app.log.child({ plugin: 'permits' }) as unknown as Logger,
    config: app.config.gaswatch,
    timeZone: app.config.timeZone,
    devices: app.devices,
    alarms: app.alarms,
    auth: app.auth,
    fitness: (device) => app.maintenance.fitness(device),
    sendCommand: app.sendCommand,
    notify: app.alarms.notify,
    ...(opts.sweepMs === undefined ? {} : { sweepMs: opts.sweepMs }),
  });
  await service.start();
  app.decorate('permits', service);
  app.addHook('preClose', async () => service.stop());
}

export default fp(permitsPlugin, {
  name: 'permits',
  fastify: '5.x',
  dependencies: ['core', 'db', 'auth', 'ingest', 'broker', 'alarms', 'maintenance'],
});
