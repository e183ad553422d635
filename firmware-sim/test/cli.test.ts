// gaswatch-sim as a user runs it: listing, a tiny constant scenario on a TCP port, the "listening"
// lines other tools parse, clean stop on SIGTERM, and clear errors for bad scenario files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type Proc, startPtyPair, startTsNode } from '@gaswatch/shared/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { listBuiltinScenarios } from '../src/scenario/load.js';
import { mbpoll } from './helpers.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gaswatch-sim-cli-'));
const procs: Proc[] = [];
const run = (args: string[]) => {
  const p = startTsNode(MAIN, args);
  procs.push(p);
  return p;
};
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function listening(p: Proc): Array<Record<string, unknown>> {
  return p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => o.msg === 'listening');
}

it('--list prints every built-in scenario on one line each', async () => {
  const p = run(['--list']);
  expect(await p.exited).toBe(0);
  const lines = p.output().trim().split('\n');
  const builtins = listBuiltinScenarios();
  expect(lines).toHaveLength(builtins.length);
  for (const [i, s] of builtins.entries()) expect(lines[i]).toMatch(new RegExp(`^${s.name}\\s+\\S`));
});

describe('a tiny constant scenario file', () => {
  it('holds CO at 400 ppm on its TCP port, logs one "listening" line, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const file = join(dir, 'co400.yaml');
    writeFileSync(
      file,
      `name: co400
description: one household CO detector held at 400 ppm
devices:
  - { id: co, profile: gaswatch-co, unit: 1, constant: { CO: 400 } }
transports:
  - { type: modbus-tcp, port: ${port}, devices: [co] }
`,
    );
    const p = run(['--scenario', file, '--speed', '60', '--status-every', '0.2']);
    await p.waitForOutput(/"msg":"listening"/);
    await p.waitForOutput(/"device":"co".*"values":\{"CO":400\}.*"msg":"device"/);
    expect(listening(p)).toEqual([
      expect.objectContaining({
        transport: 'modbus-tcp',
        host: '127.0.0.1',
        port,
        units: [1],
        devices: ['co'],
      }),
    ]);
    const r = await mbpoll([
      '-m',
      'tcp',
      '-p',
      String(port),
      '-a',
      '1',
      '-t',
      '4',
      '-r',
      '1',
      '-c',
      '2',
      '127.0.0.1',
    ]);
    expect(r.values.get(1)).toBe(4000);
    await p.stop('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.output()).toMatch(/"msg":"stopping"/);
  });
});

it('--tcp-port 0 and --serial override the scenario: one listening line per transport', async () => {
  const pty = await startPtyPair();
  try {
    const p = run(['--scenario', 'reference', '--tcp-port', '0', '--serial', pty.a]);
    await p.waitForOutput(/"transport":"winsen"/);
    const l = listening(p);
    expect(l).toHaveLength(2);
    expect(l[0]).toMatchObject({
      transport: 'modbus-tcp',
      units: [1, 2, 3, 4],
      devices: ['ref-co', 'ref-4gas', 'ref-lel', 'ref-midas'],
    });
    expect(l[0]!.port).not.toBe(1502);
    expect(l[1]).toMatchObject({ transport: 'winsen', path: pty.a, devices: ['ref-ze07'] });
    await p.stop('SIGINT');
    expect(await p.exited).toBe(0);
  } finally {
    await pty.stop();
  }
});

it('--control-port serves POST /events and GET /devices on loopback, with clear refusals', async () => {
  const p = run(['--scenario', 'sewer-entry', '--tcp-port', '0', '--control-port', '0']);
  await p.waitForOutput(/"msg":"control listening"/);
  const line = p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; url?: string })
    .find((o) => o.msg === 'control listening');
  const url = String(line?.url);
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const post = async (body: string) => {
    const r = await fetch(`${url}/events`, { method: 'POST', body });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const moved = await post(JSON.stringify({ device: 'entry-4gas', zone: 'sewer-bottom' }));
  expect(moved).toMatchObject({
    status: 200,
    body: { event: { device: 'entry-4gas', zone: 'sewer-bottom' } },
  });
  await p.waitForOutput(/"msg":"control event"/);
  expect(await post('{"device":"entry-4gas","zone":"sewer-attic"}')).toMatchObject({
    status: 400,
    body: { error: 'bad_event', issues: ['zone: no zone "sewer-attic"'] },
  });
  expect(await post('lower it')).toMatchObject({ status: 400, body: { error: 'bad_json' } });
  expect((await fetch(`${url}/events`)).status).toBe(405);
  expect((await fetch(`${url}/nothing`)).status).toBe(404);
  const devices = (await (await fetch(`${url}/devices`)).json()) as { devices: Array<{ id: string }> };
  expect(devices.devices.map((d) => d.id)).toEqual(['entry-4gas']);
  await p.stop('SIGTERM');
  expect(await p.exited).toBe(0);
});

describe('bad input', () => {
  it('a bad scenario file lists every error with its path and reason, and exits non-zero', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      `name: bad
description: broken on purpose
zones:
  - { id: room, ach: -1 }
devices:
  - { id: co, profile: gaswatch-co, unit: 300, zone: attic }
  - { id: co, profile: gaswatch-co }
transports:
  - { type: modbus-tcp, port: 70000, devices: [co, ghost] }
events:
  - { atS: 5, device: co, fault: melted }
`,
    );
    const p = run(['--scenario', file]);
    expect(await p.exited).toBe(2);
    const out = p.output();
    expect(out).toContain(file);
    for (const expected of [
      /zones\.0\.ach: .*>=\s*0/,
      /zones\.0\.volumeM3: a zone needs volumeM3/,
      /devices\.0\.unit: .*<=\s*247/,
      /transports\.0\.port: .*<=\s*65535/,
      /events\.0\.fault: /,
    ])
      expect(out).toMatch(expected);
    expect(out).not.toMatch(/"msg":"listening"/);
  });

  it('cross references are checked: unknown zone, duplicate device, device not defined', async () => {
    const file = join(dir, 'refs.yaml');
    writeFileSync(
      file,
      `name: refs
description: references that do not resolve
devices:
  - { id: co, profile: gaswatch-co, zone: attic }
  - { id: co, profile: gaswatch-co, unit: 2 }
transports:
  - { type: modbus-tcp, port: 0, devices: [co, ghost] }
`,
    );
    const p = run(['--scenario', file]);
    expect(await p.exited).toBe(2);
    const out = p.output();
    expect(out).toMatch(/devices\.0\.zone: no zone "attic"/);
    expect(out).toMatch(/devices\.1\.id: duplicate device "co"/);
    expect(out).toMatch(/transports\.0\.devices\.1: no device "ghost"/);
  });

  it('YAML that does not parse, an unknown profile, and a missing scenario are clear errors', async () => {
    const yamlFile = join(dir, 'notyaml.yaml');
    writeFileSync(yamlFile, 'name: [unclosed\n');
    const a = run(['--scenario', yamlFile]);
    expect(await a.exited).toBe(2);
    expect(a.output()).toMatch(/not valid YAML/);

    const profFile = join(dir, 'prof.yaml');
    writeFileSync(
      profFile,
      'name: p\ndescription: d\ndevices: [{ id: x, profile: no-such-detector }]\ntransports: [{ type: modbus-tcp, port: 0, devices: [x] }]\n',
    );
    const b = run(['--scenario', profFile]);
    expect(await b.exited).toBe(2);
    expect(b.output()).toMatch(/devices\.0\.profile: no built-in profile "no-such-detector"/);

    const c = run(['--scenario', 'no-such-scenario']);
    expect(await c.exited).toBe(2);
    expect(c.output()).toMatch(/built-in: .*demo/);

    const d = run(['--scenario', 'demo', '--speed', 'fast']);
    expect(await d.exited).toBe(2);
    expect(d.output()).toMatch(/--speed: invalid\n {2}- must be a number ≥ 0, got "fast"/);
  });

  it('a TCP port already in use fails at start with exit code 1 and says which', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const p = run(['--scenario', 'demo', '--tcp-port', String(port)]);
      expect(await p.exited).toBe(1);
      expect(p.output()).toMatch(/could not start the scenario/);
      expect(p.output()).toMatch(/EADDRINUSE/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('a serial path that does not exist fails at start with exit code 1', async () => {
    const p = run(['--scenario', 'rtu-bench', '--serial', join(dir, 'no-such-tty')]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/could not start the scenario/);
  });
});
