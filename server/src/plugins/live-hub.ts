import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { alarmRow } from '../alarms/detail-schema.js';
import { createLiveHub, type LiveHub, type LiveHubOptions } from '../live/hub.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Fans bus events out to every /api/live socket. */
    liveHub: LiveHub;
  }
}

export type LiveHubPluginOptions = Pick<LiveHubOptions, 'heartbeatMs' | 'maxBufferedBytes' | 'serialize'>;

/**
 * The live hub (live/hub.ts) behind /api/live: built from core's bus and clock and the ingest
 * plugin's device registry, stopped on close (its sockets closed with 1001). An alarm transition
 * carries the alarm's current row, looked up in the engine when it happens.
 */
async function liveHubPlugin(app: FastifyInstance, opts: LiveHubPluginOptions): Promise<void> {
  const hub = createLiveHub({
    bus: app.bus,
    clock: app.clock,
    devices: app.devices,
    alarmRow: (id) => {
      const a = app.alarms.get(id);
      return a === undefined ? undefined : alarmRow(a, app.households.ofDevice);
    },
    areaOf: (subject) => app.auth.areaOf(subject),
    // buildServer hands Fastify a pino logger (loggerInstance), so its children are pino loggers.
    logger: app.log.child({ plugin: 'live-hub' }) as unknown as Logger,
    ...opts,
  });
  app.decorate('liveHub', hub);
  app.addHook('onClose', async () => hub.stop());
}

export default fp(liveHubPlugin, {
  name: 'live-hub',
  fastify: '5.x',
  dependencies: ['core', 'auth', 'ingest', 'alarms'],
});
