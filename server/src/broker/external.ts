import { format } from 'node:util';
import { FILTERS } from '@gaswatch/shared';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { BufferFullError } from '../errors.js';
import type { Broker, OnMessage } from './types.js';

export interface ExternalBrokerOptions {
  url: string;
  clientId: string;
  /** MQTT_CA: the CA that issued the broker's certificate (mqtts://, wss://); null: the system's. */
  ca: Buffer | null;
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
const noop = () => {};

/**
 * MQTT_URL without its user and password: what logs, the `listening` line and /readyz show (the
 * server's broker password must not reach a log or an unauthenticated HTTP answer).
 */
export function publicBrokerUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

export function createExternalBroker(opts: ExternalBrokerOptions): Broker {
  const shownUrl = publicBrokerUrl(opts.url);
  const log = opts.logger.child({ part: 'broker', broker: 'external', url: shownUrl });
  let client: MqttClient | null = null;
  let stopping = false;

  // Pipelining. mqtt.js handles received packets one at a time and sends a QoS 1 PUBACK once
  // handleMessage calls back. Calling back only after the journal write would make every message
  // wait for its own write(2). Instead handleMessage calls back at once, and the PUBACK that
  // mqtt.js then sends is held here (by messageId) until ingest reports the reading durable; all
  // messages of one socket read share one journal write. The broker never has more unacknowledged
  // messages in flight to us than its inflight window, so the held set is bounded.
  type Packet = { cmd: string; messageId?: number };
  type SendPacket = (packet: Packet, cb?: () => void, ...rest: unknown[]) => void;
  /**
   * One received message on its way to the journal. A plain object, not closures: this runs for
   * every message (named closures also cost a `__name` call each under tsx).
   */
  interface Delivery {
    topic: string;
    payload: Buffer;
    /** The message id whose PUBACK is held; undefined on the serial fallback. */
    id: number | undefined;
    durable: boolean;
    /** mqtt.js asked to send the PUBACK (we write it once this and the earlier ones are durable). */
    pubackAsked: boolean;
    generation: number;
    /** Ingest answers later than the tick it got the message (the device's store lookup). */
    later: boolean;
    /** mqtt.js has been told to go on with the next packet. */
    continued: boolean;
    callback: () => void;
  }
  const held = new Map<number, Delivery>();
  let generation = 0;
  /** mqtt.js's PUBACKs pass through our hook (its internals are as expected): pipelining is on. */
  let intercepting = false;

  /** Pipelined deliveries of this connection in receive order, until their PUBACK is released. */
  let inOrder: Delivery[] = [];
  let orderHead = 0;

  // PUBACKs go out in the order the PUBLISHes came (MQTT-4.6.0-2): the head of `inOrder` is
  // released while it is durable and mqtt.js has asked for its PUBACK. What a group commit
  // releases is written by hand as one buffer at the end of the microtask checkpoint: through
  // mqtt.js each PUBACK cost a `_sendPacket`, a `packetsend` event, mqtt-packet's `debug` calls
  // and two stream writes. MQTT 3.1.1 (protocolVersion 4 below): 0x40, length 2, id big-endian.
  let releasedIds: number[] = [];
  let releaseQueued = false;
  const writeReleased = () => {
    releaseQueued = false;
    const ids = releasedIds;
    releasedIds = [];
    const stream = client?.connected ? client.stream : null;
    if (!stream || ids.length === 0) return;
    const buf = Buffer.allocUnsafe(ids.length * 4);
    for (let i = 0, o = 0; i < ids.length; i++, o += 4) {
      const id = ids[i] as number;
      buf[o] = 0x40;
      buf[o + 1] = 2;
      buf[o + 2] = id >> 8;
      buf[o + 3] = id & 0xff;
    }
    stream.write(buf);
  };

  const release = () => {
    const before = releasedIds.length;
    while (orderHead < inOrder.length) {
      const d = inOrder[orderHead] as Delivery;
      if (!d.durable || !d.pubackAsked) break;
      orderHead++;
      if (held.get(d.id as number) === d) held.delete(d.id as number);
      releasedIds.push(d.id as number);
    }
    if (orderHead > 1_024 && orderHead * 2 > inOrder.length) {
      inOrder = inOrder.slice(orderHead);
      orderHead = 0;
    }
    if (releasedIds.length > before && !releaseQueued) {
      releaseQueued = true;
      queueMicrotask(writeReleased);
    }
  };

  const onDurable = (d: Delivery) => {
    if (d.id === undefined) return d.callback(); // serial fallback: mqtt.js sends the PUBACK now
    d.durable = true;
    // A delivery of a closed connection has no PUBACK to send: the broker redelivers it.
    if (d.generation === generation) release();
    if (d.later && !d.continued) {
      d.continued = true;
      d.callback();
    }
  };

  const settle = (d: Delivery, err: Error | null) => {
    if (!err) return onDurable(d);
    if (err instanceof BufferFullError) {
      // Back-pressure: the PUBACK stays held; the broker stops sending once its window is full.
      setTimeout(() => deliver(d), 250);
      return;
    }
    // The journal could not be written: not acknowledged; retry in a moment.
    log.error({ err, topic: d.topic }, 'message not durable; retrying');
    setTimeout(() => deliver(d), 1_000);
  };

  /** Returns true when the outcome comes later than this tick (see OnMessage). */
  const deliver = (d: Delivery): boolean => {
    if (stopping) return true; // never acknowledged: the broker redelivers to the next session
    return opts.onMessage(d.topic, d.payload, (err) => settle(d, err));
  };

  return {
    kind: 'external',
    url: shownUrl,
    tlsUrl: null,
    async start() {
      stopping = false;
      const c = mqtt.connect(opts.url, {
        clientId: opts.clientId,
        ...(opts.ca ? { ca: opts.ca } : {}),
        clean: false,
        protocolVersion: 4,
        reconnectPeriod: 1_000,
        connectTimeout: 10_000,
        resubscribe: true,
        // mqtt.js logs ~15 debug lines per message through the `debug` package; even disabled,
        // that cost ~4 % of the server's CPU under load. Its lines go to pino at trace level.
        log: log.isLevelEnabled('trace')
          ? (...args: unknown[]) => log.trace({ mqttjs: true }, format(...args))
          : noop,
      });
      client = c;
      const internals = c as unknown as { _sendPacket?: SendPacket };
      const original = internals._sendPacket;
      if (typeof original === 'function') {
        const send = original.bind(c) as SendPacket;
        intercepting = true;
        internals._sendPacket = (packet, cb, ...rest) => {
          if (packet.cmd === 'puback' && packet.messageId !== undefined) {
            const entry = held.get(packet.messageId);
            if (entry) {
              entry.pubackAsked = true;
              cb?.(); // let mqtt.js go on with the next packet; the PUBACK waits for the journal
              release();
              return;
            }
          }
          send(packet, cb, ...rest);
        };
      }
      c.handleMessage = (packet, callback) => {
        if (packet.cmd !== 'publish') return callback();
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        const pipelined = intercepting && packet.qos === 1 && packet.messageId !== undefined;
        const d: Delivery = {
          topic: packet.topic,
          payload,
          id: pipelined ? packet.messageId : undefined,
          durable: false,
          pubackAsked: false,
          generation,
          later: false,
          continued: false,
          callback,
        };
        // Serial fallback: call back (and so PUBACK) only once durable.
        if (d.id === undefined) return void deliver(d);
        held.set(d.id, d);
        inOrder.push(d);
        d.later = deliver(d);
        // Normally go on at once (the PUBACK waits in `held`). When this reading waits for a
        // store lookup, stop the pipeline until it is done: a long pause with many held PUBACKs
        // made Mosquitto deliver some messages out of order (seen in test/order… with InfluxDB).
        if (!d.later || d.durable) {
          d.continued = true;
          callback();
        }
      };
      c.on('close', () => {
        // PUBACKs held for a closed connection are void: the broker redelivers those messages.
        generation++;
        held.clear();
        releasedIds = [];
        inOrder = [];
        orderHead = 0;
      });
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
    disconnectGateway: () => 0,
  };
}
