// The production bundle (scripts/build.mjs) runs on plain node with the shipped flags: a broken
// bundle (a dependency that does not survive bundling, a lost profile or package.json) fails here.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevice, createModbusTcpServer } from '@gaswatch/firmware-sim';
import { decodeMessage } from '@gaswatch/shared';
import { type Proc, startProcess, waitFor } from '@gaswatch/shared/testing';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startAedes } from './helpers/broker.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(pkg, '..');
// Inside the package, so the external modules (classic-level, serialport, pino) resolve from node_modules.
const out = join(pkg, `.test-build-${process.pid}`);
const tmp = mkdtempSync(join(tmpdir(), 'gw-bundle-'));

/** The node flags of the systemd unit's ExecStart. */
function unitFlags(): string[] {
  const unit = readFileSync(join(root, 'docs', 'deploy', 'gaswatch-gateway.service'), 'utf8');
  const exec = unit.match(/^ExecStart=(.*)$/m)?.[1]?.split(/\s+/) ?? [];
  return exec.slice(
    1,
    exec.findIndex((a) => a.endsWith('dist/src/main.js')),
  );
}

/** The unit's Environment= settings (NAME=value), which the Dockerfile and npm start carry too. */
function unitEnv(): string[] {
  const unit = readFileSync(join(root, 'docs', 'deploy', 'gaswatch-gateway.service'), 'utf8');
  return [...unit.matchAll(/^Environment=(.*)$/gm)].map((m) => m[1]!);
}

const procs: Proc[] = [];
function runBundle(args: string[]): Proc {
  const p = startProcess(process.execPath, [...unitFlags(), join(out, 'src', 'main.js'), ...args], {
    name: 'bundle',
    env: Object.fromEntries(unitEnv().map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
  });
  procs.push(p);
  return p;
}

beforeAll(() => {
  execFileSync(process.execPath, [join(pkg, 'scripts', 'build.mjs'), out], { stdio: 'pipe' });
});
afterAll(async () => {
  for (const p of procs) await p.stop();
  rmSync(out, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

describe('production bundle', () => {
  it('ships the same node flags in the systemd unit, the Dockerfile and npm start', () => {
    const flags = unitFlags();
    expect(flags).toContain('--lite-mode');
    const docker = readFileSync(join(pkg, 'Dockerfile'), 'utf8').match(/^ENTRYPOINT (.*)$/m)?.[1];
    expect(JSON.parse(docker ?? '[]')).toEqual(['node', ...flags, 'gateway/dist/src/main.js']);
    const dockerEnv = [...readFileSync(join(pkg, 'Dockerfile'), 'utf8').matchAll(/^ENV (.*)$/gm)].map(
      (m) => m[1],
    );
    expect(dockerEnv).toEqual(unitEnv());
    const start = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).scripts.start as string;
    expect(start).toBe([...unitEnv(), 'node', ...flags, 'dist/src/main.js'].join(' '));
  });

  it('rejects a bad config file with the clear error and exit status 78', async () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'gatewayId: Not Valid\nbuses: []\n');
    const p = runBundle(['--config', bad]);
    const code = await p.exited;
    expect(code).toBe(78);
    expect(p.output()).toContain(`invalid gateway config ${bad}`);
    expect(p.output()).toMatch(/- gatewayId: /);
    expect(p.output()).toMatch(/- uplink: /);
    expect(p.output()).not.toMatch(/Warning|ERR_MODULE_NOT_FOUND/);
  });

  it('polls a detector and publishes its readings', async () => {
    const broker = await startAedes();
    const device = createDevice({ id: 'co1', profile: 'gaswatch-co', unit: 1 });
    device.setConcentration('CO', 42);
    const server = createModbusTcpServer({ devices: [device], host: '127.0.0.1', port: 0 });
    const { port } = await server.start();
    const sub = mqtt.connect(broker.url);
    try {
      const readings: unknown[] = [];
      sub.on('message', (topic, payload) => readings.push(decodeMessage(topic, payload)));
      await sub.subscribeAsync('gaswatch/v1/gw-bundle/+/reading', { qos: 1 });
      const cfg = join(tmp, 'gw.yaml');
      writeFileSync(
        cfg,
        stringify({
          gatewayId: 'gw-bundle',
          uplink: { url: broker.url },
          outbox: { dir: join(tmp, 'outbox') },
          buses: [
            {
              id: 'tcp-0',
              type: 'modbus-tcp',
              host: '127.0.0.1',
              port,
              devices: [
                { id: 'co1', unit: 1, profile: 'gaswatch-co', pollIntervalS: 1, site: 's', location: 'l' },
              ],
            },
          ],
        }),
      );
      const p = runBundle(['--config', cfg]);
      await p.waitForOutput(/"msg":"started"/, 20_000);
      await waitFor(() => readings.length > 0, 'a reading from the bundle', 20_000);
      expect(readings[0]).toMatchObject({ ok: true, address: { kind: 'reading', dev: 'co1' } });
      expect(readings[0]).toMatchObject({ payload: { values: { CO: 42 }, status: 'ok' } });
      // The shipped flags include --expose-gc, which the heap trim needs (docs/gateway.md "Memory").
      expect(p.output()).not.toContain('heap trim off');
      await p.stop();
    } finally {
      await sub.endAsync();
      await server.stop();
      await broker.stop();
    }
  });
});
