/**
 * `npm start`: the whole system on this machine (SPEC §1, "one box"). Starts the server (embedded
 * broker and store), a firmware-sim scenario and a gateway polling it, each as its own process as
 * in production, and prints the console URL. Ctrl-C stops them in reverse order.
 *
 * Environment: PORT (8080) and MQTT_PORT (1883) for the server — a free port is taken if one is
 * busy — SCENARIO (demo), DATA_DIR (./data/one-box), SPEED (1).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Proc, startTsNode } from '@gaswatch/shared/testing';
import { stringify } from 'yaml';
import { z } from 'zod';
import { resolveScenario } from './scenario/load.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('HTTP port of the console and API'),
  MQTT_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(1883)
    .describe('Port of the embedded MQTT broker'),
  SCENARIO: z.string().default('demo').describe('Built-in scenario name or scenario file'),
  DATA_DIR: z
    .string()
    .default(join(ROOT, 'data', 'one-box'))
    .describe('Where the server store and gateway outbox live'),
  SPEED: z.coerce.number().positive().max(1000).default(1).describe('Scenario time per wall second'),
});

/** A pino JSON line from a child, or null for anything else. */
type LogLine = Record<string, unknown> & { msg?: string };
function jsonLines(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a partial line; the next read completes it
    }
  }
  return out;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/** The wanted port if it is free, else 0 (the child then takes a free one and reports it). */
async function portOrAny(port: number, what: string): Promise<number> {
  if (port === 0 || (await portFree(port))) return port;
  process.stderr.write(`port ${port} (${what}) is busy: using a free port instead\n`);
  return 0;
}

async function main(): Promise<number> {
  const parsed = EnvSchema.safeParse(process.env);
  if (!parsed.success) {
    for (const i of parsed.error.issues) process.stderr.write(`one-box: ${i.path.join('.')}: ${i.message}\n`);
    return 2;
  }
  const env = parsed.data;
  const scenario = resolveScenario(env.SCENARIO);
  const dataDir = resolve(env.DATA_DIR);
  mkdirSync(join(dataDir, 'logs'), { recursive: true });

  const procs: Array<{ name: string; proc: Proc }> = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    for (const { proc } of procs.reverse()) await proc.stop('SIGTERM', 8_000);
  };
  const start = (name: string, entry: string, args: string[], childEnv: NodeJS.ProcessEnv = {}) => {
    const proc = startTsNode(join(ROOT, entry), args, { cwd: ROOT, env: { LOG_LEVEL: 'info', ...childEnv } });
    procs.push({ name, proc });
    void proc.exited.then((code) => {
      writeFileSync(join(dataDir, 'logs', `${name}.log`), proc.output());
      if (stopping) return;
      process.stderr.write(
        `\n${name} exited (code ${code}); its last output:\n${proc.output().slice(-2000)}\n`,
      );
      void stopAll().then(() => process.exit(1));
    });
    return proc;
  };

  process.stdout.write(`gaswatch one-box: scenario "${scenario.scenario.name}", data in ${dataDir}\n`);

  const server = start('server', 'server/src/main.ts', [], {
    PORT: String(await portOrAny(env.PORT, 'PORT')),
    MQTT_PORT: String(await portOrAny(env.MQTT_PORT, 'MQTT_PORT')),
    DATA_DIR: join(dataDir, 'server'),
  });
  await server.waitForOutput(/"msg":"listening"/, 60_000);
  const listening = jsonLines(server.output()).find((l) => l.msg === 'listening');
  const url = String(listening?.url);
  const mqttUrl = String(listening?.mqtt);

  const sim = start('sim', 'firmware-sim/src/main.ts', [
    '--scenario',
    scenario.file,
    '--tcp-port',
    '0',
    '--speed',
    String(env.SPEED),
  ]);
  const tcpTransports = scenario.scenario.transports.filter((t) => t.type === 'modbus-tcp');
  const listeners = async () =>
    jsonLines(sim.output()).filter((l) => l.msg === 'listening' && l.transport === 'modbus-tcp');
  for (let i = 0; (await listeners()).length < tcpTransports.length; i++) {
    if (i > 600)
      throw new Error(`the simulator did not start its Modbus TCP listeners:\n${sim.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const deviceById = new Map(scenario.scenario.devices.map((d) => [d.id, d]));
  const buses = (await listeners()).map((l, i) => ({
    id: `sim-tcp-${i}`,
    type: 'modbus-tcp',
    host: String(l.host),
    port: Number(l.port),
    timeoutMs: 1000,
    devices: (l.devices as string[]).map((id) => {
      const d = deviceById.get(id);
      if (!d) throw new Error(`simulator reported unknown device ${id}`);
      const profile = scenario.profiles.get(id);
      return {
        id,
        unit: d.unit,
        profile: d.profile,
        pollIntervalS: 2,
        site: 'demo-home',
        location: d.zone ?? id,
        localAlarms: true,
        outputs: profile?.transport === 'modbus' && profile.outputs.length > 0,
      };
    }),
  }));
  const gatewayConfig = join(dataDir, 'gateway.yaml');
  writeFileSync(
    gatewayConfig,
    `# Written by npm start for scenario ${scenario.scenario.name}.\n${stringify({
      gatewayId: 'one-box',
      uplink: { url: mqttUrl },
      outbox: { dir: join(dataDir, 'gateway-outbox') },
      buses,
    })}`,
  );
  const gateway = start('gateway', 'gateway/src/main.ts', ['--config', gatewayConfig]);
  await gateway.waitForOutput(/"msg":"started"/, 60_000);

  const devices = buses.flatMap((b) => b.devices.map((d) => `${d.id} (${d.profile})`)).join(', ');
  process.stdout.write(
    [
      '',
      `  console:   ${url}/`,
      `  API:       ${url}/api/devices   OpenAPI: ${url}/docs`,
      `  MQTT:      ${mqttUrl}`,
      `  detectors: ${devices}`,
      `  logs:      ${join(dataDir, 'logs')} (written when a process stops)`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  await new Promise<void>((res) => {
    const onSignal = () => {
      process.stdout.write('\nstopping gateway, simulator and server...\n');
      void stopAll().then(() => res());
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  return 0;
}

process.exitCode = await main();
