import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createGatewayService, type GatewayService } from '../gateways/service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Gateway MQTT credentials: provision, rotate, revoke, list, get (gateways/service.ts). Each
     * change writes its audit row; rotate and revoke cut the gateway's live embedded-broker connection.
     */
    gateways: GatewayService;
  }
}

/**
 * The gateway credential service over the SQL database. Rotations and revocations are announced
 * on the bus (`gatewayAccessChanged`), where the broker plugin listens: the service needs no
 * broker, so the CLI uses the same service without one.
 */
async function gatewaysPlugin(app: FastifyInstance): Promise<void> {
  app.decorate(
    'gateways',
    createGatewayService({
      db: app.db,
      clock: app.clock,
      onAccessChanged: (gw) => app.bus.emit('gatewayAccessChanged', { gw }),
    }),
  );
}

export default fp(gatewaysPlugin, { name: 'gateways', fastify: '5.x', dependencies: ['core', 'db'] });
