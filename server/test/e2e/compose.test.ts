/**
 * docker-compose.yml is the production shape of SPEC §1. No Docker engine runs here, so this test
 * parses it and checks what would break a site: the services, broker persistence, the files it
 * mounts, and that the server and gateway would accept the configuration it gives them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@gaswatch/firmware-sim/system';
import { checkProfiles, parseConfig as parseGatewayConfig } from '@gaswatch/gateway';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig as loadServerConfig } from '../../src/config.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  devices?: string[];
  command?: string[];
  depends_on?: string[];
  secrets?: string[];
}
const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets?: Record<string, { file: string }>;
};
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
/** Host side of a bind mount ("./x:/y:ro"), or null for a named volume. */
const bindSource = (v: string) => (v.startsWith('./') ? v.split(':')[0]! : null);
const mountFor = (s: Service, target: string) => s.volumes?.find((v) => v.split(':')[1] === target);

describe('docker-compose.yml (production shape)', () => {
  it('runs Mosquitto, InfluxDB 1.8, the server and a gateway', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'influxdb', 'mosquitto', 'server']);
    expect(svc('influxdb').image).toBe('influxdb:1.8');
    expect(svc('mosquitto').image).toMatch(/^eclipse-mosquitto:2/);
  });

  it('gives Mosquitto persistence on a named volume, so queued readings survive a broker restart', () => {
    const conf = readFileSync(join(REPO_ROOT, 'docs/deploy/mosquitto.conf'), 'utf8');
    expect(conf).toMatch(/^persistence true$/m);
    const location = conf.match(/^persistence_location (\S+)$/m)?.[1];
    const volume = svc('mosquitto').volumes?.find((v) => location?.startsWith(`${v.split(':')[1]}/`));
    expect(volume?.split(':')[0]).toBeDefined();
    expect(compose.volumes).toHaveProperty(volume!.split(':')[0]!);
  });

  it('mounts only files that exist and builds from Dockerfiles that exist', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const src = bindSource(v);
        if (src) expect(existsSync(join(REPO_ROOT, src)), `${name}: ${src}`).toBe(true);
        else expect(compose.volumes, `${name}: named volume ${v}`).toHaveProperty(v.split(':')[0]!);
      }
      if (s.build) {
        const dockerfile = readFileSync(join(REPO_ROOT, s.build.context, s.build.dockerfile), 'utf8');
        // ENTRYPOINT ["node", ...flags, "<script>"]: the script is a file of the repository, or the
        // output of a build stage (COPY --from=<stage> /app/<dir> <dir>) whose package has that build.
        const argv = JSON.parse(dockerfile.match(/^ENTRYPOINT (\[.*\])$/m)?.[1] ?? '[]') as string[];
        expect(argv[0], `${name}: ENTRYPOINT runs node`).toBe('node');
        const entry = argv.at(-1) ?? '';
        const built = [...dockerfile.matchAll(/^COPY --from=\S+ \/app\/(\S+) (\S+)$/gm)].find((m) =>
          entry.startsWith(`${m[2]}/`),
        );
        if (built) {
          const pkg = JSON.parse(
            readFileSync(join(REPO_ROOT, (built[2] as string).split('/')[0]!, 'package.json'), 'utf8'),
          );
          expect(pkg.scripts?.build, `${name}: ${entry} comes from a build stage`).toBeDefined();
          expect(dockerfile, `${name}: the build stage runs the build`).toMatch(/^RUN npm run build -w /m);
        } else expect(existsSync(join(REPO_ROOT, entry)), `${name}: entry point ${entry}`).toBe(true);
      }
    }
  });

  it('gives the server an environment it accepts: the compose broker and InfluxDB', () => {
    const s = svc('server');
    const configFile = mountFor(s, s.environment?.GASWATCH_CONFIG ?? '');
    expect(configFile).toBeDefined();
    // Compose fills ${MQTT_SERVER_PASSWORD} in from the environment or .env.
    const mqttUrl = s.environment?.MQTT_URL?.replace(/\$\{MQTT_SERVER_PASSWORD\}/, 'pw') ?? '';
    const config = loadServerConfig({
      ...s.environment,
      MQTT_URL: mqttUrl,
      GASWATCH_CONFIG: join(REPO_ROOT, bindSource(configFile!)!),
    });
    expect(config.mqtt).toMatchObject({ kind: 'external', url: 'mqtt://gaswatch-server:pw@mosquitto:1883' });
    expect(config.store).toMatchObject({ kind: 'influx', url: 'http://influxdb:8086' });
    expect(config.host).toBe('0.0.0.0');
    expect(s.depends_on).toEqual(expect.arrayContaining(['mosquitto', 'influxdb']));
  });

  it('makes Mosquitto take only the logins `mqtt export` writes, in a volume the server writes to', () => {
    const conf = readFileSync(join(REPO_ROOT, 'docs/deploy/mosquitto.conf'), 'utf8');
    expect(conf).toMatch(/^allow_anonymous false$/m);
    const files = ['password_file', 'acl_file'].map((k) => conf.match(new RegExp(`^${k} (\\S+)$`, 'm'))?.[1]);
    const brokerSide = mountFor(svc('mosquitto'), '/mosquitto/auth');
    for (const f of files) expect(f).toMatch(/^\/mosquitto\/auth\/(password|acl)_file$/);
    const serverSide = svc('server').volumes?.find((v) => v.split(':')[0] === brokerSide?.split(':')[0]);
    expect(serverSide?.split(':')[1]).toBe('/var/lib/gaswatch-mosquitto');
    expect(compose.volumes).toHaveProperty(brokerSide!.split(':')[0]!);
  });

  it('gives the gateway its serial adapter, a valid config, its password as a secret and a persistent outbox', () => {
    const g = svc('gateway');
    const configPath = g.command?.[g.command.indexOf('--config') + 1];
    const mount = mountFor(g, configPath ?? '');
    expect(mount).toBeDefined();
    const file = join(REPO_ROOT, bindSource(mount!)!);
    // The password file exists only on the site (a compose secret): schema and profiles checked here.
    const config = parseGatewayConfig(parse(readFileSync(file, 'utf8')), file);
    checkProfiles(config, file);
    expect(config.uplink.url).toBe('mqtt://mosquitto:1883');
    expect(config.uplink.username).toBe(config.gatewayId);
    const secret = config.uplink.passwordFile?.match(/^\/run\/secrets\/(.+)$/)?.[1];
    expect(g.secrets).toContain(secret);
    expect(compose.secrets?.[secret ?? '']?.file).toBe('./gateway-mqtt-password');
    const serialPaths = config.buses.flatMap((b) => (b.type === 'modbus-tcp' ? [] : [b.path]));
    for (const p of serialPaths) expect(g.devices?.map((d) => d.split(':')[1])).toContain(p);
    const outboxVolume = g.volumes?.find((v) => config.outbox.dir.startsWith(`${v.split(':')[1]}/`));
    expect(outboxVolume && compose.volumes).toHaveProperty(outboxVolume!.split(':')[0]!);
  });
});
