import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestCa, startTsNode } from '@gaswatch/shared/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, readPasswordFile } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

const here = dirname(fileURLToPath(import.meta.url));
const example = join(here, '..', 'gateway.example.yaml');
const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function issuesOf(f: string): string[] {
  try {
    loadConfig(f);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('gateway config', () => {
  it('the documented example is valid, with defaults filled in and paths resolved', () => {
    const cfg = loadConfig(example);
    expect(cfg.gatewayId).toBe('liujiang-12-gw1');
    expect(cfg.buses.map((b) => b.type)).toEqual(['modbus-rtu', 'modbus-tcp', 'winsen']);
    expect(cfg.outbox.dir).toBe(join(here, '..', 'data', 'outbox'));
    expect(cfg.buses[0]!.devices[0]!.localAlarms).toBe(true);
  });

  it('lists every error with its path and reason', () => {
    const doc = parse(readFileSync(example, 'utf8'));
    doc.gatewayId = 'Bad Id';
    doc.buses[0].baudRate = 'fast';
    doc.buses[0].devices[1].unit = 300;
    doc.buses[1].devices[0].pollIntervalS = -1;
    delete doc.buses[2].devices[0].site;
    doc.uplink.url = 'http://x';
    doc.clock = { referenceTopic: 'site/#/time' };
    doc.extra = 1;
    const issues = issuesOf(write('bad.yaml', JSON.stringify(doc)));
    const text = issues.join('\n');
    expect(text).toMatch(/^gatewayId: must match/m);
    expect(text).toMatch(/^buses\.0\.baudRate: .*number/m);
    expect(text).toMatch(/^buses\.0\.devices\.1\.unit: .*247/m);
    expect(text).toMatch(/^buses\.1\.devices\.0\.pollIntervalS: .*>0/m);
    expect(text).toMatch(/^buses\.2\.devices\.0\.site: /m);
    expect(text).toMatch(/^uplink\.url: must be an mqtt/m);
    expect(text).toMatch(/^clock\.referenceTopic: must be an MQTT topic name/m);
    expect(text).toMatch(/extra/);
    expect(issues.length).toBeGreaterThanOrEqual(8);
  });

  it('names duplicate ids and units, unknown profiles and a profile on the wrong bus', () => {
    const doc = parse(readFileSync(example, 'utf8'));
    doc.buses[0].devices[1].unit = 1;
    doc.buses[1].devices[0].id = 'co-bathroom';
    expect(issuesOf(write('dup.yaml', JSON.stringify(doc))).join('\n')).toMatch(
      /buses\.0\.devices\.1\.unit: unit 1 used twice[\s\S]*buses\.1\.devices\.0\.id: duplicate device id/,
    );
    const doc2 = parse(readFileSync(example, 'utf8'));
    doc2.buses[0].devices[0].profile = 'no-such-detector';
    doc2.buses[2].devices[0].profile = 'gaswatch-co';
    const text = issuesOf(write('profiles.yaml', JSON.stringify(doc2))).join('\n');
    expect(text).toMatch(/buses\.0\.devices\.0\.profile: unknown profile "no-such-detector"/);
    expect(text).toMatch(/buses\.2\.devices\.0\.profile: profile "gaswatch-co" is a modbus profile/);
  });

  it('MQTT login: the username is the gatewayId, the password may come from a file; a wrong name or certificate is refused', () => {
    const doc = parse(readFileSync(example, 'utf8'));
    write('mqtt-password', 'Xk3pT9vWq2mZr7bN4cY8d\nignored second line\n');
    doc.uplink = { url: 'mqtts://broker:8883', passwordFile: 'mqtt-password' };
    const cfg = loadConfig(write('pwfile.yaml', JSON.stringify(doc)));
    expect(cfg.uplink.username).toBe('liujiang-12-gw1');
    expect(cfg.uplink.passwordFile).toBe(join(dir, 'mqtt-password'));
    expect(readPasswordFile(cfg.uplink.passwordFile ?? '')).toBe('Xk3pT9vWq2mZr7bN4cY8d');
    expect(cfg.uplink.password).toBeUndefined();
    // Without a password the username stays unset (anonymous, or a client certificate).
    doc.uplink = { url: 'mqtt://broker:1883' };
    expect(loadConfig(write('anon.yaml', JSON.stringify(doc))).uplink.username).toBeUndefined();

    doc.uplink = {
      url: 'mqtt://broker:1883',
      username: 'gw-other',
      password: 'a',
      passwordFile: 'mqtt-password',
    };
    expect(issuesOf(write('both.yaml', JSON.stringify(doc)))).toEqual([
      'uplink.passwordFile: give password or passwordFile, not both',
      'uplink.username: must be the gatewayId "liujiang-12-gw1": the broker lets a gateway publish only under its own id',
    ]);
    doc.uplink = { url: 'mqtt://broker:1883', passwordFile: 'no-such-file' };
    expect(issuesOf(write('nofile.yaml', JSON.stringify(doc)))[0]).toMatch(
      /^uplink\.passwordFile: cannot read .*no-such-file: ENOENT/,
    );
    write('empty-password', '\n');
    doc.uplink = { url: 'mqtt://broker:1883', passwordFile: 'empty-password' };
    expect(issuesOf(write('empty.yaml', JSON.stringify(doc)))[0]).toMatch(
      /^uplink\.passwordFile: .* is empty$/,
    );

    const ca = createTestCa(join(dir, 'pki'), 'site');
    const mine = ca.issue('liujiang-12-gw1');
    doc.uplink = { url: 'mqtts://broker:8883', ca: ca.cert, ...mine };
    expect(loadConfig(write('cert.yaml', JSON.stringify(doc))).uplink.cert).toBe(mine.cert);
    doc.uplink = { url: 'mqtts://broker:8883', ca: ca.cert, ...ca.issue('gw-other') };
    expect(issuesOf(write('other-cert.yaml', JSON.stringify(doc)))).toEqual([
      'uplink.cert: its CN is "gw-other", not the gatewayId "liujiang-12-gw1" it logs in as',
    ]);
  });

  it('reports YAML syntax errors and missing files', () => {
    expect(issuesOf(write('syntax.yaml', 'gatewayId: [unclosed\n'))[0]).toMatch(/^\(yaml\): /);
    expect(issuesOf(join(dir, 'missing.yaml'))[0]).toMatch(/^\(file\): ENOENT/);
  });

  it('the gateway refuses to start on a bad config, naming path and reason, with a non-zero exit', async () => {
    const f = write(
      'cli.yaml',
      'gatewayId: gw1\nuplink: { url: mqtt://127.0.0.1:1 }\noutbox: { dir: ./o, maxReadings: 1 }\nbuses: []\n',
    );
    const proc = startTsNode(join(here, '..', 'src', 'main.ts'), ['--config', f]);
    const code = await proc.exited;
    expect(code).not.toBe(0);
    expect(proc.output()).toMatch(/outbox\.maxReadings: .*10/);
    expect(proc.output()).toMatch(/buses: /);
    expect(proc.output()).not.toMatch(/"msg":"started"/);
  });
});
