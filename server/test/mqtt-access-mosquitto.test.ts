import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCa, freePort, startMosquitto, startTsNode, waitFor } from '@gaswatch/shared/testing';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayLogin, getJson, SERVER_MAIN, startTestServer, TEST_ACTOR, tempDir } from './helpers.js';
import { mqttAccessContract } from './mqtt-access-contract.js';

const tmp = tempDir('gaswatch-access-mosquitto-');
// Started as root, Mosquitto drops to user `mosquitto` before it reads its files: it must reach them.
chmodSync(tmp.dir, 0o755);
afterAll(() => tmp.remove());

/** As root, the exported files go to Mosquitto's own user (`--owner`), as on a real host. */
function mosquittoOwner(): string[] {
  if (process.getuid?.() !== 0) return [];
  const id = (flag: string) => execFileSync('id', [flag, 'mosquitto'], { encoding: 'utf8' }).trim();
  return ['--owner', `${id('-u')}:${id('-g')}`];
}

/** Runs `gaswatch-server mqtt export DIR` as an installer does; its stdout. */
async function exportFiles(env: Record<string, string>, dir: string): Promise<string> {
  const proc = startTsNode(SERVER_MAIN, ['mqtt', 'export', dir, ...mosquittoOwner()], {
    env: { LOG_LEVEL: 'warn', ...env },
  });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`mqtt export exited ${code}:\n${proc.output()}`);
  return proc.output();
}

/** Connects with `opts` once; true when the broker accepted. */
async function accepts(url: string, opts: mqtt.IClientOptions): Promise<boolean> {
  try {
    const c = await mqtt.connectAsync(url, { ...opts, reconnectPeriod: 0, connectTimeout: 3_000 });
    await c.endAsync(true);
    return true;
  } catch {
    return false;
  }
}

mqttAccessContract('Mosquitto from mqtt export', async () => {
  const dataDir = join(tmp.dir, 'data');
  const auth = join(tmp.dir, 'mosquitto-auth');
  mkdirSync(auth, { mode: 0o755 });
  const ca = createTestCa(join(tmp.dir, 'pki'), 'site');
  const otherCa = createTestCa(join(tmp.dir, 'pki'), 'other');
  const brokerCert = ca.issue('mosquitto', 'server');
  const serverPassword = randomBytes(12).toString('hex');
  const login = `gaswatch-server:${serverPassword}`;
  // Only the credentials of MQTT_URL matter to the export.
  const exportEnv = { DATA_DIR: dataDir, MQTT_URL: `mqtt://${login}@127.0.0.1:1883` };
  await exportFiles(exportEnv, auth);

  const tlsPort = await freePort();
  const serverTlsPort = await freePort();
  // The Mosquitto recipe of docs/security.md: password_file and acl_file from the export; a TLS
  // listener where a certificate from the site's CA is the login and its CN the username; and
  // one with passwords over TLS, where the server logs in trusting the site CA (MQTT_CA).
  const mosquitto = await startMosquitto({
    allowAnonymous: false,
    extraConfig: [
      `password_file ${join(auth, 'password_file')}`,
      `acl_file ${join(auth, 'acl_file')}`,
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${ca.cert}`,
      `certfile ${brokerCert.cert}`,
      `keyfile ${brokerCert.key}`,
      'require_certificate true',
      'use_identity_as_username true',
      `listener ${serverTlsPort} 127.0.0.1`,
      `cafile ${ca.cert}`,
      `certfile ${brokerCert.cert}`,
      `keyfile ${brokerCert.key}`,
    ].join('\n'),
  });
  const server = await startTestServer(
    {
      MQTT_URL: `mqtts://${login}@127.0.0.1:${serverTlsPort}`,
      MQTT_CA: ca.cert,
      MQTT_CLIENT_ID: 'gaswatch-server-access',
    },
    dataDir,
  );
  await waitFor(() => server.app.broker.connected(), 'the server logged in at Mosquitto over TLS');
  const reexport = async () => {
    await exportFiles(exportEnv, auth);
    mosquitto.reload();
  };
  return {
    server,
    url: mosquitto.url,
    tlsUrl: `mqtts://127.0.0.1:${tlsPort}`,
    ca,
    otherCa,
    async login(...gws) {
      const logins = new Map<string, { username: string; password: string }>();
      for (const gw of gws) logins.set(gw, await gatewayLogin(server, gw));
      await reexport();
      for (const [gw, creds] of logins)
        await waitFor(() => accepts(mosquitto.url, creds), `Mosquitto accepts ${gw}`, 10_000, 100);
      return logins;
    },
    async revoke(gw) {
      const creds = await gatewayLogin(server, gw);
      await server.app.gateways.revoke(gw, TEST_ACTOR);
      await reexport();
      await waitFor(
        async () => !(await accepts(mosquitto.url, creds)),
        `Mosquitto refuses ${gw}`,
        10_000,
        100,
      );
    },
    refusedPublish: 'acknowledged',
    checksCertificateCn: false,
    async teardown() {
      await server.close();
      await mosquitto.stop();
    },
  };
});

describe("the server's own login at the broker", () => {
  it('never shows its password: not in mqttUrl (what the listening line prints) nor in /readyz', async () => {
    const mosquitto = await startMosquitto({ allowAnonymous: false });
    const server = await startTestServer({
      MQTT_URL: `mqtt://gaswatch-server:hunter2-secret@127.0.0.1:${mosquitto.port}`,
    });
    try {
      expect(server.mqttUrl).toBe(`mqtt://127.0.0.1:${mosquitto.port}`);
      const ready = await getJson<{ reasons: string[] }>(`${server.url}/readyz`);
      expect(ready.status).toBe(503); // refused: no password_file knows it
      expect(ready.body.reasons.join(' ')).toContain(
        `broker unreachable (mqtt://127.0.0.1:${mosquitto.port})`,
      );
      expect(JSON.stringify(ready.body)).not.toContain('hunter2');
    } finally {
      await server.close();
      await mosquitto.stop();
    }
  });
});

describe('gaswatch-server mqtt export', () => {
  it('writes password_file 0600 (revoked gateways left out, hashes as stored) and acl_file 0644, and says what it wrote', async () => {
    const dataDir = join(tmp.dir, 'export-data');
    const out = join(tmp.dir, 'export-out');
    for (const gw of ['gw-1', 'gw-2', 'gw-3']) await gatewayLogin({ dataDir }, gw);
    const server = await startTestServer({}, dataDir);
    await server.app.gateways.revoke('gw-2', TEST_ACTOR);
    const rows = await server.app.db.selectFrom('gateways').select(['id', 'password_hash']).execute();
    await server.close();

    const printed = await exportFiles(
      { DATA_DIR: dataDir, MQTT_URL: 'mqtts://srv:s%40cret@broker:8883' },
      out,
    );
    expect(printed).toContain(
      `wrote ${join(out, 'password_file')} (0600): 2 gateways, and the server's user srv`,
    );
    expect(printed).toContain(`wrote ${join(out, 'acl_file')} (0644)`);
    expect(statSync(join(out, 'password_file')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'acl_file')).mode & 0o777).toBe(0o644);
    const lines = readFileSync(join(out, 'password_file'), 'utf8').trim().split('\n');
    const hash = (id: string) => rows.find((r) => r.id === id)?.password_hash;
    expect(lines.slice(0, 2)).toEqual([`gw-1:${hash('gw-1')}`, `gw-3:${hash('gw-3')}`]);
    expect(lines[2]).toMatch(/^srv:\$7\$101\$/);
    const acl = readFileSync(join(out, 'acl_file'), 'utf8');
    expect(acl).toMatch(/^pattern write gaswatch\/v1\/%u\/#$/m);
    expect(acl).toMatch(/^pattern write homeassistant\/\+\/%u\/#$/m);
    expect(acl).toMatch(/^pattern read gaswatch\/v1\/%u\/cmd$/m);
    expect(acl).toMatch(/^pattern read gaswatch\/v1\/time$/m);
    expect(acl).toMatch(/^user srv\ntopic readwrite gaswatch\/v1\/#$/m);
  });
});
