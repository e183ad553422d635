/**
 * The MQTT connection (src/mqtt, or mqtt.js for WebSocket URLs): retained will `{"v":1,"online":false}`, typed publishing through
 * the shared topic map, and the subscriptions (commands, the clock reference).
 *
 * Callers name a kind and a payload (and the device, for per-device kinds); the topic, QoS and
 * retain flag come from `TOPICS` and this gateway's id, so no caller can publish a retained reading
 * or a state to the wrong gateway's topic.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { isIP, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  encodePayload,
  type PayloadOf,
  TOPICS,
  type TopicAddress,
  type TopicKind,
  topicFor,
  topics,
} from '@gaswatch/shared';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { type GatewayConfig, readPasswordFile } from './config.js';
import { GatewayError } from './errors.js';
import { MqttClient, type MqttClientEvents } from './mqtt/client.js';

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
 * The connection under the uplink: the lean client of src/mqtt for `mqtt://`, `tcp://`,
 * `mqtts://` and `ssl://`, mqtt.js (loaded only then) for `ws://` and `wss://`.
 */
interface Transport extends EventEmitter<MqttClientEvents> {
  readonly connected: boolean;
  start(): void;
  publish(
    topic: string,
    payload: string | Buffer,
    qos: 0 | 1,
    retain: boolean,
    done: (err?: Error) => void,
  ): void;
  subscribe(topics: string[], done: (err?: Error) => void): void;
  end(graceful: boolean): Promise<void>;
}

interface TransportOptions {
  url: string;
  clientId: string;
  keepaliveS: number;
  reconnectMs: number;
  username?: string;
  password?: string;
  will: { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean };
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  logger: Logger;
}

const CONNECT_TIMEOUT_MS = 10_000;

function createTransport(o: TransportOptions): Transport {
  const parsed = new URL(o.url);
  const tlsUrl = parsed.protocol === 'mqtts:' || parsed.protocol === 'ssl:';
  if (!tlsUrl && parsed.protocol !== 'mqtt:' && parsed.protocol !== 'tcp:') return new WebSocketTransport(o);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  // A client certificate means TLS even on an mqtt:// URL (as mqtt.js did).
  const useTls = tlsUrl || (o.cert !== undefined && o.key !== undefined);
  const port = parsed.port ? Number(parsed.port) : useTls ? 8883 : 1883;
  const open = useTls
    ? () =>
        tlsConnect({
          host,
          port,
          ...(isIP(host) ? {} : { servername: host }),
          ...(o.ca ? { ca: o.ca } : {}),
          ...(o.cert ? { cert: o.cert } : {}),
          ...(o.key ? { key: o.key } : {}),
        })
    : () => netConnect({ host, port });
  // User and password in the URL win, as in mqtt.connect.
  const username = parsed.username ? decodeURIComponent(parsed.username) : o.username;
  const password = parsed.password ? decodeURIComponent(parsed.password) : o.password;
  return new MqttClient({
    open,
    clientId: o.clientId,
    keepaliveS: o.keepaliveS,
    clean: true,
    will: o.will,
    reconnectMs: o.reconnectMs,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    logger: o.logger,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  });
}

/**
 * MQTT over WebSocket through mqtt.js, imported on start so a gateway on plain MQTT or TLS never
 * loads it (its transports cost megabytes of RSS, SPEC §8). Callbacks and events as the lean client.
 */
class WebSocketTransport extends EventEmitter<MqttClientEvents> implements Transport {
  private client: import('mqtt').MqttClient | undefined;
  private stopped = false;

  constructor(private readonly o: TransportOptions) {
    super();
  }

  get connected() {
    return this.client?.connected === true;
  }

  start() {
    void import('mqtt').then(({ default: mqtt }) => {
      if (this.stopped) return;
      const c = mqtt.connect(this.o.url, {
        clientId: this.o.clientId,
        clean: true,
        keepalive: this.o.keepaliveS,
        reconnectPeriod: this.o.reconnectMs,
        connectTimeout: CONNECT_TIMEOUT_MS,
        queueQoSZero: false,
        writeCache: false,
        will: this.o.will,
        ...(this.o.username !== undefined ? { username: this.o.username } : {}),
        ...(this.o.password !== undefined ? { password: this.o.password } : {}),
        ...(this.o.ca ? { ca: this.o.ca } : {}),
        ...(this.o.cert ? { cert: this.o.cert } : {}),
        ...(this.o.key ? { key: this.o.key } : {}),
      });
      this.client = c;
      c.on('connect', () => this.emit('connect'));
      c.on('offline', () => this.emit('offline'));
      c.on('error', (err) => this.emit('error', err));
      c.on('message', (topic, payload) => this.emit('message', topic, payload));
    });
  }

  publish(topic: string, payload: string | Buffer, qos: 0 | 1, retain: boolean, done: (err?: Error) => void) {
    if (!this.client) return process.nextTick(done, new GatewayError('mqtt_offline', 'not connected'));
    this.client.publish(topic, payload, { qos, retain }, (err) => done(err));
  }

  subscribe(topics: string[], done: (err?: Error) => void) {
    if (!this.client) return process.nextTick(done, new GatewayError('mqtt_offline', 'not connected'));
    this.client.subscribe(topics, { qos: 1 }, (err) => done(err ?? undefined));
  }

  async end(graceful: boolean) {
    this.stopped = true;
    const c = this.client;
    if (c) await new Promise<void>((resolve) => c.end(!graceful, {}, () => resolve()));
  }
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
  let client: Transport | undefined;
  let wasConnected = false;

  const transportOptions: TransportOptions = {
    url: u.url,
    clientId: u.clientId ?? `gaswatch-gw-${gw}`,
    keepaliveS: u.keepaliveS,
    reconnectMs: u.reconnectMs,
    will: {
      topic: topics.status(gw),
      payload: encodePayload('status', { v: 1, online: false }),
      qos: TOPICS.status.qos,
      retain: TOPICS.status.retain,
    },
    logger: log,
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
      client.publish(topic, payload, qos, retain, (err) => (err ? reject(err) : resolve()));
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
      client = createTransport(transportOptions);
      client.on('connect', () => {
        log.info({ url: u.url, reconnect: wasConnected }, 'uplink connected');
        wasConnected = true;
        client!.subscribe([topics.cmd(gw), ...extraTopics], (err) => {
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
      client.start();
    },
    async stop() {
      const c = client;
      if (!c) return;
      // Graceful (DISCONNECT, the broker drops the will) only when the broker acknowledged the
      // offline status; otherwise the will says it.
      let saidOffline = false;
      if (c.connected) {
        let t: NodeJS.Timeout | undefined;
        await Promise.race([
          publish('status', { v: 1, online: false, ts: new Date().toISOString() }).then(
            () => {
              saidOffline = true;
            },
            () => {},
          ),
          new Promise((r) => {
            t = setTimeout(r, 2000);
          }),
        ]);
        clearTimeout(t);
      }
      await c.end(saidOffline);
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
        client.publish(topic, payload, 1, opts.retain, (err) => (err ? reject(err) : resolve()));
      });
    },
    sendWith(message: QueuedMessage, done: (err?: Error) => void) {
      if (!client) return done(new GatewayError('uplink_not_started', 'uplink not started'));
      const o = QUEUED_OPTIONS[message.kind];
      client.publish(message.topic, message.payload, o.qos, o.retain, done);
    },
    subscribe(topic: string) {
      extraTopics.add(topic);
      if (client?.connected)
        client.subscribe([topic], (err) => {
          if (err) log.error({ err, topic }, 'subscribe failed');
        });
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
