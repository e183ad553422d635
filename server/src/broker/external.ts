import { FILTERS } from '@gaswatch/shared';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { BufferFullError } from '../errors.js';
import type { Broker, OnMessage } from './types.js';

export interface ExternalBrokerOptions {
  url: string;
  clientId: string;
  logger: Logger;
  onMessage: OnMessage;
}

/**
 * A client of an external broker (Mosquitto, EMQX) with a persistent session: a fixed client id,
 * clean: false and QoS 1 subscriptions, so the broker queues readings while the server is down.
 * mqtt.js sends the PUBACK of a QoS 1 message only after `handleMessage` calls back; we call back
 * after ingest has the reading in the journal. While the journal is full we hold the callback
 * (back-pressure: the broker keeps the rest queued).
 */
export function createExternalBroker(opts: ExternalBrokerOptions): Broker {
  const log = opts.logger.child({ part: 'broker', broker: 'external', url: opts.url });
  let client: MqttClient | null = null;
  let stopping = false;

  const deliver = (topic: string, payload: Buffer, callback: (err?: Error) => void) => {
    if (stopping) return; // not acknowledged: the broker redelivers to the next session
    opts.onMessage(topic, payload, (err) => {
      if (!err) return callback();
      if (err instanceof BufferFullError) {
        // Back-pressure: hold this message (and so the session) until the store drains the journal.
        setTimeout(() => deliver(topic, payload, callback), 250);
        return;
      }
      // The journal could not be written: not acknowledged; retry in a moment.
      log.error({ err, topic }, 'message not durable; retrying');
      setTimeout(() => deliver(topic, payload, callback), 1_000);
    });
  };

  return {
    kind: 'external',
    url: opts.url,
    async start() {
      stopping = false;
      const c = mqtt.connect(opts.url, {
        clientId: opts.clientId,
        clean: false,
        protocolVersion: 4,
        reconnectPeriod: 1_000,
        connectTimeout: 10_000,
        resubscribe: true,
      });
      client = c;
      c.handleMessage = (packet, callback) => {
        if (packet.cmd !== 'publish') return callback();
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        deliver(packet.topic, payload, callback);
      };
      c.on('connect', (connack) => {
        log.info({ sessionPresent: connack.sessionPresent }, 'connected to broker');
        c.subscribe([...FILTERS.fromGateways], { qos: 1 }, (err) => {
          if (err) log.error({ err }, 'subscribe failed');
        });
      });
      c.on('offline', () => log.warn('broker offline; reconnecting'));
      c.on('error', (err) => log.warn({ err: err.message }, 'broker connection error'));
      // Start even if the broker is not up yet: mqtt.js keeps reconnecting, /readyz says why.
      await Promise.race([
        new Promise<void>((resolve) => c.once('connect', () => resolve())),
        new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref()),
      ]);
    },
    async stop() {
      stopping = true;
      const c = client;
      client = null;
      if (c) await c.endAsync(true);
    },
    connected: () => client?.connected === true,
    async publish(topic, payload, o) {
      if (!client) throw new Error('broker client not started');
      await client.publishAsync(topic, payload, { qos: o.qos, retain: o.retain });
    },
  };
}
