/**
 * deploy/mosquitto/mosquitto.conf run by a real Mosquitto 2 (Debian `mosquitto`), as the compose
 * site runs it: the container's paths made real in a temp dir, password_file and acl_file from
 * `gaswatch-server mqtt export`, the broker certificate from a site CA as the operator makes it
 * (docs/deploy.md "Certificates"). Anonymous logins fail on both listeners, a gateway logs in over
 * TLS with its password, and the compose health check's command passes only with the server's
 * login.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@gaswatch/firmware-sim/system';
import {
  createTestCa,
  freePort,
  type Proc,
  portOpen,
  startProcess,
  startTsNode,
  waitFor,
} from '@gaswatch/shared/testing';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gatewayLogin, SERVER_MAIN, tempDir } from '../helpers.js';

const tmp = tempDir('gaswatch-deploy-mosquitto-');
// Started as root, Mosquitto drops to user `mosquitto` before it reads its files.
chmodSync(tmp.dir, 0o755);
const dirs = { auth: join(tmp.dir, 'auth'), certs: join(tmp.dir, 'certs'), data: join(tmp.dir, 'data') };
const serverPassword = randomBytes(24).toString('hex');
let ca: ReturnType<typeof createTestCa>;
let broker: Proc;
let plainPort: number;
let tlsPort: number;
let gateway: { username: string; password: string };

/** As root, the exported files go to Mosquitto's own user, as `--owner 1883:1883` in compose. */
function owner(): string[] {
  if (process.getuid?.() !== 0) return [];
  const id = (flag: string) => execFileSync('id', [flag, 'mosquitto'], { encoding: 'utf8' }).trim();
  return ['--owner', `${id('-u')}:${id('-g')}`];
}

async function accepts(url: string, opts: mqtt.IClientOptions): Promise<boolean> {
  try {
    const c = await mqtt.connectAsync(url, { ...opts, reconnectPeriod: 0, connectTimeout: 3_000 });
    await c.endAsync(true);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  for (const d of Object.values(dirs)) mkdirSync(d, { mode: 0o777 });
  chmodSync(dirs.data, 0o777);
  const dataDir = join(tmp.dir, 'server-data');
  gateway = await gatewayLogin({ dataDir }, 'site-gw1');
  // mqtt-auth's command, with the compose server environment's MQTT_URL.
  const exporter = startTsNode(SERVER_MAIN, ['mqtt', 'export', dirs.auth, ...owner()], {
    env: {
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      MQTT_URL: `mqtt://gaswatch-server:${serverPassword}@mosquitto:1883`,
    },
  });
  if ((await exporter.exited) !== 0) throw new Error(`mqtt export failed:\n${exporter.output()}`);
  ca = createTestCa(join(tmp.dir, 'pki'), 'site');
  const cert = ca.issue('mosquitto', 'server');
  copyFileSync(cert.cert, join(dirs.certs, 'server.pem'));
  copyFileSync(cert.key, join(dirs.certs, 'server.key'));
  chmodSync(join(dirs.certs, 'server.key'), 0o644);

  [plainPort, tlsPort] = [await freePort(), await freePort()];
  const conf = readFileSync(join(REPO_ROOT, 'deploy/mosquitto/mosquitto.conf'), 'utf8')
    .replaceAll('/mosquitto/auth/', `${dirs.auth}/`)
    .replaceAll('/mosquitto/certs/', `${dirs.certs}/`)
    .replaceAll('/mosquitto/data/', `${dirs.data}/`)
    .replace(/^listener 1883$/m, `listener ${plainPort} 127.0.0.1`)
    .replace(/^listener 8883$/m, `listener ${tlsPort} 127.0.0.1`);
  // Every container path and both listeners were found: the test runs the file as committed.
  expect(conf).not.toMatch(/\/mosquitto\/|^listener (1883|8883)$/m);
  const file = join(tmp.dir, 'mosquitto.conf');
  writeFileSync(file, conf);
  broker = startProcess('/usr/sbin/mosquitto', ['-c', file]);
  await waitFor(
    async () => (await portOpen(plainPort)) && (await portOpen(tlsPort)),
    'mosquitto on both listeners',
    10_000,
  );
}, 60_000);

afterAll(async () => {
  await broker?.stop();
  tmp.remove();
});

describe('deploy/mosquitto/mosquitto.conf in Mosquitto 2', () => {
  it('refuses anonymous clients and wrong passwords on both listeners', async () => {
    const tls = { ca: readFileSync(ca.cert), servername: 'localhost' };
    expect(await accepts(`mqtt://127.0.0.1:${plainPort}`, {})).toBe(false);
    expect(await accepts(`mqtts://127.0.0.1:${tlsPort}`, tls)).toBe(false);
    expect(
      await accepts(`mqtts://127.0.0.1:${tlsPort}`, { ...tls, username: 'site-gw1', password: 'guess' }),
    ).toBe(false);
  });

  it('lets a gateway in over TLS with its password, trusting the site CA, and never in clear on the TLS port', async () => {
    const tls = { ca: readFileSync(ca.cert) };
    expect(await accepts(`mqtts://127.0.0.1:${tlsPort}`, { ...tls, ...gateway })).toBe(true);
    expect(await accepts(`mqtt://127.0.0.1:${tlsPort}`, { ...gateway, connectTimeout: 2_000 })).toBe(false);
    // A client that does not trust the site CA does not talk to this broker.
    expect(await accepts(`mqtts://127.0.0.1:${tlsPort}`, { ...gateway })).toBe(false);
  });

  it("passes the compose health check's command with the server's login and fails it without", () => {
    const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: { mosquitto: { healthcheck: { test: string[] } } };
    };
    const [kind, command] = compose.services.mosquitto.healthcheck.test;
    expect(kind).toBe('CMD-SHELL');
    const run = (password: string) =>
      spawnSync('sh', ['-c', (command ?? '').replaceAll('$$', '$').replace('-p 1883', `-p ${plainPort}`)], {
        env: { PATH: process.env.PATH, MQTT_SERVER_PASSWORD: password },
        encoding: 'utf8',
        timeout: 10_000,
      });
    const good = run(serverPassword);
    expect(good.stderr).toBe('');
    expect(good.status).toBe(0);
    expect(run('not-the-password').status).not.toBe(0);
  });
});
