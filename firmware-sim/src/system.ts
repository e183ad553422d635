/**
 * Starts the whole system as separate processes, as in production: the server, a firmware-sim
 * scenario and a gateway polling it over Modbus TCP, the gateway logged in with its own MQTT
 * password and the console with an admin, both made on the first start (one-box-logins.ts). Used
 * by `npm start` (one-box.ts) and the end-to-end tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Proc, startTsNode } from '@gaswatch/shared/testing';
import { stringify } from 'yaml';
import { type ConsoleLogin, consoleLogin, gatewayPasswordFile } from './one-box-logins.js';
import { type LoadedScenario, resolveScenario } from './scenario/load.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Site the simulated detectors report unless `site` says otherwise. */
export const DEMO_SITE = 'demo-home';

/**
 * The demo's escalation chain (issue 15) through `log` channels: nothing leaves the machine, every
 * message is written to the server's log and shown on the alarm's card (通知记录), so a newcomer
 * sees who would be told what, and when. The township chain of docs/notifications.md: the
 * household's own contacts by SMS, then by phone, then the village grid worker, then the township
 * duty room, again and again until someone acknowledges.
 */
export const DEMO_NOTIFY = {
  channels: {
    'demo-sms': { type: 'log', medium: 'sms' },
    'demo-call': { type: 'log', medium: 'voice' },
  },
  notify: {
    household: {
      steps: [
        {
          name: '住户及家属（短信）',
          household: ['occupant', 'family', 'neighbour'],
          channels: ['demo-sms'],
        },
        {
          name: '住户及家属（电话）',
          household: ['occupant', 'family', 'neighbour'],
          channels: ['demo-call'],
        },
        {
          name: '村网格员、村干部',
          household: ['grid_worker', 'village_cadre'],
          duty: 'village',
          channels: ['demo-sms', 'demo-call'],
        },
        { name: '镇应急值班室', duty: 'township', channels: ['demo-call', 'demo-sms'] },
      ],
    },
    duty: { dapu: [{ name: '大埔镇应急值班室', to: '0772-2000000' }] },
  },
};

/**
 * Writes the server's GASWATCH_CONFIG for a system started without one: its site is a home (the
 * one-box demo is a household pilot, SPEC §1), so combustible detectors first alarm at 10 %LEL
 * (GB 15322), not the workplace 25 %LEL; alarms in the demo township's households notify through
 * the log channels of DEMO_NOTIFY. Returns the file.
 */
export function writeDemoServerConfig(dir: string, site: string = DEMO_SITE): string {
  const file = join(dir, 'gaswatch.yaml');
  writeFileSync(
    file,
    `# Written for the demo; pass GASWATCH_CONFIG to the server to use your own.\n${stringify({
      sites: { [site]: { name: 'demo household', type: 'household' } },
      ...DEMO_NOTIFY,
    })}`,
  );
  return file;
}

export interface SystemOptions {
  /** Built-in scenario name or scenario file. */
  scenario: string;
  /** Holds the server's data, the gateway outbox and config, and the logs. */
  dataDir: string;
  /**
   * Extra environment of the server (PORT, MQTT_PORT, MQTT_URL, INFLUX_URL, GASWATCH_CONFIG...).
   * Without GASWATCH_CONFIG the site is configured as a household (writeDemoServerConfig).
   */
  serverEnv?: NodeJS.ProcessEnv;
  /** Scenario time per wall second. */
  speed?: number;
  gatewayId?: string;
  pollIntervalS?: number;
  site?: string;
  /** Called when a process exits while the system is not stopping. */
  onUnexpectedExit?: (name: string, code: number | null, output: string) => void;
}

export interface RunningSystem {
  /** HTTP base URL of the server, without a trailing slash. */
  url: string;
  mqttUrl: string;
  scenario: LoadedScenario;
  /** The gateway config that was written. */
  gatewayConfigFile: string;
  /** The console's admin login (made on the first start, kept in DATA_DIR). */
  login: ConsoleLogin;
  procs: { server: Proc; sim: Proc; gateway: Proc };
  /**
   * The simulator's control port (control.ts): `simulate(event)` applies a scenario event now (a
   * detector lowered into another zone, a hatch opened) and answers what was applied.
   */
  sim: { controlUrl: string; simulate(event: Record<string, unknown>): Promise<{ atS: number }> };
  /** Detector ids with their profiles. */
  devices: Array<{ id: string; profile: string }>;
  stop(): Promise<void>;
}

/** pino JSON lines of a child's output. */
export function logLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line
    }
  }
  return out;
}

export async function startSystem(opts: SystemOptions): Promise<RunningSystem> {
  const scenario = resolveScenario(opts.scenario);
  const dataDir = resolve(opts.dataDir);
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const started: Array<{ name: string; proc: Proc }> = [];
  let stopping = false;

  const stop = async () => {
    stopping = true;
    for (const { proc } of [...started].reverse()) await proc.stop('SIGTERM', 8_000);
  };
  const start = (name: string, entry: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const proc = startTsNode(join(REPO_ROOT, entry), args, {
      cwd: REPO_ROOT,
      env: { LOG_LEVEL: 'info', ...env },
    });
    started.push({ name, proc });
    void proc.exited.then((code) => {
      writeFileSync(join(dataDir, 'logs', `${name}.log`), proc.output());
      if (!stopping) opts.onUnexpectedExit?.(name, code, proc.output());
    });
    return proc;
  };

  try {
    const serverEnv = {
      PORT: '0',
      MQTT_PORT: '0',
      DATA_DIR: join(dataDir, 'server'),
      ...opts.serverEnv,
      GASWATCH_CONFIG: opts.serverEnv?.GASWATCH_CONFIG ?? writeDemoServerConfig(dataDir, opts.site),
    };
    // Before the server starts, so the commands and the server never migrate the database at once.
    const gatewayId = opts.gatewayId ?? 'one-box';
    const passwordFile = await gatewayPasswordFile(REPO_ROOT, dataDir, serverEnv, gatewayId);
    const login = await consoleLogin(REPO_ROOT, dataDir, serverEnv);
    const server = start('server', 'server/src/main.ts', [], serverEnv);
    await server.waitForOutput(/"msg":"listening"/, 60_000);
    const listening = logLines(server.output()).find((l) => l.msg === 'listening');
    const url = String(listening?.url);
    const mqttUrl = String(listening?.mqtt);

    const sim = start('sim', 'firmware-sim/src/main.ts', [
      '--scenario',
      scenario.file,
      '--tcp-port',
      '0',
      '--speed',
      String(opts.speed ?? 1),
      '--control-port',
      '0',
    ]);
    const wanted = scenario.scenario.transports.filter((t) => t.type === 'modbus-tcp').length;
    const listeners = () =>
      logLines(sim.output()).filter((l) => l.msg === 'listening' && l.transport === 'modbus-tcp');
    for (let i = 0; listeners().length < wanted; i++) {
      if (i > 600)
        throw new Error(
          `the simulator did not start its Modbus TCP listeners:\n${sim.output().slice(-2000)}`,
        );
      if (sim.child.exitCode !== null) throw new Error(`the simulator exited:\n${sim.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    await sim.waitForOutput(/"msg":"control listening"/, 30_000);
    const controlUrl = String(logLines(sim.output()).find((l) => l.msg === 'control listening')?.url);
    const simulate = async (event: Record<string, unknown>) => {
      const res = await fetch(`${controlUrl}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
      });
      const body = (await res.json()) as { atS: number; message?: string };
      if (!res.ok) throw new Error(`the simulator refused ${JSON.stringify(event)}: ${body.message}`);
      return body;
    };

    const byId = new Map(scenario.scenario.devices.map((d) => [d.id, d]));
    const buses = listeners().map((l, i) => ({
      id: `sim-tcp-${i}`,
      type: 'modbus-tcp',
      host: String(l.host),
      port: Number(l.port),
      timeoutMs: 1000,
      devices: (l.devices as string[]).map((id) => {
        const d = byId.get(id);
        if (!d) throw new Error(`the simulator reported an unknown device ${id}`);
        const profile = scenario.profiles.get(id);
        return {
          id,
          unit: d.unit,
          profile: d.profile,
          pollIntervalS: opts.pollIntervalS ?? 2,
          site: opts.site ?? DEMO_SITE,
          location: d.zone ?? id,
          localAlarms: true,
          outputs: profile?.transport === 'modbus' && profile.outputs.length > 0,
        };
      }),
    }));
    const gatewayConfigFile = join(dataDir, 'gateway.yaml');
    writeFileSync(
      gatewayConfigFile,
      `# Written for scenario ${scenario.scenario.name}.\n${stringify({
        gatewayId,
        // The username is the gatewayId; the password stays in its own file.
        uplink: { url: mqttUrl, passwordFile },
        outbox: { dir: join(dataDir, 'gateway-outbox') },
        // The gateway's local rules match the server's site: a home without a config of its own.
        alarms: { siteType: opts.serverEnv?.GASWATCH_CONFIG === undefined ? 'household' : 'workplace' },
        buses,
      })}`,
    );
    const gateway = start('gateway', 'gateway/src/main.ts', ['--config', gatewayConfigFile]);
    await gateway.waitForOutput(/"msg":"started"/, 60_000);

    return {
      url,
      mqttUrl,
      scenario,
      gatewayConfigFile,
      login,
      procs: { server, sim, gateway },
      sim: { controlUrl, simulate },
      devices: buses.flatMap((b) => b.devices.map((d) => ({ id: d.id, profile: d.profile }))),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
