/**
 * `npm start`: the whole system on this machine (SPEC §1, "one box"): the server with its
 * embedded broker and store, a firmware-sim scenario and a gateway polling it, each its own
 * process as in production. Builds the console app if needed and prints its URL; Ctrl-C stops
 * everything in reverse order.
 *
 * Environment: PORT (8080) and MQTT_PORT (1883) of the server — a free port is taken when one is
 * busy — SCENARIO (demo), DATA_DIR (./data/one-box), SPEED (1). The first start makes the console's
 * admin and the gateway's MQTT login and keeps them in DATA_DIR (console-login.txt, mode 0600).
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { seedDemoTownship } from './demo-township.js';
import { REPO_ROOT, type RunningSystem, startSystem } from './system.js';

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('HTTP port of the console and API'),
  MQTT_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(1883)
    .describe('Port of the embedded MQTT broker'),
  SCENARIO: z
    .string()
    .default('demo')
    .describe('Built-in scenario name or scenario file (gaswatch-sim --list)'),
  DATA_DIR: z
    .string()
    .default(join(REPO_ROOT, 'data', 'one-box'))
    .describe('Server store, gateway outbox, logs'),
  SPEED: z.coerce.number().positive().max(1000).default(1).describe('Scenario seconds per wall second'),
});

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/** The wanted port when it is free, else 0 (the server then takes a free one and reports it). */
async function portOrAny(port: number, what: string): Promise<string> {
  if (port === 0 || (await portFree(port))) return String(port);
  process.stderr.write(`port ${port} (${what}) is busy: using a free port instead\n`);
  return '0';
}

async function main(): Promise<number> {
  const parsed = EnvSchema.safeParse(process.env);
  if (!parsed.success) {
    for (const i of parsed.error.issues)
      process.stderr.write(`npm start: ${i.path.join('.')}: ${i.message}\n`);
    return 2;
  }
  const env = parsed.data;
  // The console app is served from its build: made now unless it is current (a few seconds).
  const { ensureConsoleBuilt } = (await import(
    pathToFileURL(join(REPO_ROOT, 'server', 'scripts', 'build-console.mjs')).href
  )) as { ensureConsoleBuilt: (o?: { log?: (line: string) => void }) => Promise<{ built: boolean }> };
  await ensureConsoleBuilt({ log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`gaswatch one-box: starting server, scenario "${env.SCENARIO}" and gateway...\n`);
  let system: RunningSystem | undefined;
  system = await startSystem({
    scenario: env.SCENARIO,
    dataDir: env.DATA_DIR,
    speed: env.SPEED,
    serverEnv: {
      PORT: await portOrAny(env.PORT, 'PORT'),
      MQTT_PORT: await portOrAny(env.MQTT_PORT, 'MQTT_PORT'),
    },
    onUnexpectedExit: (name, code, output) => {
      process.stderr.write(`\n${name} exited (code ${code}); its last output:\n${output.slice(-2000)}\n`);
      // During start-up startSystem itself fails and stops the rest.
      if (system) void system.stop().then(() => process.exit(1));
    },
  });
  // The demo township: households with the detectors in them (a second start finds them).
  const homes = await seedDemoTownship(
    system.url,
    system.login,
    system.devices.map((d) => d.id),
  ).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    return 0;
  });
  process.stdout.write(
    [
      '',
      `  console:   ${system.url}/console/`,
      `  township:  大埔镇, ${homes > 0 ? `${homes} households registered` : 'households already registered'} (住户 in the console)`,
      `  login:     ${system.login.username} / ${system.login.password}   (kept in ${system.login.file})`,
      "  notified:  each alarm's card shows its messages (通知记录): the household by SMS, then a call, then",
      '             the grid worker, then the township duty room — through log channels, nothing is sent out',
      `  API:       ${system.url}/api/devices   OpenAPI: ${system.url}/docs`,
      `  MQTT:      ${system.mqttUrl}`,
      `  detectors: ${system.devices.map((d) => `${d.id} (${d.profile})`).join(', ')}`,
      `  logs:      ${join(env.DATA_DIR, 'logs')} (written when the processes stop)`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((res) => {
    const onSignal = () => {
      process.stdout.write('\nstopping gateway, simulator and server...\n');
      void system?.stop().then(() => res());
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  return 0;
}

process.exitCode = await main();
