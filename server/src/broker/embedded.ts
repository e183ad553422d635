import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import type { GatewayAccess } from './gateway-access.js';
import { retainedWhereDeliverable } from './retained.js';
import type { Broker, OnMessage } from './types.js';

/** The embedded broker's MQTTS listener (MQTT_TLS_PORT); `ca` asks clients for a certificate. */
export interface EmbeddedTlsOptions {
  port: number;
  cert: Buffer;
  key: Buffer;
  /** MQTT_CA: client certificates it issued authenticate as their CN, without a password. */
  ca: Buffer | null;
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  tls: EmbeddedTlsOptions | null;
  logger: Logger;
  onMessage: OnMessage;
  /** Who may connect, publish and subscribe (broker/gateway-access.ts). */
  access: GatewayAccess;
}

/** aedes closes the connection of a publish its hook refuses (see authorizePublish below). */
class PublishRefusedError extends Error {
  readonly code = 'publish_not_authorized';
}

const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

async function listen(server: Server, port: number, host: string): Promise<number> {
  server.listen(port, host);
  await once(server, 'listening');
  const addr = server.address();
  return addr && typeof addr === 'object' ? addr.port : port;
}

const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

/**
 * The one-box broker: aedes in-process. Ingest runs inside `authorizePublish`, which aedes calls
 * before it sends the PUBACK of a QoS 1 publish, so a gateway's reading is acknowledged only once
 * it is in the journal. A refusal (buffer full) makes aedes drop the connection without PUBACK;
 * the gateway keeps the reading in its outbox and retries.
 *
 * A publish outside the gateway's own topics is refused the same way, before ingest sees it: aedes
 * has no "acknowledge and discard" (MQTT-3.3.5-2 allows either; aedes issue #210), and closing is
 * the louder of the two: the gateway keeps what it sent in its outbox instead of losing it behind
 * a PUBACK, and the refusal is counted and logged.
 */
export function createEmbeddedBroker(opts: EmbeddedBrokerOptions): Broker {
  const log = opts.logger.child({ part: 'broker', broker: 'aedes' });
  const { access } = opts;
  let aedes: Aedes | null = null;
  let servers: Server[] = [];
  let url = '';
  let tlsUrl: string | null = null;

  return {
    kind: 'embedded',
    get url() {
      return url;
    },
    get tlsUrl() {
      return tlsUrl;
    },
    async start() {
      aedes = await Aedes.createBroker({
        persistence: retainedWhereDeliverable(access.deliverable),
        authenticate: access.authenticate,
        authorizeSubscribe: access.authorizeSubscribe,
        authorizeForward: access.authorizeForward,
        authorizePublish: (client, packet, done) => {
          if (!access.mayPublish(client, packet.topic))
            return done(new PublishRefusedError(`not its own topic: ${packet.topic.slice(0, 200)}`));
          void opts.onMessage(packet.topic, packet.payload as Buffer, (err) => {
            if (err) log.warn({ err, client: client?.id, topic: packet.topic }, 'publish refused');
            done(err);
          });
        },
      });
      aedes.on('clientReady', access.onClientReady);
      aedes.on('clientDisconnect', access.onClientDisconnect);
      aedes.on('clientError', (client, err) =>
        log.debug({ client: client.id, err: err.message }, 'client error'),
      );
      const plain = createServer(aedes.handle);
      servers.push(plain);
      url = `mqtt://${urlHost(opts.host)}:${await listen(plain, opts.port, opts.host)}`;
      if (opts.tls) {
        const { cert, key, ca } = opts.tls;
        // Without rejectUnauthorized a client may come without a certificate and use its password;
        // one that presents a certificate MQTT_CA did not issue is refused at CONNECT.
        const secure = createTlsServer(
          { cert, key, ...(ca ? { ca, requestCert: true, rejectUnauthorized: false } : {}) },
          aedes.handle,
        );
        secure.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
        servers.push(secure);
        tlsUrl = `mqtts://${urlHost(opts.host)}:${await listen(secure, opts.tls.port, opts.host)}`;
      }
      log.debug({ url, tlsUrl }, 'embedded broker listening');
    },
    async stop() {
      const a = aedes;
      const ss = servers;
      servers = [];
      aedes = null;
      const closed = Promise.all(ss.map(close));
      if (a) await new Promise<void>((resolve) => a.close(() => resolve()));
      await closed;
    },
    connected: () => servers[0]?.listening === true,
    publish(topic, payload, o) {
      const a = aedes;
      if (!a) return Promise.reject(new Error('embedded broker not started'));
      return new Promise((resolve, reject) =>
        a.publish({ cmd: 'publish', topic, payload, qos: o.qos, retain: o.retain, dup: false }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    },
    disconnectGateway: (gw) => access.cut(gw),
  };
}
