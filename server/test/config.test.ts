import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCa, startTsNode } from '@gaswatch/shared/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { SERVER_MAIN, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

/**
 * Runs the server process from its sources to its exit (the bin would run a build in server/dist,
 * which may be older than the sources); its exit code and what it wrote to stderr.
 */
async function runServer(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER_MAIN], {
    env: { ...process.env, PORT: '0', MQTT_PORT: '0', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // A server that did start (the bug) would run until killed: stop it so the test fails, not hangs.
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return { code: code as number | null, stderr };
}

describe('loadConfig', () => {
  it('applies the SPEC defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      mqtt: { kind: 'embedded', port: 1883 },
      store: { kind: 'embedded' },
      logLevel: 'info',
      configFile: null,
      ingest: { bufferMax: 1_000_000, batchSize: 5_000, flushMs: 50, fsync: false },
      exportMaxRows: 100_000,
      timeZone: 'Asia/Shanghai',
    });
    expect(loadConfig({ TIME_ZONE: 'europe/berlin' }).timeZone).toBe('Europe/Berlin');
    expect(() => loadConfig({ TIME_ZONE: 'Mars/Olympus' })).toThrow(/TIME_ZONE: no time zone Mars\/Olympus/);
    expect(loadConfig({ INGEST_FSYNC: 'true' }).ingest.fsync).toBe(true);
    expect(c.dataDir).toMatch(/data$/);
  });

  it('selects the external broker and InfluxDB when their URLs are set', () => {
    const c = loadConfig({
      MQTT_URL: 'mqtt://broker:1883',
      INFLUX_URL: 'http://influx:8086',
      INFLUX_DB: 'gw',
    });
    expect(c.mqtt).toEqual({
      kind: 'external',
      url: 'mqtt://broker:1883',
      clientId: 'gaswatch-server',
      ca: null,
    });
    expect(c.store).toEqual({ kind: 'influx', url: 'http://influx:8086', database: 'gw' });
  });

  it('lists every bad variable with its reason', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', MQTT_PORT: '70000', INFLUX_URL: 'not a url', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    expect(issues).toHaveLength(4);
    for (const v of ['PORT', 'MQTT_PORT', 'INFLUX_URL', 'LOG_LEVEL'])
      expect(issues.some((i) => i.startsWith(`${v}:`))).toBe(true);
  });

  it('keeps records in DATA_DIR/gaswatch.db unless DATABASE_URL names PostgreSQL; a bad one is listed', () => {
    expect(loadConfig({ DATA_DIR: tmp.dir }).database).toEqual({
      kind: 'sqlite',
      file: join(tmp.dir, 'gaswatch.db'),
    });
    for (const url of ['postgres://gw:pw@db:5432/gaswatch', 'postgresql://db/gaswatch'])
      expect(loadConfig({ DATABASE_URL: url }).database).toEqual({ kind: 'postgres', url });
    for (const bad of ['mysql://db/gaswatch', 'db:5432/gaswatch', 'not a url']) {
      let err: unknown;
      try {
        loadConfig({ DATABASE_URL: bad, PORT: 'eighty' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues).toEqual([
        expect.stringMatching(/^PORT: /),
        expect.stringMatching(/^DATABASE_URL: .+/),
      ]);
    }
  });

  it('refuses one port for HTTP and the embedded broker (it would fail at listen, after opening the store)', () => {
    expect(() => loadConfig({ PORT: '8080', MQTT_PORT: '8080' })).toThrow(
      /MQTT_PORT: the embedded broker and HTTP cannot share port 8080/,
    );
    // An external broker leaves MQTT_PORT unused; 0 picks two different free ports.
    expect(loadConfig({ PORT: '8080', MQTT_PORT: '8080', MQTT_URL: 'mqtt://broker:1883' }).port).toBe(8080);
    expect(loadConfig({ PORT: '0', MQTT_PORT: '0' }).port).toBe(0);
  });

  it('MQTTS: reads TLS_CERT, TLS_KEY and MQTT_CA, and says what is missing, unreadable or mismatched', () => {
    const pki = createTestCa(join(tmp.dir, 'pki'), 'site');
    const cert = pki.issue('gaswatch-server', 'server');
    const other = pki.issue('other', 'server');
    const tls = { MQTT_TLS_PORT: '8883', TLS_CERT: cert.cert, TLS_KEY: cert.key };
    const c = loadConfig({ ...tls, MQTT_CA: pki.cert });
    expect(c.mqtt).toMatchObject({ kind: 'embedded', port: 1883, tls: { port: 8883 } });
    if (c.mqtt.kind !== 'embedded' || !c.mqtt.tls) throw new Error('no TLS listener');
    expect(c.mqtt.tls.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(c.mqtt.tls.ca?.toString()).toContain('BEGIN CERTIFICATE');
    expect(loadConfig(tls).mqtt).toMatchObject({ tls: { ca: null } });
    expect(loadConfig({}).mqtt).toMatchObject({ tls: null });
    const external = loadConfig({ MQTT_URL: 'mqtts://broker:8883', MQTT_CA: pki.cert });
    expect(external.mqtt).toMatchObject({ kind: 'external', ca: expect.any(Buffer) });

    const issues = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).issues;
      }
    };
    expect(issues({ TLS_CERT: cert.cert, MQTT_TLS_PORT: '8883' })).toEqual([
      'TLS_CERT: set TLS_KEY too (its key)',
      'MQTT_TLS_PORT: the MQTTS listener needs TLS_CERT and TLS_KEY',
    ]);
    expect(issues({ TLS_KEY: cert.key })).toEqual(['TLS_KEY: set TLS_CERT too (its certificate)']);
    // Alone they make HTTP speak HTTPS.
    expect(issues({ TLS_CERT: cert.cert, TLS_KEY: cert.key })).toEqual([]);
    expect(loadConfig({ TLS_CERT: cert.cert, TLS_KEY: cert.key }).https).not.toBeNull();
    expect(issues({ ...tls, MQTT_URL: 'mqtt://broker:1883' })[0]).toMatch(
      /^MQTT_TLS_PORT: is the embedded broker's/,
    );
    expect(issues({ ...tls, MQTT_TLS_PORT: '1883' })).toEqual([
      'MQTT_TLS_PORT: port 1883 is taken by PORT or MQTT_PORT',
    ]);
    expect(issues({ MQTT_CA: pki.cert })).toEqual([
      'MQTT_CA: client certificates are asked for on the MQTTS listener: set MQTT_TLS_PORT too',
    ]);
    expect(issues({ MQTT_URL: 'mqtt://broker:1883', MQTT_CA: pki.cert })).toEqual([
      'MQTT_CA: is trusted for a TLS connection to the broker: MQTT_URL must be mqtts:// or wss://',
    ]);
    const missing = join(tmp.dir, 'nope.pem');
    expect(issues({ ...tls, TLS_KEY: missing })).toEqual([
      expect.stringMatching(new RegExp(`^TLS_KEY: cannot read ${missing}: ENOENT`)),
    ]);
    expect(issues({ ...tls, TLS_KEY: cert.cert })).toEqual([
      `TLS_KEY: ${cert.cert} is not a PEM private key (an encrypted key needs its passphrase removed)`,
    ]);
    expect(issues({ ...tls, TLS_CERT: cert.key })).toEqual([
      `TLS_CERT: ${cert.key} is not a PEM certificate`,
    ]);
    expect(issues({ ...tls, TLS_KEY: other.key })).toEqual([
      `TLS_KEY: ${other.key} is not the key of the certificate in TLS_CERT (${cert.cert})`,
    ]);
    expect(issues({ ...tls, MQTT_CA: cert.cert })).toEqual([
      `MQTT_CA: ${cert.cert} is not a CA certificate (no basicConstraints CA:TRUE)`,
    ]);
  });

  it('reads and validates the GASWATCH_CONFIG file (YAML), reporting its path and problem', () => {
    const good = join(tmp.dir, 'good.yaml');
    writeFileSync(good, '{}\n');
    expect(loadConfig({ GASWATCH_CONFIG: good }).configFile).toBe(good);
    const missing = join(tmp.dir, 'missing.yaml');
    expect(() => loadConfig({ GASWATCH_CONFIG: missing })).toThrow(/GASWATCH_CONFIG: cannot read/);
    const broken = join(tmp.dir, 'broken.yaml');
    writeFileSync(broken, 'sites: [\n');
    expect(() => loadConfig({ GASWATCH_CONFIG: broken })).toThrow(/not valid YAML/);
    const wrong = join(tmp.dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ sites: 'everywhere' }));
    expect(() => loadConfig({ GASWATCH_CONFIG: wrong })).toThrow(/GASWATCH_CONFIG .*wrong\.json sites/);
  });

  it(`fills \${NAME} in the GASWATCH_CONFIG file from the environment, and lists each one unset`, () => {
    const file = join(tmp.dir, 'env-refs.yaml');
    writeFileSync(
      file,
      [
        'channels:',
        '  duty-room:',
        '    type: webhook',
        `    url: \${HOOK_URL}`,
        `    secret: "\${HOOK_SECRET}"`,
        `    headers: { X-Tenant: "site-\${TENANT}" }`,
        '',
      ].join('\n'),
    );
    const env = {
      GASWATCH_CONFIG: file,
      HOOK_URL: 'https://relay.internal/hook',
      HOOK_SECRET: 'a-secret-of-32-characters-or-so!',
      TENANT: 'liujiang',
    };
    expect(loadConfig(env).gaswatch.channels['duty-room']).toMatchObject({
      url: 'https://relay.internal/hook',
      secret: 'a-secret-of-32-characters-or-so!',
      headers: { 'X-Tenant': 'site-liujiang' },
    });
    // Empty counts as unset, as for the server's own variables: a channel with an empty secret
    // would only fail at the first alarm.
    let error: unknown;
    try {
      loadConfig({ ...env, HOOK_SECRET: '', TENANT: undefined });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      `GASWATCH_CONFIG ${file} channels.duty-room.secret: \${HOOK_SECRET} is not set in the environment`,
      `GASWATCH_CONFIG ${file} channels.duty-room.headers.X-Tenant: \${TENANT} is not set in the environment`,
    ]);
  });

  it('a rule option the alarm rules refuse stops the server with exit 2, listed with its path, before anything opens', async () => {
    const dir = join(tmp.dir, 'bad-rule-option');
    mkdirSync(dir);
    const file = join(dir, 'gaswatch.yaml');
    writeFileSync(
      file,
      [
        'sites:',
        '  x:',
        '    alarms:',
        '      combustible:',
        '        options:',
        '          thresholds: { "LEL:lo": 10 }',
        'devices:',
        '  pit-4gas:',
        '    options:',
        '      stelTwa: [{ gas: O2, twaMgM3: 5 }]',
        '',
      ].join('\n'),
    );
    const dataDir = join(dir, 'data');
    const { code, stderr } = await runServer({ GASWATCH_CONFIG: file, DATA_DIR: dataDir });
    expect(code).toBe(2);
    expect(stderr).toContain(
      `GASWATCH_CONFIG ${file} sites.x.alarms.combustible.options.thresholds: "LEL:lo" is not a condition of profile combustible`,
    );
    expect(stderr).toMatch(new RegExp(`GASWATCH_CONFIG ${file} devices\\.pit-4gas\\.options: .*O2`));
    expect(stderr).not.toMatch(/Unhandled|at .*\.ts:\d+/);
    // Neither the store nor the ingest journal was opened.
    expect(existsSync(dataDir) ? readdirSync(dataDir) : []).toEqual([]);
  }, 30_000);

  it('a config that still lists users (acknowledgers before accounts) stops the server, saying where accounts live now', async () => {
    const dir = join(tmp.dir, 'old-users');
    mkdirSync(dir);
    const file = join(dir, 'gaswatch.yaml');
    writeFileSync(file, 'users:\n  - { id: wang-duty, name: Wang (duty officer), role: operator }\n');
    const { code, stderr } = await runServer({ GASWATCH_CONFIG: file, DATA_DIR: join(dir, 'data') });
    expect(code).toBe(2);
    expect(stderr).toContain(
      `GASWATCH_CONFIG ${file} users: "users" is no longer read: accounts live in the database now, with a password and a role. Create the first admin with "gaswatch-server admin create NAME"`,
    );
    expect(stderr).not.toMatch(/Unhandled|at .*\.ts:\d+/);
  }, 30_000);

  it('an SMS channel is accepted now the chain sends through it; a step naming no known channel stops the server', async () => {
    const dir = join(tmp.dir, 'sms-channel');
    mkdirSync(dir);
    const file = join(dir, 'gaswatch.yaml');
    writeFileSync(
      file,
      [
        'channels:',
        '  duty-sms:',
        '    type: twilio-sms',
        `    accountSid: AC${'0'.repeat(32)}`,
        `    authToken: ${'f'.repeat(32)}`,
        "    from: '+15005550006'",
        'notify:',
        '  household:',
        '    steps:',
        '      - { household: [occupant, family], channels: [duty-sms] }',
        '      - { household: [grid_worker], channels: [duty-call, duty-sms] }',
        '',
      ].join('\n'),
    );
    const { code, stderr } = await runServer({ GASWATCH_CONFIG: file, DATA_DIR: join(dir, 'data') });
    expect(code).toBe(2);
    expect(stderr).toContain(
      'notify.household.steps.1.channels.0: unknown channel "duty-call" (known: duty-sms)',
    );
    expect(stderr).not.toContain('duty-sms.type');
  });

  it('the server process exits non-zero on a bad config, listing every error', async () => {
    const proc = startTsNode(SERVER_MAIN, [], {
      env: { PORT: '-1', INFLUX_URL: 'ftp://x', DATA_DIR: tmp.dir },
    });
    const code = await proc.exited;
    expect(code).not.toBe(0);
    expect(proc.output()).toMatch(/PORT:/);
    expect(proc.output()).toMatch(/INFLUX_URL:/);
  });
});
