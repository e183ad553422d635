import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * The alarm engine as a Fastify plugin: builds the engine from the decorators core provides
 * (config, clock, bus, store, sendCommand, devices, metrics), registers the alarm routes and
 * stops the engine in onClose. Skeleton: registers and does nothing yet.
 */
async function alarmsPlugin(_app: FastifyInstance): Promise<void> {}

export default fp(alarmsPlugin, {
  name: 'alarms',
  fastify: '5.x',
  decorators: { fastify: ['config', 'clock', 'bus', 'store', 'sendCommand', 'devices', 'metrics'] },
});
