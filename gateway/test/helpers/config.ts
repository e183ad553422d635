import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type GatewayConfig, parseConfig } from '../../src/config.js';

export interface TestDir {
  dir: string;
  remove(): void;
}

export function tempDir(prefix = 'gw-test-'): TestDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A gateway config document with test defaults; `buses` as in the YAML. */
export function configDoc(opts: {
  gatewayId?: string;
  url: string;
  /** MQTT password of the gateway (the username is its id). */
  password?: string;
  outboxDir: string;
  buses: unknown[];
  extra?: Record<string, unknown>;
}) {
  return {
    gatewayId: opts.gatewayId ?? 'gw-test',
    uplink: {
      url: opts.url,
      reconnectMs: 300,
      keepaliveS: 10,
      statusIntervalS: 1,
      ...(opts.password === undefined ? {} : { password: opts.password }),
    },
    outbox: { dir: opts.outboxDir, replayRatePerS: 2000, maxInflight: 50 },
    buses: opts.buses,
    ...opts.extra,
  };
}

export const makeConfig = (opts: Parameters<typeof configDoc>[0]): GatewayConfig =>
  parseConfig(configDoc(opts));

export function writeConfig(file: string, opts: Parameters<typeof configDoc>[0]): string {
  writeFileSync(file, stringify(configDoc(opts)));
  return file;
}

/** One Modbus TCP bus (to a firmware-sim server on `port`) with one detector, as the YAML has it. */
export function oneTcpBus(
  port: number,
  device: { id: string; unit: number; profile: string; pollIntervalS: number; location?: string },
  busId = 'tcp',
) {
  return {
    id: busId,
    type: 'modbus-tcp',
    host: '127.0.0.1',
    port,
    devices: [{ site: 's', location: device.id, ...device }],
  };
}
