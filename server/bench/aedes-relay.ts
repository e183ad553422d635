// A bare aedes broker in its own process: the relay baseline for the ingest benchmark.
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const broker = await Aedes.createBroker();
const server = createServer(broker.handle);
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1');
await once(server, 'listening');
const addr = server.address();
process.stdout.write(`aedes relay listening on ${addr && typeof addr === 'object' ? addr.port : '?'}\n`);
process.on('SIGTERM', () => {
  broker.close(() => server.close(() => process.exit(0)));
});
