/**
 * docker-compose.yml is the production shape of SPEC §1 (docs/deploy.md). No Docker engine runs
 * here, so this test checks the file and every file it mounts for what would make a site unsafe or
 * broken: a service without a health check or started before what it needs, a mount or variable
 * that resolves to nothing, an anonymous MQTT listener, a secret in the repository, a server or
 * gateway configuration the programs refuse. Where the tools exist it lets them judge too:
 * Debian's `docker-compose` (the file's interpolation and schema) and Prometheus' `promtool` (the
 * alert rules, with their unit tests in deploy/prometheus/alerts.test.yml).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '@gaswatch/firmware-sim/system';
import { checkProfiles, parseConfig as parseGatewayConfig } from '@gaswatch/gateway';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig as loadServerConfig } from '../../src/config.js';
import { tempDir } from '../helpers.js';
import {
  composeVariables,
  dashboards,
  envExample,
  freshEnv,
  interpolate,
  type Service,
  serverEnvironment,
} from './stack-files.js';

const tmp = tempDir('gaswatch-compose-test-');
afterAll(() => tmp.remove());

const composeText = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { file: string }>;
};
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
/** A volume entry's source and target; the source may be a `${VAR:?message}` with colons in it. */
const mountParts = (v: string) => {
  const m = /^(\$\{[^}]*\}|[^:]+):([^:]+)/.exec(v);
  return { source: m?.[1] ?? '', target: m?.[2] ?? '' };
};
const mountFor = (s: Service, target: string) => s.volumes?.find((v) => mountParts(v).target === target);
/** Host side of a bind mount ("./x:/y:ro"), or null for a named volume or one from a variable. */
const bindSource = (v: string) => (v.startsWith('./') ? (v.split(':')[0] as string) : null);
const readRepo = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/** Services that run until stopped (not the one-shot init services, nor those behind a profile). */
const longRunning = Object.entries(compose.services).filter(([, s]) => s.restart && !s.profiles);
/** The one-shot services others wait for with service_completed_successfully. */
const oneShots = Object.entries(compose.services).filter(([, s]) => !s.restart);

/** Every file under a folder, as paths relative to the repository. */
function filesUnder(dir: string): string[] {
  const abs = join(REPO_ROOT, dir);
  if (statSync(abs).isFile()) return [dir];
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(join(REPO_ROOT, f)).isFile());
}
/** Every file the compose file mounts from the repository, and the compose file itself. */
const mountedFiles = [
  'docker-compose.yml',
  ...new Set(
    Object.values(compose.services).flatMap((s) =>
      (s.volumes ?? []).flatMap((v) => {
        const src = bindSource(v);
        return src && existsSync(join(REPO_ROOT, src)) ? filesUnder(src.slice(2)) : [];
      }),
    ),
  ),
];

/**
 * Lines that give a password, secret, token or key a value of their own: `password: x`,
 * `PASSWORD=x`, `secret: x`, `mqtt://user:x@host`, SQL's `PASSWORD 'x'`, unless x is a reference (`${VAR}`, `$VAR`,
 * psql's `:'var'`) or a file path. Comments are left out.
 */
function literalSecrets(text: string): string[] {
  const assignment =
    /(?:^|[\s{,"])([\w-]*(?:password|secret|token|passwd|_key|apikey)[\w-]*)["']?\s*[:=]\s*("?[^\s"#,}]+)/gi;
  const found: string[] = [];
  for (const raw of text.split('\n')) {
    if (/^\s*(#|--)/.test(raw)) continue;
    for (const m of raw.matchAll(/:\/\/[^/\s:@]+:([^@\s]+)@/g))
      if (!/^\$\{\w+/.test(m[1] as string)) found.push(raw.trim());
    // SQL: PASSWORD 'x'.
    if (/password\s+'/i.test(raw)) found.push(raw.trim());
    const line = raw.replace(/\$\{[^}]*\}/g, '$REF').replace(/:'\w+'/g, '$REF');
    for (const m of line.matchAll(assignment)) {
      const value = m[2] as string;
      if (!/^"?(\$|\/)/.test(value) && !/^"?(true|false|\d+|null)"?$/.test(value)) found.push(raw.trim());
    }
  }
  return found;
}

describe('docker-compose.yml (production shape)', () => {
  it('runs PostgreSQL, InfluxDB 1.8, Mosquitto 2, the server, Prometheus and Grafana from pinned images', () => {
    expect(longRunning.map(([n]) => n).sort()).toEqual([
      'grafana',
      'influxdb',
      'mosquitto',
      'postgres',
      'prometheus',
      'server',
    ]);
    expect(svc('influxdb').image).toBe('influxdb:1.8');
    expect(svc('mosquitto').image).toMatch(/^eclipse-mosquitto:2(\.|$)/);
    expect(svc('postgres').image).toMatch(/^postgres:\d+$/);
    for (const [name, s] of Object.entries(compose.services))
      if (s.image) expect(s.image, `${name}: a pinned tag, never latest`).toMatch(/:(?!latest$)[\w.-]+$/);
  });

  it('gives every long-running service a health check and starts each one only after what it needs is healthy or done', () => {
    for (const [name, s] of longRunning) expect(s.healthcheck?.test, `${name}: healthcheck`).toBeDefined();
    for (const [name, s] of Object.entries(compose.services)) {
      expect(Array.isArray(s.depends_on), `${name}: depends_on names conditions, not bare services`).toBe(
        false,
      );
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = svc(dep);
        if (condition === 'service_healthy') expect(target.healthcheck, `${name} → ${dep}`).toBeDefined();
        else {
          expect(condition, `${name} → ${dep}`).toBe('service_completed_successfully');
          expect(target.restart, `${name} → ${dep}: a one-shot service`).toBeUndefined();
        }
      }
    }
    // The server needs its database, store and broker; the broker needs the exported logins.
    expect(svc('server').depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      influxdb: { condition: 'service_healthy' },
      mosquitto: { condition: 'service_healthy' },
    });
    expect(svc('mosquitto').depends_on).toEqual({
      'mqtt-auth': { condition: 'service_completed_successfully' },
    });
    expect(oneShots.map(([n]) => n).sort()).toEqual(['mqtt-auth', 'postgres-grants']);
  });

  it('mounts only files that exist and volumes it declares; a mount from a variable is documented in .env.example', () => {
    const documented = Object.keys(envExample());
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const src = bindSource(v);
        const fromVar = /^\$\{(\w+)/.exec(v)?.[1];
        if (src) expect(existsSync(join(REPO_ROOT, src)), `${name}: ${src}`).toBe(true);
        else if (fromVar) expect(documented, `${name}: ${v}`).toContain(fromVar);
        else expect(compose.volumes, `${name}: named volume ${v}`).toHaveProperty(mountParts(v).source);
      }
      for (const secret of s.secrets ?? []) expect(compose.secrets, `${name}: secret`).toHaveProperty(secret);
    }
    // The secrets' files are the site's own: made at setup (docs/deploy.md), ignored by git.
    const ignored = readRepo('.gitignore').split('\n');
    for (const { file } of Object.values(compose.secrets))
      expect(
        ignored.some((line) => line === file.slice(1) || file.slice(1).startsWith(line)),
        `${file} is in .gitignore`,
      ).toBe(true);
  });

  it('takes every secret from .env: each variable is in .env.example, required with a message, and its example is empty', () => {
    const vars = composeVariables(composeText);
    const example = envExample();
    expect(Object.keys(example).sort()).toEqual([...new Set(vars.map((v) => v.name))].sort());
    for (const v of vars) {
      if (v.name === 'TIME_ZONE') expect(v.default).toBe('Asia/Shanghai');
      else
        expect(v.required, `${v.name}: \${${v.name}:?message}`).toMatch(
          new RegExp(`set ${v.name} in \\.env`),
        );
    }
    // Empty: a copied .env.example stops compose instead of running with a published value.
    for (const [name, value] of Object.entries(example)) expect(value, name).toBe('');
    expect(readRepo('.env.example')).toMatch(/openssl rand -hex 24/);
  });

  it('commits no secret: no password, key or token value in the compose file or any file it mounts', () => {
    expect(mountedFiles).toEqual(
      expect.arrayContaining([
        'deploy/mosquitto/mosquitto.conf',
        'deploy/gaswatch.yaml',
        'deploy/prometheus/prometheus.yml',
        'deploy/grafana/provisioning/datasources/gaswatch.yaml',
        'deploy/postgres/grafana-reader.sql',
      ]),
    );
    for (const file of mountedFiles) {
      const text = readRepo(file);
      expect(literalSecrets(text), file).toEqual([]);
      // The placeholders of the examples, which the old compose mounted as the real configuration.
      expect(text, file).not.toMatch(/change-me|example\.org|another-long-random-secret/);
    }
  });

  it('finds a secret where one is written out (so the check above can fail)', () => {
    expect(
      literalSecrets(
        [
          'POSTGRES_PASSWORD: hunter2hunter2',
          '    secret: 0123456789abcdef0123',
          '  MQTT_URL: mqtt://gaswatch-server:hunter2@mosquitto:1883',
          "ALTER ROLE r PASSWORD 'hunter2';",
          '# password: in a comment',
          `  password: \${FROM_ENV}`,
          '  credentials_file: /run/secrets/metrics-token',
        ].join('\n'),
      ),
    ).toEqual([
      'POSTGRES_PASSWORD: hunter2hunter2',
      'secret: 0123456789abcdef0123',
      'MQTT_URL: mqtt://gaswatch-server:hunter2@mosquitto:1883',
      "ALTER ROLE r PASSWORD 'hunter2';",
    ]);
  });

  it('gives the server an environment and configuration it accepts, secrets from a fresh .env', () => {
    const env = freshEnv();
    const s = svc('server');
    const serverEnv = serverEnvironment(s, env);
    const configFile = mountFor(s, serverEnv.GASWATCH_CONFIG ?? '');
    expect(bindSource(configFile ?? '')).toBe('./deploy/gaswatch.yaml');
    const file = join(REPO_ROOT, 'deploy/gaswatch.yaml');
    const config = loadServerConfig({ ...serverEnv, GASWATCH_CONFIG: file });
    expect(config.mqtt).toMatchObject({
      kind: 'external',
      url: `mqtt://gaswatch-server:${env.MQTT_SERVER_PASSWORD}@mosquitto:1883`,
    });
    expect(config.store).toMatchObject({
      kind: 'influx',
      url: `http://admin:${env.INFLUXDB_ADMIN_PASSWORD}@influxdb:8086`,
    });
    expect(config.database).toEqual({
      kind: 'postgres',
      url: `postgres://gaswatch:${env.POSTGRES_PASSWORD}@postgres:5432/gaswatch`,
    });
    expect(config.host).toBe('0.0.0.0');
    expect(config.dataDir).toBe('/var/lib/gaswatch');
    expect(mountFor(s, config.dataDir)?.split(':')[0]).toBe('server-data');
    expect(config.timeZone).toBe('Asia/Shanghai');
    // The duty room's channel gets its address and key from .env, and every default tier uses it.
    expect(config.gaswatch.channels['duty-room']).toMatchObject({
      type: 'webhook',
      url: env.NOTIFY_WEBHOOK_URL,
      secret: env.NOTIFY_WEBHOOK_SECRET,
    });
    // The one-shot export is the same program with the same environment and configuration.
    const auth = svc('mqtt-auth');
    expect(auth.environment).toEqual(s.environment);
    expect(auth.build).toEqual(s.build);
    expect(mountFor(auth, '/etc/gaswatch/gaswatch.yaml')).toBe(configFile);
  });

  it('refuses to start the server while a secret its configuration names is missing', () => {
    const env = freshEnv();
    const serverEnv = serverEnvironment(svc('server'), env);
    expect(() =>
      loadServerConfig({
        ...serverEnv,
        NOTIFY_WEBHOOK_SECRET: '',
        GASWATCH_CONFIG: join(REPO_ROOT, 'deploy/gaswatch.yaml'),
      }),
    ).toThrow(/channels\.duty-room\.secret: \$\{NOTIFY_WEBHOOK_SECRET\} is not set/);
  });

  it('builds the server image to run the production bundle on node, with DATA_DIR its user can write', () => {
    const s = svc('server');
    const dockerfile = readRepo(join(s.build?.context ?? '', s.build?.dockerfile ?? ''));
    const argv = JSON.parse(dockerfile.match(/^ENTRYPOINT (\[.*\])$/m)?.[1] ?? '[]') as string[];
    // Node flags in between: the systemd unit's, which bundle.test.ts checks the image repeats.
    expect(argv[0]).toBe('node');
    expect(argv.at(-1)).toBe('server/dist/src/main.js');
    expect(argv.slice(1, -1).every((a) => a.startsWith('--'))).toBe(true);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/server\/dist server\/dist$/m);
    expect(dockerfile).toMatch(/^RUN npm run build -w @gaswatch\/server$/m);
    expect(JSON.parse(readRepo('server/package.json')).scripts.build).toBeDefined();
    expect(dockerfile).toMatch(/chown node:node \/var\/lib\/gaswatch/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('makes Mosquitto take only the logins `mqtt export` writes, publish only its TLS listener, and check itself with the server login', () => {
    const conf = readRepo('deploy/mosquitto/mosquitto.conf');
    expect(conf).toMatch(/^allow_anonymous false$/m);
    // One setting for every listener: per_listener_settings would let a listener be anonymous.
    expect(conf).not.toMatch(/^\s*per_listener_settings\s+true/m);
    expect(conf).not.toMatch(/^\s*allow_anonymous\s+true/m);
    const setting = (k: string) => conf.match(new RegExp(`^${k} (\\S+)$`, 'm'))?.[1];
    const m = svc('mosquitto');
    const authMount = mountFor(m, '/mosquitto/auth');
    for (const k of ['password_file', 'acl_file'])
      expect(setting(k)).toMatch(/^\/mosquitto\/auth\/(password|acl)_file$/);
    // mqtt-auth writes them into the volume the broker reads.
    const exportDir = svc('mqtt-auth').command?.[2];
    expect(svc('mqtt-auth').command?.slice(0, 2)).toEqual(['mqtt', 'export']);
    expect(mountFor(svc('mqtt-auth'), exportDir ?? '')?.split(':')[0]).toBe(authMount?.split(':')[0]);
    expect(svc('mqtt-auth').command).toEqual(expect.arrayContaining(['--owner', '1883:1883']));
    // Only the export writes the broker's logins; the long-running server does not reach them.
    expect(mountFor(svc('server'), exportDir ?? '')).toBeUndefined();
    // TLS on 8883 with the certificate from MQTT_TLS_DIR; only 8883 leaves the host.
    expect(conf).toMatch(/^listener 8883$/m);
    expect(setting('certfile')).toBe('/mosquitto/certs/server.pem');
    expect(setting('keyfile')).toBe('/mosquitto/certs/server.key');
    expect(mountFor(m, '/mosquitto/certs')).toMatch(/^\$\{MQTT_TLS_DIR:\?/);
    expect(m.ports).toEqual(['8883:8883']);
    expect(JSON.stringify(m.healthcheck?.test)).toMatch(
      /-u gaswatch-server -P \\"\$\$MQTT_SERVER_PASSWORD\\"/,
    );
    // Persistence on a named volume, so queued readings survive a broker restart.
    expect(conf).toMatch(/^persistence true$/m);
    const location = setting('persistence_location');
    const volume = m.volumes?.find((v) => location?.startsWith(`${v.split(':')[1]}/`));
    expect(compose.volumes).toHaveProperty(volume?.split(':')[0] as string);
  });

  it('scrapes the server with a token from a compose secret and loads the alert rules it mounts', () => {
    const p = svc('prometheus');
    const prom = parse(readRepo('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: Array<{
        job_name: string;
        authorization: { credentials_file: string };
        static_configs: Array<{ targets: string[] }>;
      }>;
    };
    const job = prom.scrape_configs.find((j) => j.job_name === 'gaswatch');
    expect(job?.static_configs[0]?.targets).toEqual([`server:${svc('server').environment?.PORT}`]);
    const secret = job?.authorization.credentials_file.match(/^\/run\/secrets\/(.+)$/)?.[1];
    expect(p.secrets).toContain(secret);
    for (const f of prom.rule_files) expect(mountFor(p, f), f).toBeDefined();
    expect(p.command).toContain(`--config.file=${'/etc/prometheus/prometheus.yml'}`);
    expect(mountFor(p, '/etc/prometheus/prometheus.yml')).toBeDefined();
  });

  it('provisions Grafana with read-only logins whose passwords come from its environment, and dashboards on them', () => {
    const g = svc('grafana');
    const provisioning = mountFor(g, '/etc/grafana/provisioning');
    expect(bindSource(provisioning ?? '')).toBe('./deploy/grafana/provisioning');
    const sources = parse(readRepo('deploy/grafana/provisioning/datasources/gaswatch.yaml')) as {
      datasources: Array<{ uid: string; url: string; user?: string; secureJsonData?: { password: string } }>;
    };
    const byUid = new Map(sources.datasources.map((d) => [d.uid, d]));
    expect(byUid.get('gaswatch-influxdb')?.user).toBe(svc('influxdb').environment?.INFLUXDB_READ_USER);
    expect(byUid.get('gaswatch-postgres')?.user).toBe('grafana_reader');
    expect(byUid.get('gaswatch-prometheus')?.url).toBe('http://prometheus:9090');
    for (const d of sources.datasources) {
      const password = d.secureJsonData?.password;
      if (password !== undefined)
        expect(Object.keys(g.environment ?? {})).toContain(password.replace(/^\$/, ''));
    }
    // Each data source points at a service of the file, on the port that service listens on.
    expect(byUid.get('gaswatch-influxdb')?.url).toBe('http://influxdb:8086');
    expect(byUid.get('gaswatch-postgres')?.url).toBe('postgres:5432');
    const provider = parse(readRepo('deploy/grafana/provisioning/dashboards/gaswatch.yaml')) as {
      providers: Array<{ options: { path: string } }>;
    };
    const path = provider.providers[0]?.options.path ?? '';
    expect(bindSource(mountFor(g, path) ?? '')).toBe('./deploy/grafana/dashboards');
    const all = dashboards();
    expect(all.map((d) => d.uid).sort()).toEqual([
      'gaswatch-alarms',
      'gaswatch-availability',
      'gaswatch-ingest',
      'gaswatch-readings',
    ]);
    for (const d of all)
      for (const t of d.targets)
        expect(byUid.has(t.datasource.uid), `${d.file}: ${t.datasource.uid}`).toBe(true);
    // Grafana's PostgreSQL login is made after the server's migrations, by the SQL file mounted.
    const grants = svc('postgres-grants');
    expect(grants.depends_on).toEqual({ 'mqtt-auth': { condition: 'service_completed_successfully' } });
    expect(grants.command?.join(' ')).toMatch(/-f \/grafana-reader\.sql/);
    expect(bindSource(mountFor(grants, '/grafana-reader.sql') ?? '')).toBe(
      './deploy/postgres/grafana-reader.sql',
    );
  });

  it('keeps a gateway on this host behind a profile, with its serial adapter, a valid config, a secret password and a persistent outbox', () => {
    const g = svc('gateway');
    expect(g.profiles).toEqual(['gateway']);
    const configPath = g.command?.[g.command.indexOf('--config') + 1];
    const mount = mountFor(g, configPath ?? '');
    const file = join(REPO_ROOT, bindSource(mount ?? '') ?? '');
    const config = parseGatewayConfig(parse(readFileSync(file, 'utf8')), file);
    checkProfiles(config, file);
    expect(config.uplink.url).toBe('mqtt://mosquitto:1883');
    expect(config.uplink.username).toBe(config.gatewayId);
    const secret = config.uplink.passwordFile?.match(/^\/run\/secrets\/(.+)$/)?.[1];
    expect(g.secrets).toContain(secret);
    const serialPaths = config.buses.flatMap((b) => (b.type === 'modbus-tcp' ? [] : [b.path]));
    for (const p of serialPaths) expect(g.devices?.map((d) => d.split(':')[1])).toContain(p);
    const outboxVolume = g.volumes?.find((v) => config.outbox.dir.startsWith(`${v.split(':')[1]}/`));
    expect(compose.volumes).toHaveProperty(outboxVolume?.split(':')[0] as string);
  });
});

/** `docker compose` (v2 plugin) or Debian's `docker-compose` 1.29, whichever runs here. */
function composeTool(): { argv: string[]; v1: boolean } | null {
  const v2 = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (v2.status === 0) return { argv: ['docker', 'compose'], v1: false };
  const v1 = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  if (v1.status === 0) return { argv: ['docker-compose'], v1: true };
  return null;
}
const tool = composeTool();

describe.skipIf(tool === null)('docker compose config (no engine needed)', () => {
  if (tool === null)
    console.warn(
      'docker compose config not checked: neither `docker compose` nor Debian `docker-compose` runs here',
    );
  /**
   * The compose file as the tool sees it. docker-compose 1.29 predates the top-level `name:` of
   * the Compose Specification (v2 reads it), so for it the copy leaves that line out.
   */
  function config(envFile: string): { status: number | null; stdout: string; stderr: string } {
    const file = join(tmp.dir, 'docker-compose.yml');
    writeFileSync(file, tool?.v1 ? composeText.replace(/^name: .*\n/m, '') : composeText);
    const [cmd, ...args] = tool?.argv ?? [];
    const r = spawnSync(
      cmd as string,
      [...args, '--project-directory', REPO_ROOT, '-f', file, '--env-file', envFile, 'config'],
      { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: tmp.dir } },
    );
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('refuses .env.example as it is, naming the first secret to set', () => {
    const r = config(join(REPO_ROOT, '.env.example'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/set \w+ in \.env/);
  });

  it('takes a fresh .env: every variable filled, every file and service resolved', () => {
    const env = freshEnv();
    const envFile = join(tmp.dir, '.env');
    writeFileSync(
      envFile,
      `${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
      { mode: 0o600 },
    );
    const r = config(envFile);
    expect(r.stderr).not.toMatch(/error|invalid/i);
    expect(r.status).toBe(0);
    const resolved = parse(r.stdout) as { services: Record<string, Service> };
    expect(r.stdout).not.toMatch(/\$\{/);
    expect(resolved.services.server?.environment?.DATABASE_URL).toBe(
      `postgres://gaswatch:${env.POSTGRES_PASSWORD}@postgres:5432/gaswatch`,
    );
    // Without its profile the gateway is not part of `up` (1.29 lists every service).
    if (!tool?.v1) expect(Object.keys(resolved.services)).not.toContain('gateway');
  });
});

/** promtool from Debian's `prometheus` package (.ci/run installs it). */
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!promtool)('Prometheus rules and configuration (promtool)', () => {
  if (!promtool) console.warn('promtool not found: install the Debian package prometheus to check the rules');
  const dir = join(REPO_ROOT, 'deploy/prometheus');

  it('accepts the alert rules, and their unit tests pass: each alert fires when it must and not before', () => {
    execFileSync('promtool', ['check', 'rules', 'alerts.yml'], { cwd: dir, stdio: 'pipe' });
    const r = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  it('accepts the configuration as the container sees it', () => {
    // The container's paths, made real in a temp dir: the rules and the token file.
    const copy = join(tmp.dir, 'prometheus');
    cpSync(dir, copy, { recursive: true });
    writeFileSync(join(copy, 'token'), randomBytes(16).toString('hex'));
    const text = readFileSync(join(copy, 'prometheus.yml'), 'utf8')
      .replace('/etc/prometheus/alerts.yml', join(copy, 'alerts.yml'))
      .replace('/run/secrets/metrics-token', join(copy, 'token'));
    writeFileSync(join(copy, 'prometheus.yml'), text);
    const r = spawnSync('promtool', ['check', 'config', join(copy, 'prometheus.yml')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: 8 rules found/);
    expect(r.status).toBe(0);
  });
});

describe('deploy/backup.sh and deploy/restore.sh (the compose shape; the engine-less round trip is backup.test.ts)', () => {
  const scripts = ['deploy/backup.sh', 'deploy/restore.sh'].map((f) => ({ f, text: readRepo(f) }));

  it('are valid bash that stops at the first failure', () => {
    for (const { f, text } of scripts) {
      execFileSync('bash', ['-n', join(REPO_ROOT, f)]);
      expect(text, f).toMatch(/^set -euo pipefail$/m);
      expect(statSync(join(REPO_ROOT, f)).mode & 0o111, `${f} is executable`).not.toBe(0);
    }
  });

  it('name the services, logins, paths and ports the compose file gives them', () => {
    const services = new Set(Object.keys(compose.services));
    const influx = svc('influxdb').environment ?? {};
    const server = svc('server').environment ?? {};
    for (const { f, text } of scripts) {
      const named = [...text.matchAll(/docker compose (?:exec -T|run [^\n]*?--entrypoint sh) (\S+)/g)];
      // Each script reaches the three places a site's state lives.
      expect([...new Set(named.map((m) => m[1]))].sort(), f).toEqual(['influxdb', 'postgres', 'server']);
      for (const m of named) expect(services, `${f}: ${m[0]}`).toContain(m[1]);
      for (const m of text.matchAll(/-host (\S+)/g)) expect(m[1], f).toBe(influx.INFLUXDB_BIND_ADDRESS);
      for (const m of text.matchAll(/tar -C (\/var\/lib\/\S+)/g)) expect(m[1], f).toBe(server.DATA_DIR);
      for (const m of text.matchAll(/-U (\w+) -d (\w+)/g))
        expect([m[1], m[2]], f).toEqual([
          svc('postgres').environment?.POSTGRES_USER,
          svc('postgres').environment?.POSTGRES_DB,
        ]);
      expect(text, f).toMatch(/SHA256SUMS/);
    }
    // The restore logs in to InfluxDB as the admin whose password the container has.
    expect(scripts[1]?.text).toMatch(/influx -username admin -password "\$INFLUXDB_ADMIN_PASSWORD"/);
    expect(influx.INFLUXDB_ADMIN_USER).toBe('admin');
  });
});

describe('the site files', () => {
  it('are all in deploy/ or at the root, and nothing in deploy/ is left unmounted', () => {
    const mounted = new Set(mountedFiles);
    // Documentation and the files the tools run by hand are not mounted on purpose.
    const byHand = new Set(['deploy/prometheus/alerts.test.yml', 'deploy/backup.sh', 'deploy/restore.sh']);
    for (const f of filesUnder('deploy'))
      expect(mounted.has(f) || byHand.has(f), `${relative(REPO_ROOT, join(REPO_ROOT, f))} is used`).toBe(
        true,
      );
  });

  it(`interpolates like compose: \${VAR:?msg} stops on an unset or empty VAR, \${VAR:-x} falls back`, () => {
    expect(interpolate(`a \${X:-def} b`, {})).toBe('a def b');
    expect(interpolate(`\${X:-def}`, { X: 'set' })).toBe('set');
    expect(() => interpolate(`\${X:?set X in .env}`, { X: '' })).toThrow('set X in .env');
    expect(interpolate('$$X', {})).toBe('$X');
  });
});
