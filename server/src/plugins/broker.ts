import { encodePayload, topics } from '@gaswatch/shared';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { createEmbeddedBroker } from '../broker/embedded.js';
import { createExternalBroker } from '../broker/external.js';
import { createGatewayAccess } from '../broker/gateway-access.js';
import { createTimeBeacon } from '../broker/time-beacon.js';
import type { Broker } from '../broker/types.js';
import type { SendCommand } from '../bus.js';
import { isGatewayActive, verifyGateway } from '../db/gateways.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The embedded aedes broker or the client of MQTT_URL's broker. */
    broker: Broker;
    /** Sends a command to a gateway (QoS 1 on gaswatch/v1/{gw}/cmd). */
    sendCommand: SendCommand;
    /** URL gateways connect to (the embedded broker's real port, or MQTT_URL). Known after ready(). */
    readonly mqttUrl: string;
    /** mqtts:// URL of the embedded broker's TLS listener (MQTT_TLS_PORT), else null. Known after ready(). */
    readonly mqttsUrl: string | null;
  }
}

/**
 * MQTT: the embedded broker (MQTT_URL unset) or a persistent session at an external one, every
 * message handed to ingest; command sending; the time beacon for the gateways' clock check. The
 * broker starts once every plugin is ready (nothing arrives before the alarm engine listens) and
 * stops first on close (nothing new is acknowledged while the rest shuts down). On the embedded
 * broker a gateway is only itself (broker/gateway-access.ts): its credentials are checked against
 * the SQL database, and a rotation or revocation (on the bus) ends its live connection.
 */
async function brokerPlugin(app: FastifyInstance): Promise<void> {
  const { config, ingest, db } = app;
  // buildServer hands Fastify a pino logger (loggerInstance), so its children are pino loggers.
  const logger = app.log as unknown as Logger;
  let broker: Broker;
  if (config.mqtt.kind === 'external') {
    broker = createExternalBroker({
      url: config.mqtt.url,
      clientId: config.mqtt.clientId,
      ca: config.mqtt.ca,
      logger,
      onMessage: ingest.handle,
    });
  } else {
    const denied = new Counter({
      name: 'gaswatch_mqtt_denied_total',
      help: "Embedded broker refusals by action: connect (credentials), publish (outside the gateway's own topics; connection closed, nothing stored), subscribe",
      labelNames: ['action'] as const,
      registers: [app.metrics],
    });
    const access = createGatewayAccess({
      check: {
        password: (id, password) => verifyGateway(db, id, password),
        certificate: (id) => isGatewayActive(db, id),
      },
      logger,
      onDenied: (action) => denied.inc({ action }),
      clock: app.clock,
    });
    broker = createEmbeddedBroker({
      host: config.host,
      port: config.mqtt.port,
      tls: config.mqtt.tls,
      logger,
      onMessage: ingest.handle,
      access,
    });
  }
  const onAccessChanged = ({ gw }: { gw: string }) => {
    broker.disconnectGateway(gw);
  };
  const sendCommand: SendCommand = async (gw, cmd) => {
    await broker.publish(topics.cmd(gw), encodePayload('cmd', cmd), { qos: 1, retain: false });
  };
  const timeBeacon = createTimeBeacon({ broker, bus: app.bus, clock: app.clock, logger });

  app.decorate('broker', broker);
  app.decorate('sendCommand', sendCommand);
  app.decorate('mqttUrl', { getter: () => broker.url });
  app.decorate('mqttsUrl', { getter: () => broker.tlsUrl });
  app.bus.on('gatewayAccessChanged', onAccessChanged);
  app.addHook('onReady', async () => {
    await broker.start();
    timeBeacon.start();
  });
  app.addHook('preClose', async () => {
    app.bus.off('gatewayAccessChanged', onAccessChanged);
    timeBeacon.stop();
    await broker.stop();
  });
}

export default fp(brokerPlugin, {
  name: 'broker',
  fastify: '5.x',
  dependencies: ['core', 'db', 'gateways', 'ingest'],
});
