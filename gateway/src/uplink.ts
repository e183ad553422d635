/**
 * The MQTT connection (mqtt.js 5): retained will `{"v":1,"online":false}`, typed publishing through
 * the shared topic map, and the subscriptions (commands, the clock reference).
 *
 * Callers name a kind and a payload (and the device, for per-device kinds); the topic, QoS and
 * retain flag come from `TOPICS` and this gateway's id, so no caller can publish a retained reading
 * or a state to the wrong gateway's topic.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import {
  encodePayload,
  type PayloadOf,
  TOPICS,
  type TopicAddress,
  type TopicKind,
  topicFor,
  topics,
} from '@gaswatch/shared';
import mqtt, { type IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { type GatewayConfig, readPasswordFile } from './config.js';
import { GatewayError } from './errors.js';

/** What the gateway publishes (commands come the other way). */
export type OutgoingKind = Exclude<TopicKind, 'cmd'>;

/** Kinds whose topic names a device. */
export type DeviceTopicKind = Extract<TopicAddress, { dev: string }>['kind'];

/** The device a per-device kind is about; gateway-wide kinds (status, cmdResult) take none. */
export type AddressArgs<K extends OutgoingKind> = K extends DeviceTopicKind ? [to: { dev: string }] : [];

/** A message encoded now and sent later through the outbox (readings and events). */
export interface QueuedMessage {
  kind: 'reading' | 'event';
  topic: string;
  /** JSON that passed the kind's schema when it was encoded. */
  payload: string;
}

export interface UplinkEvents {
  connect: [];
  offline: [];
  /** A message on the command topic, not parsed yet (commands/index.ts parses and answers it). */
  command: [Buffer];
  /** A message on another subscribed topic (e.g. the clock reference). */
  message: [string, Buffer];
}

export interface Uplink extends EventEmitter<UplinkEvents> {
  start(): void;
  /** Publishes a retained offline status when connected, then disconnects. */
  stop(): Promise<void>;
  readonly connected: boolean;
  /**
   * Publishes a payload checked against its kind's schema; resolves on PUBACK (QoS 1). A payload
   * that fails its schema is logged with the fields named and rejected, never thrown.
   */
  publish<K extends OutgoingKind>(kind: K, payload: PayloadOf<K>, ...to: AddressArgs<K>): Promise<void>;
  /**
   * Encodes a reading or event for the outbox, which stores it and hands it to `send` later.
   * Throws when the payload fails its schema (the caller stores nothing).
   */
  encode<K extends QueuedMessage['kind']>(kind: K, payload: PayloadOf<K>, to: { dev: string }): QueuedMessage;
  /**
   * Sends what the outbox stored (see `encode`), with its kind's QoS and retain flag, to the topic
   * it was encoded for; resolves on PUBACK.
   */
  send(message: QueuedMessage): Promise<void>;
  /** `send` with a callback, called once with the PUBACK or the error (no promise per message). */
  sendWith(message: QueuedMessage, done: (err?: Error) => void): void;
  subscribe(topic: string): void;
  waitConnected(timeoutMs: number): Promise<boolean>;
  /**
   * Publishes outside gaswatch's topic tree (Home Assistant discovery configs), QoS 1; no schema
   * here: the caller owns that contract. Resolves on PUBACK.
   */
  publishForeign(topic: string, payload: string, opts: { retain: boolean }): Promise<void>;
}

/**
 * mqtt.connect() loads the stream builders of every transport on the first connect: `tls`, and `ws`
 * with `http`, `https`, `zlib` and `crypto`, about 2 MB of RSS the gateway does not need with a plain
 * `mqtt://` broker (SPEC §8). For `mqtt://`/`tcp://` (and no client certificate, which mqtt.js
 * would turn into `mqtts`) the client gets a TCP stream builder here, doing what mqtt.js' own `tcp`
 * builder does (URL host and port, default 1883; user and password from the URL win, as in
 * mqtt.connect); every other URL goes through mqtt.connect unchanged.
 */
function connectMqtt(url: string, options: IClientOptions): MqttClient {
  const parsed = new URL(url);
  if ((parsed.protocol !== 'mqtt:' && parsed.protocol !== 'tcp:') || (options.cert && options.key))
    return mqtt.connect(url, options);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = parsed.port ? Number(parsed.port) : 1883;
  const client = new MqttClient(() => createConnection({ host, port }), {
    ...options,
    protocol: 'mqtt',
    host,
    hostname: host,
    port,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  });
  client.on('error', () => {}); // as mqtt.connect: errors are also reported through 'error' listeners below
  return client;
}

const QUEUED_OPTIONS = {
  reading: { qos: TOPICS.reading.qos, retain: TOPICS.reading.retain },
  event: { qos: TOPICS.event.qos, retain: TOPICS.event.retain },
} as const;

export function createUplink(opts: { config: GatewayConfig; logger: Logger }): Uplink {
  const { config, logger: log } = opts;
  const gw = config.gatewayId;
  const u = config.uplink;
  const emitter = new EventEmitter<UplinkEvents>();
  const extraTopics = new Set<string>();
  let client: MqttClient | undefined;
  let wasConnected = false;

  const options: IClientOptions = {
    clientId: u.clientId ?? `gaswatch-gw-${gw}`,
    clean: true,
    keepalive: u.keepaliveS,
    reconnectPeriod: u.reconnectMs,
    // mqtt-packet's number cache pre-builds 65 536 two-byte Buffers on the first publish: 6.3 MB
    // of V8 heap (a third of the gateway's) to save one 2-byte allocation per packet id.
    writeCache: false,
    connectTimeout: 10_000,
    queueQoSZero: false,
    will: {
      topic: topics.status(gw),
      payload: encodePayload('status', { v: 1, online: false }),
      qos: TOPICS.status.qos,
      retain: TOPICS.status.retain,
    },
    ...(u.username !== undefined ? { username: u.username } : {}),
    ...(u.password !== undefined ? { password: u.password } : {}),
    ...(u.passwordFile !== undefined ? { password: readPasswordFile(u.passwordFile) } : {}),
    ...(u.ca ? { ca: readFileSync(u.ca) } : {}),
    ...(u.cert ? { cert: readFileSync(u.cert) } : {}),
    ...(u.key ? { key: readFileSync(u.key) } : {}),
  };

  function addressOf(kind: OutgoingKind, to: { dev: string } | undefined): TopicAddress {
    if (kind === 'reading' || kind === 'state' || kind === 'event') {
      if (!to) throw new GatewayError('no_device_for_topic', `a ${kind} needs the device it is about`);
      return { kind, gw, dev: to.dev };
    }
    return { kind, gw };
  }

  function deliver(kind: OutgoingKind, topic: string, payload: string | Buffer): Promise<void> {
    const { qos, retain } = TOPICS[kind];
    return new Promise((resolve, reject) => {
      if (!client) return reject(new GatewayError('uplink_not_started', 'uplink not started'));
      client.publish(topic, payload, { qos, retain }, (err) => (err ? reject(err) : resolve()));
    });
  }

  function publish<K extends OutgoingKind>(kind: K, payload: PayloadOf<K>, ...to: AddressArgs<K>) {
    // Called from timers and event handlers: a payload that fails its schema (a bug) is logged
    // and rejected, never thrown, so it cannot take the gateway and its local alarms down.
    let topic: string | undefined;
    let encoded: Buffer;
    try {
      topic = topicFor(addressOf(kind, to[0]));
      encoded = encodePayload(kind, payload);
    } catch (err) {
      const issues =
        err instanceof ZodError ? err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) : [];
      log.error({ kind, topic, issues, err }, 'payload fails its schema; not published');
      const why = issues.join('; ') || String(err);
      return Promise.reject(
        new GatewayError('bad_payload', `${kind} payload fails its schema: ${why}`, { cause: err }),
      );
    }
    return deliver(kind, topic, encoded);
  }

  // A getter does not survive Object.assign (it copies the value), so define it on the emitter.
  Object.defineProperty(emitter, 'connected', { get: () => client?.connected === true, enumerable: true });
  const uplink = Object.assign(emitter, {
    start() {
      client = connectMqtt(u.url, options);
      client.on('connect', () => {
        log.info({ url: u.url, reconnect: wasConnected }, 'uplink connected');
        wasConnected = true;
        client!.subscribe([topics.cmd(gw), ...extraTopics], { qos: 1 }, (err) => {
          if (err) log.error({ err }, 'subscribe failed');
        });
        emitter.emit('connect');
      });
      client.on('offline', () => {
        log.warn({ url: u.url }, 'uplink offline');
        emitter.emit('offline');
      });
      client.on('error', (err) => log.warn({ err: err.message }, 'uplink error'));
      client.on('message', (topic, payload) => {
        if (topic === topics.cmd(gw)) emitter.emit('command', payload);
        else emitter.emit('message', topic, payload);
      });
    },
    async stop() {
      const c = client;
      if (!c) return;
      if (c.connected) {
        await Promise.race([
          publish('status', { v: 1, online: false, ts: new Date().toISOString() }).catch(() => {}),
          new Promise((r) => setTimeout(r, 2000)),
        ]);
      }
      await new Promise<void>((resolve) => c.end(true, {}, () => resolve()));
      client = undefined;
    },
    publish,
    encode<K extends QueuedMessage['kind']>(
      kind: K,
      payload: PayloadOf<K>,
      to: { dev: string },
    ): QueuedMessage {
      return {
        kind,
        topic: topicFor({ kind, gw, dev: to.dev }),
        payload: encodePayload(kind, payload).toString('utf8'),
      };
    },
    send(message: QueuedMessage) {
      return deliver(message.kind, message.topic, message.payload);
    },
    publishForeign(topic: string, payload: string, opts: { retain: boolean }) {
      return new Promise<void>((resolve, reject) => {
        if (!client) return reject(new GatewayError('uplink_not_started', 'uplink not started'));
        client.publish(topic, payload, { qos: 1, retain: opts.retain }, (err) =>
          err ? reject(err) : resolve(),
        );
      });
    },
    sendWith(message: QueuedMessage, done: (err?: Error) => void) {
      if (!client) return done(new GatewayError('uplink_not_started', 'uplink not started'));
      // mqtt.js copies the options, so one object per kind serves every message.
      client.publish(message.topic, message.payload, QUEUED_OPTIONS[message.kind], (err) => done(err));
    },
    subscribe(topic: string) {
      extraTopics.add(topic);
      if (client?.connected) client.subscribe(topic, { qos: 1 });
    },
    async waitConnected(timeoutMs: number) {
      if (client?.connected) return true;
      return new Promise<boolean>((resolve) => {
        const t = setTimeout(() => {
          emitter.off('connect', on);
          resolve(false);
        }, timeoutMs);
        const on = () => {
          clearTimeout(t);
          resolve(true);
        };
        emitter.once('connect', on);
      });
    },
  });
  return uplink as Uplink;
}
