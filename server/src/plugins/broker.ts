import { encodePayload, topics } from '@gaswatch/shared';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { createEmbeddedBroker } from '../broker/embedded.js';
import { createExternalBroker } from '../broker/external.js';
import { createTimeBeacon } from '../broker/time-beacon.js';
import type { Broker } from '../broker/types.js';
import type { SendCommand } from '../bus.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The embedded aedes broker or the client of MQTT_URL's broker. */
    broker: Broker;
    /** Sends a command to a gateway (QoS 1 on gaswatch/v1/{gw}/cmd). */
    sendCommand: SendCommand;
    /** URL gateways connect to (the embedded broker's real port, or MQTT_URL). Known after ready(). */
    readonly mqttUrl: string;
  }
}

/**
 * MQTT: the embedded broker (MQTT_URL unset) or a persistent session at an external one, every
 * message handed to ingest; command sending; the time beacon for the gateways' clock check. The
 * broker starts once every plugin is ready (nothing arrives before the alarm engine listens) and
 * stops first on close (nothing new is acknowledged while the rest shuts down).
 */
async function brokerPlugin(app: FastifyInstance): Promise<void> {
  const { config, ingest } = app;
  // buildServer hands Fastify a pino logger (loggerInstance), so its children are pino loggers.
  const logger = app.log as unknown as Logger;
  const broker: Broker =
    config.mqtt.kind === 'external'
      ? createExternalBroker({
          url: config.mqtt.url,
          clientId: config.mqtt.clientId,
          logger,
          onMessage: ingest.handle,
        })
      : createEmbeddedBroker({ host: config.host, port: config.mqtt.port, logger, onMessage: ingest.handle });
  const sendCommand: SendCommand = async (gw, cmd) => {
    await broker.publish(topics.cmd(gw), encodePayload('cmd', cmd), { qos: 1, retain: false });
  };
  const timeBeacon = createTimeBeacon({ broker, bus: app.bus, clock: app.clock, logger });

  app.decorate('broker', broker);
  app.decorate('sendCommand', sendCommand);
  app.decorate('mqttUrl', { getter: () => broker.url });
  app.addHook('onReady', async () => {
    await broker.start();
    timeBeacon.start();
  });
  app.addHook('preClose', async () => {
    timeBeacon.stop();
    await broker.stop();
  });
}

export default fp(brokerPlugin, { name: 'broker', fastify: '5.x', dependencies: ['core', 'ingest'] });
