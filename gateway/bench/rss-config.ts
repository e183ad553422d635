import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type Mosquitto, startMosquitto, startTsNode } from '@gaswatch/shared/testing';
import { stringify } from 'yaml';

const here = fileURLToPath(new URL('.', import.meta.url));

// The gateway config of the RSS benchmarks: 32 gaswatch-co detectors at 1 s, on 4 Modbus TCP
// connections to the simulator process (bench/sim-process.ts tcp 32 <port>).
export function rssBenchConfig(opts: {
  gatewayId: string;
  brokerUrl: string;
  simPort: number;
  outboxDir: string;
}) {
  return {
    gatewayId: opts.gatewayId,
    uplink: { url: opts.brokerUrl },
    outbox: { dir: opts.outboxDir },
    logLevel: 'warn',
    buses: [0, 1, 2, 3].map((b) => ({
      id: `tcp-${b}`,
      type: 'modbus-tcp',
      host: '127.0.0.1',
      port: opts.simPort,
      devices: Array.from({ length: 8 }, (_, i) => ({
        id: `co${b * 8 + i + 1}`,
        unit: b * 8 + i + 1,
        profile: 'gaswatch-co',
        pollIntervalS: 1,
        site: 'bench',
        location: `room-${b * 8 + i + 1}`,
      })),
    })),
  };
}

/** What every RSS benchmark runs against: Mosquitto and the 32-detector simulator process. */
export interface RssRig {
  broker: Mosquitto;
  /** The simulator's Modbus TCP port (all 32 units behind it). */
  simPort: number;
  /** Writes the 32-detector config for `gatewayId` into `dir` (its outbox inside); returns the file. */
  writeConfig(gatewayId: string, dir: string): string;
  stop(): Promise<void>;
}

export async function startRssRig(): Promise<RssRig> {
  const broker = await startMosquitto();
  const sim = startTsNode(join(here, 'sim-process.ts'), ['tcp', '32', String(await freePort())]);
  const simPort = Number((await sim.waitForOutput(/\{"ready":true,"port":(\d+)\}/))[1]);
  return {
    broker,
    simPort,
    writeConfig(gatewayId, dir) {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'gw.yaml');
      const cfg = rssBenchConfig({
        gatewayId,
        brokerUrl: broker.url,
        simPort,
        outboxDir: join(dir, 'outbox'),
      });
      writeFileSync(file, stringify(cfg));
      return file;
    },
    async stop() {
      await sim.stop();
      await broker.stop();
    },
  };
}
