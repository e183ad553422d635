import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type {} from '../alarms/plugin.js';
import { createLiveHub, type LiveHub, type LiveHubOptions } from '../live/hub.js';
import '../types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Fans bus events out to every /api/live socket. */
    liveHub: LiveHub;
  }
}

export type LiveHubPluginOptions = Pick<LiveHubOptions, 'heartbeatMs' | 'maxBufferedBytes' | 'serialize'>;

/**
 * The live hub as a Fastify plugin: built from core's bus, clock and device registry, stopped on
 * close. An alarm's row is looked up in the alarm engine when the transition happens, so this
 * plugin does not have to be registered after the alarms plugin.
 */
async function liveHubPlugin(app: FastifyInstance, opts: LiveHubPluginOptions): Promise<void> {
  const hub = createLiveHub({
    bus: app.bus,
    clock: app.clock,
    devices: app.devices,
    alarmRow: (id) => (app.hasDecorator('alarms') ? app.alarms.get(id) : undefined),
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
  decorators: { fastify: ['bus', 'clock', 'devices'] },
});
