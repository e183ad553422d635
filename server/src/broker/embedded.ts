import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import type { Broker, OnMessage } from './types.js';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  logger: Logger;
  onMessage: OnMessage;
}

/**
 * The one-box broker: aedes in-process. Ingest runs inside `authorizePublish`, which aedes calls
 * before it sends the PUBACK of a QoS 1 publish, so a gateway's reading is acknowledged only once
 * it is in the journal. A refusal (buffer full) makes aedes drop the connection without PUBACK;
 * the gateway keeps the reading in its outbox and retries.
 */
export function createEmbeddedBroker(opts: EmbeddedBrokerOptions): Broker {
  const log = opts.logger.child({ part: 'broker', broker: 'aedes' });
  let aedes: Aedes | null = null;
  let server: Server | null = null;
  let url = '';

  return {
    kind: 'embedded',
    get url() {
      return url;
    },
    async start() {
      aedes = await Aedes.createBroker({
        authorizePublish: (client, packet, done) => {
          void opts.onMessage(packet.topic, packet.payload as Buffer, (err) => {
            if (err) log.warn({ err, client: client?.id, topic: packet.topic }, 'publish refused');
            done(err);
          });
        },
      });
      aedes.on('clientError', (client, err) =>
        log.debug({ client: client.id, err: err.message }, 'client error'),
      );
      server = createServer(aedes.handle);
      server.listen(opts.port, opts.host);
      await once(server, 'listening');
      const addr = server.address();
      const port = addr && typeof addr === 'object' ? addr.port : opts.port;
      const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
      url = `mqtt://${host}:${port}`;
      log.debug({ url }, 'embedded broker listening');
    },
    async stop() {
      const s = server;
      const a = aedes;
      server = null;
      aedes = null;
      if (s) {
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        if (a) await new Promise<void>((resolve) => a.close(() => resolve()));
        await closed;
      } else if (a) {
        await new Promise<void>((resolve) => a.close(() => resolve()));
      }
    },
    connected: () => server?.listening === true,
    publish(topic, payload, o) {
      const a = aedes;
      if (!a) return Promise.reject(new Error('embedded broker not started'));
      return new Promise((resolve, reject) =>
        a.publish({ cmd: 'publish', topic, payload, qos: o.qos, retain: o.retain, dup: false }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    },
  };
}
