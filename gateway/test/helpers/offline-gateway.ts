import { createModbusTcpServer, type SimDevice } from '@gaswatch/firmware-sim';
import { freePort } from '@gaswatch/shared/testing';
import type { Clock } from '../../src/clock.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { makeConfig, oneTcpBus, tempDir } from './config.js';
import { testLogger } from './log.js';

/**
 * One firmware-sim detector served over Modbus TCP and a gateway polling it, its uplink pointed at
 * a port nobody listens on: what a site has while the network is down (local safety only).
 * `wire` attaches listeners before the gateway starts, so no event is missed.
 */
export async function startOfflineGateway(opts: {
  sim: SimDevice;
  device: Parameters<typeof oneTcpBus>[1];
  busId?: string;
  clock: Clock;
  wire?: (gateway: Gateway) => void;
}): Promise<{ gateway: Gateway; stop(): Promise<void> }> {
  const tmp = tempDir();
  const server = createModbusTcpServer({ devices: [opts.sim], port: await freePort() });
  const { port } = await server.start();
  const config = makeConfig({
    url: `mqtt://127.0.0.1:${await freePort()}`,
    outboxDir: `${tmp.dir}/outbox`,
    buses: [oneTcpBus(port, opts.device, opts.busId)],
  });
  const gateway = createGateway({ config, logger: testLogger(), clock: opts.clock, uplinkWaitMs: 100 });
  opts.wire?.(gateway);
  await gateway.start();
  return {
    gateway,
    async stop() {
      await gateway.stop();
      await server.stop();
      tmp.remove();
    },
  };
}
