/**
 * gaswatch-sim: runs a scenario's detectors on Modbus TCP ports, RTU serial lines and Winsen UARTs.
 *   gaswatch-sim --scenario NAME|FILE [--speed N] [--seed N] [--tcp-port N] [--serial PATH]... [--status-every S]
 *                [--control-port N]
 *   gaswatch-sim --list
 */
import { parseArgs } from 'node:util';
import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { type ControlServer, startControlServer } from './control.js';
import { listBuiltinScenarios, resolveScenario, ScenarioError } from './scenario/load.js';
import { createScenarioRunner } from './scenario/runner.js';

const USAGE = `usage: gaswatch-sim --scenario NAME|FILE [--speed N] [--seed N] [--tcp-port N] [--serial PATH]...
                    [--control-port N]
       gaswatch-sim --list
  --scenario  a built-in scenario name (see --list) or a scenario YAML file
  --speed     scenario seconds per wall second (default 1)
  --seed      overrides the scenario's seed (noise, fault probabilities)
  --tcp-port  port of the first Modbus TCP transport, the next ones +1, +2… (0: free ports)
  --serial    path for the serial transports, in file order (repeat for several)
  --status-every  log every device's reading and status each N wall seconds (default 0: off)
  --control-port  serve the control port on 127.0.0.1:N (0: a free port; default: none): POST
              /events applies a scenario event now (move a detector, open a hatch), GET /devices
  --log-level pino level (default info)`;

function fail(lines: string[], code = 2): void {
  for (const l of lines) process.stderr.write(`${l}\n`);
  process.exitCode = code;
}

function number(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min)
    throw new ScenarioError(`--${name}`, [`must be a number ≥ ${min}, got "${v}"`]);
  return n;
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      options: {
        scenario: { type: 'string', short: 's' },
        list: { type: 'boolean' },
        speed: { type: 'string' },
        seed: { type: 'string' },
        'tcp-port': { type: 'string' },
        serial: { type: 'string', multiple: true },
        'log-level': { type: 'string' },
        'status-every': { type: 'string' },
        'control-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  try {
    args = parse();
  } catch (err) {
    return fail([(err as Error).message, USAGE]);
  }
  const v = args.values;
  if (v.help) return void process.stdout.write(`${USAGE}\n`);
  if (v.list) {
    for (const s of listBuiltinScenarios()) process.stdout.write(`${s.name.padEnd(18)} ${s.description}\n`);
    return;
  }
  if (!v.scenario) return fail(['--scenario NAME|FILE is required (see --list)', USAGE]);

  let loaded: ReturnType<typeof resolveScenario>;
  let speed: number | undefined;
  let seed: number | undefined;
  let tcpPort: number | undefined;
  let statusEvery: number | undefined;
  let controlPort: number | undefined;
  try {
    controlPort = number('control-port', v['control-port'], 0);
    if (controlPort !== undefined && (!Number.isInteger(controlPort) || controlPort > 65535))
      throw new ScenarioError('--control-port', [`must be an integer 0..65535, got "${v['control-port']}"`]);
    statusEvery = number('status-every', v['status-every'], 0);
    speed = number('speed', v.speed, 0);
    seed = number('seed', v.seed, 0);
    tcpPort = number('tcp-port', v['tcp-port'], 0);
    if (tcpPort !== undefined && (!Number.isInteger(tcpPort) || tcpPort > 65535))
      throw new ScenarioError('--tcp-port', [`must be an integer 0..65535, got "${v['tcp-port']}"`]);
    loaded = resolveScenario(v.scenario);
  } catch (err) {
    if (err instanceof ScenarioError)
      return fail([`gaswatch-sim: ${err.file}: invalid`, ...err.issues.map((i) => `  - ${i}`)]);
    throw err;
  }

  // JSON lines for machines (the one-box launcher parses "listening"); pretty only on a terminal.
  const log = pino({
    name: 'gaswatch-sim',
    level: v['log-level'] ?? 'info',
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty' } } : {}),
  });
  const runner = createScenarioRunner({
    loaded,
    ...(speed !== undefined ? { speed } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(tcpPort !== undefined ? { tcpPort } : {}),
    ...(v.serial ? { serialPaths: v.serial } : {}),
    logger: log,
  });
  log.info({ scenario: loaded.scenario.name, file: loaded.file, speed: speed ?? 1 }, 'starting');
  let statusTimer: NodeJS.Timeout | null = null;
  let control: ControlServer | null = null;
  const grace = closeWithGrace({ delay: 5000 }, async ({ err, signal }) => {
    if (err) log.error({ err }, 'stopping after an error');
    else log.info({ signal }, 'stopping');
    if (statusTimer) clearInterval(statusTimer);
    await control?.stop();
    await runner.stop();
  });
  try {
    await runner.start();
    if (controlPort !== undefined)
      control = await startControlServer({ runner, port: controlPort, logger: log });
  } catch (err) {
    log.error({ err }, 'could not start the scenario');
    grace.uninstall();
    process.exitCode = 1;
    return;
  }
  if (statusEvery) {
    statusTimer = setInterval(() => {
      for (const d of runner.devices.values()) {
        const s = d.snapshot();
        const flags = Object.entries(s.flags)
          .filter(([, on]) => on)
          .map(([f]) => f);
        log.info(
          { device: s.id, atS: Math.round(s.timeMs / 1000), status: s.status, values: s.values, flags },
          'device',
        );
      }
    }, statusEvery * 1000);
  }
}

await main();
