import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from '@gaswatch/shared/testing';
import { Aedes } from 'aedes';

/** An in-process aedes broker on a free loopback port (or the given one, to bring a broker back). */
export async function startAedes(atPort?: number) {
  const port = atPort ?? (await freePort());
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    broker.handle(s);
  });
  await new Promise<void>((res) => server.listen(port, '127.0.0.1', res));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
      await new Promise<void>((res) => broker.close(() => res()));
    },
  };
}
