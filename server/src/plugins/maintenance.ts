import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { createMaintenance, type Maintenance } from '../maintenance/service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Detector maintenance: records, fitness for a permit test, the maintenance alarm (maintenance/service.ts). */
    maintenance: Maintenance;
  }
}

/**
 * Detector maintenance (SPEC §11) over the database, the alarm engine, the device registry and
 * the broker's command channel. It listens for the gateways' bump test results from registration
 * on (the broker delivers none before the server is ready) and stops after the broker, waiting
 * for the alarm updates under way.
 */
async function maintenancePlugin(app: FastifyInstance): Promise<void> {
  const service = createMaintenance({
    db: app.db,
    bus: app.bus,
    alarms: app.alarms,
    devices: app.devices,
    sendCommand: app.sendCommand,
    clock: app.clock,
    // buildServer hands Fastify a pino logger (loggerInstance), so its children are pino loggers.
    logger: app.log.child({ plugin: 'maintenance' }) as unknown as Logger,
    timeZone: app.config.timeZone,
    remindDays: app.config.gaswatch.maintenance.remindDays,
  });
  service.start();
  app.decorate('maintenance', service);
  app.addHook('preClose', async () => service.stop());
}

export default fp(maintenancePlugin, {
  name: 'maintenance',
  fastify: '5.x',
  dependencies: ['core', 'db', 'ingest', 'broker', 'alarms'],
});
