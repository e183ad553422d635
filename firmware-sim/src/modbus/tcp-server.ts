/** Modbus TCP server (MBAP framing) for any number of simulated devices, one unit id each. */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { SimDevice } from '../device.js';
import { ExceptionCode } from './exceptions.js';
import { encodeTcpAdu, exceptionResponsePdu, takeTcpAdus } from './frame.js';
import { serveRequest } from './serve.js';
import { garble, unitMap } from './units.js';

export interface ModbusTcpServerOptions {
  devices: SimDevice[];
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** TCP port; 0 (default) lets the OS pick a free one. */
  port?: number;
  logger?: Logger;
}

export interface ModbusTcpStats {
  connections: number;
  requests: number;
  responses: number;
  exceptions: number;
  /** Requests for a unit this server does not have (answered with exception 0x0B). */
  unknownUnit: number;
  /** Requests a non-responding device ignored. */
  silent: number;
  /** Responses damaged on purpose by a fault script. */
  corrupted: number;
}

export interface ModbusTcpServer {
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
  stats(): ModbusTcpStats;
}

export function createModbusTcpServer(opts: ModbusTcpServerOptions): ModbusTcpServer {
  const units = unitMap(opts.devices, 'modbus-tcp');
  const host = opts.host ?? '127.0.0.1';
  const log = opts.logger;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let server: Server | null = null;
  const stats: ModbusTcpStats = {
    connections: 0,
    requests: 0,
    responses: 0,
    exceptions: 0,
    unknownUnit: 0,
    silent: 0,
    corrupted: 0,
  };

  // A single-device server answers unit 0 and 255 too, as most Modbus TCP devices do.
  const lookup = (unit: number): SimDevice | undefined =>
    units.get(unit) ??
    ((unit === 0 || unit === 255) && units.size === 1 ? [...units.values()][0] : undefined);

  const onConnection = (sock: Socket) => {
    stats.connections++;
    sockets.add(sock);
    sock.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let adus: ReturnType<typeof takeTcpAdus>['adus'];
      try {
        ({ adus, rest: buf } = takeTcpAdus(buf));
      } catch (err) {
        log?.warn({ err, remote: sock.remoteAddress }, 'bad MBAP header, closing connection');
        sock.destroy();
        return;
      }
      for (const adu of adus) {
        if (adu.protocolId !== 0) continue;
        stats.requests++;
        const device = lookup(adu.unit);
        if (!device) {
          stats.unknownUnit++;
          stats.exceptions++;
          const pdu = exceptionResponsePdu(adu.pdu[0] ?? 0, ExceptionCode.GatewayTargetFailed);
          sock.write(encodeTcpAdu(adu.transactionId, adu.unit, pdu));
          continue;
        }
        if (!device.responding) {
          stats.silent++;
          continue;
        }
        const result = serveRequest(device, adu.pdu);
        let frame = encodeTcpAdu(adu.transactionId, adu.unit, result.pdu);
        if (device.shouldCorrupt()) {
          stats.corrupted++;
          frame = Buffer.concat([frame.subarray(0, 7), garble(frame.subarray(7), device.rng.next, 0)]);
        }
        if (result.exception !== undefined) stats.exceptions++;
        const send = () => {
          if (sock.destroyed) return;
          stats.responses++;
          sock.write(frame);
        };
        if (device.responseDelayMs > 0) {
          const t = setTimeout(() => {
            timers.delete(t);
            send();
          }, device.responseDelayMs);
          timers.add(t);
        } else send();
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
  };

  return {
    start() {
      return new Promise((resolve, reject) => {
        const srv = createServer(onConnection);
        srv.once('error', reject);
        srv.listen(opts.port ?? 0, host, () => {
          srv.off('error', reject);
          server = srv;
          const addr = srv.address();
          const port = typeof addr === 'object' && addr ? addr.port : 0;
          resolve({ port });
        });
      });
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      sockets.clear();
      const srv = server;
      server = null;
      if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
    stats: () => ({ ...stats }),
  };
}
