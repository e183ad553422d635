/**
 * The MQTT connection (mqtt.js 5): retained will `{"v":1,"online":false}`, typed publishing through
 * the shared topic map and `encodePayload`, and the command subscription.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import {
  type Command,
  CommandSchema,
  encodePayload,
  type PayloadOf,
  type TopicKind,
  topics,
} from '@gaswatch/shared';
import mqtt, { type IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import type { GatewayConfig } from './config.js';
import { GatewayError } from './errors.js';

export interface UplinkEvents {
  connect: [];
  offline: [];
  command: [Command];
  /** A message on a subscribed topic that is not a command (e.g. the clock reference). */
  message: [string, Buffer];
}

export interface Uplink extends EventEmitter<UplinkEvents> {
  start(): void;
  /** Publishes a retained offline status when connected, then disconnects. */
  stop(): Promise<void>;
  readonly connected: boolean;
  /** Publishes a checked payload; resolves on PUBACK (QoS 1). */
  publish<K extends TopicKind>(kind: K, topic: string, payload: PayloadOf<K>): Promise<void>;
  /** Publishes an already encoded payload (from the outbox); resolves on PUBACK. */
  publishRaw(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  subscribe(topic: string): void;
  waitConnected(timeoutMs: number): Promise<boolean>;
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
      qos: 1,
      retain: true,
    },
    ...(u.username !== undefined ? { username: u.username } : {}),
    ...(u.password !== undefined ? { password: u.password } : {}),
    ...(u.ca ? { ca: readFileSync(u.ca) } : {}),
    ...(u.cert ? { cert: readFileSync(u.cert) } : {}),
    ...(u.key ? { key: readFileSync(u.key) } : {}),
  };

  const publishRaw: Uplink['publishRaw'] = (topic, payload, o) =>
    new Promise((resolve, reject) => {
      if (!client) return reject(new GatewayError('EUPLINK', 'uplink not started'));
      client.publish(topic, payload, { qos: o.qos, retain: o.retain }, (err) =>
        err ? reject(err) : resolve(),
      );
    });

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
        if (topic !== topics.cmd(gw)) {
          emitter.emit('message', topic, payload);
          return;
        }
        let json: unknown;
        try {
          json = JSON.parse(payload.toString('utf8'));
        } catch {
          log.warn({ topic }, 'command is not JSON; ignored');
          return;
        }
        const parsed = CommandSchema.safeParse(json);
        if (!parsed.success) {
          const message = parsed.error.issues
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ');
          log.warn({ topic, message }, 'invalid command');
          const id = (json as { id?: unknown })?.id;
          if (typeof id === 'string' && id.length > 0 && id.length <= 64) {
            void publishRaw(
              topics.cmdResult(gw),
              encodePayload('cmdResult', {
                v: 1,
                id,
                ok: false,
                ts: new Date().toISOString(),
                message: message.slice(0, 500),
              }),
              { qos: 1, retain: false },
            ).catch(() => {});
          }
          return;
        }
        emitter.emit('command', parsed.data);
      });
    },
    async stop() {
      const c = client;
      if (!c) return;
      if (c.connected) {
        await Promise.race([
          publishRaw(
            topics.status(gw),
            encodePayload('status', { v: 1, online: false, ts: new Date().toISOString() }),
            { qos: 1, retain: true },
          ).catch(() => {}),
          new Promise((r) => setTimeout(r, 2000)),
        ]);
      }
      await new Promise<void>((resolve) => c.end(true, {}, () => resolve()));
      client = undefined;
    },
    publish<K extends TopicKind>(kind: K, topic: string, payload: PayloadOf<K>) {
      // Called from timers and event handlers: a payload that fails its schema (a bug) is logged
      // and rejected, never thrown, so it cannot take the gateway and its local alarms down.
      let encoded: Buffer;
      try {
        encoded = encodePayload(kind, payload);
      } catch (err) {
        const issues =
          err instanceof ZodError
            ? err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            : [];
        log.error({ kind, topic, issues, err }, 'payload fails its schema; not published');
        const why = issues.join('; ') || String(err);
        return Promise.reject(
          new GatewayError('EPAYLOAD', `${kind} payload fails its schema: ${why}`, { cause: err }),
        );
      }
      return publishRaw(topic, encoded, { qos: 1, retain: kind === 'status' || kind === 'state' });
    },
    publishRaw,
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
