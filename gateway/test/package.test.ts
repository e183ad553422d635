/**
 * The Raspberry Pi install (packaging/build-deb.mjs): the .deb for this machine's architecture is
 * built, its files, control data and unit are checked (systemd-analyze verify), it is installed
 * into an empty root with the real dpkg, updated and rolled back with an outbox and an edited
 * config that must survive, removed and purged; the unit's ExecStart command line runs the
 * packaged bundle against a firmware-sim detector and an aedes broker while a unix datagram
 * socket stands in for systemd's NOTIFY_SOCKET; and the armhf and arm64 packages carry the
 * addon binaries that node-gyp-build will load on those machines.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevice, createModbusTcpServer } from '@gaswatch/firmware-sim';
import { decodeMessage } from '@gaswatch/shared';
import { type Proc, startProcess, waitFor } from '@gaswatch/shared/testing';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig, parseConfig } from '../src/config.js';
import type { ConfigError } from '../src/errors.js';
import { startAedes } from './helpers/broker.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(pkgDir, '..');
const builder = join(pkgDir, 'packaging', 'build-deb.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'gw-deb-'));
const hostArch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
const LIB = '/usr/lib/gaswatch-gateway';
const UNIT = '/usr/lib/systemd/system/gaswatch-gateway.service';

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: 'pipe' });

function buildDeb(arch: string, version = '0.1.0'): string {
  const out = run(process.execPath, [
    builder,
    '--arch',
    arch,
    '--version',
    version,
    '--out',
    join(tmp, 'out'),
  ]);
  const deb = out.match(/^built (\S+\.deb)/m)?.[1];
  if (!deb) throw new Error(`no package built: ${out}`);
  return deb;
}

/** The package's files unpacked into a directory of their own. */
function unpack(deb: string): string {
  const dir = mkdtempSync(join(tmp, 'x-'));
  run('dpkg-deb', ['-x', deb, dir]);
  return dir;
}

/** The same package under another version (an update to install, then roll back from). */
function withVersion(from: string, version: string): string {
  const dir = mkdtempSync(join(tmp, 'v-'));
  run('dpkg-deb', ['-R', from, dir]);
  const control = join(dir, 'DEBIAN/control');
  writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${version}`));
  const out = join(tmp, `gaswatch-gateway_${version}.deb`);
  run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', dir, out]);
  return out;
}

/** An empty system for `dpkg --root`: a dpkg database, root and the dialout group. */
function emptyRoot(): string {
  const root = mkdtempSync(join(tmp, 'root-'));
  mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
  mkdirSync(join(root, 'var/lib/dpkg/updates'), { recursive: true });
  mkdirSync(join(root, 'etc'));
  for (const f of ['status', 'available']) writeFileSync(join(root, 'var/lib/dpkg', f), '');
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\ndialout:x:20:\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n');
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\ndialout:*::\n');
  return root;
}

/**
 * Runs dpkg on that root. Maintainer scripts run without chroot (they write under $DPKG_ROOT);
 * nodejs and passwd are not in the empty root's database, hence --force-depends.
 */
const dpkg = (root: string, ...args: string[]) =>
  run('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--force-confold', ...args]);

/** The ELF machine field of a binary (0x3e x86-64, 0xb7 AArch64, 0x28 ARM). */
function elfMachine(file: string): number {
  const buf = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  readSync(fd, buf, 0, 20, 0);
  expect(buf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  return buf.readUInt16LE(18);
}

const ELF: Record<string, number> = { amd64: 0x3e, arm64: 0xb7, armhf: 0x28 };
const NODE_ARCH: Record<string, string> = { amd64: 'x64', arm64: 'arm64', armhf: 'arm' };

let deb: string;
let files: string;
const procs: Proc[] = [];

beforeAll(() => {
  deb = buildDeb(hostArch);
  files = unpack(deb);
});
afterAll(async () => {
  for (const p of procs) await p.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe(`the ${hostArch} package`, () => {
  it('holds the bundle, its runtime packages, the unit, the config template and control data', () => {
    const control = run('dpkg-deb', ['-f', deb]);
    expect(control).toMatch(/^Package: gaswatch-gateway$/m);
    expect(control).toMatch(new RegExp(`^Architecture: ${hostArch}$`, 'm'));
    expect(control).toMatch(/^Depends: nodejs \(>= 20\)/m);
    expect(run('dpkg-deb', ['--ctrl-tarfile', deb]).length).toBeGreaterThan(0);
    const conffiles = execFileSync('sh', ['-c', `dpkg-deb -I "${deb}" conffiles`], { encoding: 'utf8' });
    expect(conffiles.trim()).toBe('/etc/gaswatch/gateway.yaml');

    expect(existsSync(join(files, LIB, 'dist/src/main.js'))).toBe(true);
    expect(existsSync(join(files, LIB, 'dist/profiles/gaswatch-co.yaml'))).toBe(true);
    for (const ext of ['classic-level', 'serialport', 'pino', 'ws', 'socks'])
      expect(existsSync(join(files, LIB, 'node_modules', ext, 'package.json')), ext).toBe(true);
    // One source of truth: the unit in the repository is the unit in the package.
    expect(readFileSync(join(files, UNIT), 'utf8')).toBe(
      readFileSync(join(repoRoot, 'docs/deploy/gaswatch-gateway.service'), 'utf8'),
    );
    expect(readFileSync(join(files, 'etc/gaswatch/gateway.yaml'), 'utf8')).toBe(
      readFileSync(join(pkgDir, 'packaging/gateway.yaml'), 'utf8'),
    );
    // Only this architecture's glibc addon binaries, and no node-gyp build of the build machine.
    for (const native of ['classic-level', '@serialport/bindings-cpp']) {
      const dir = join(files, LIB, 'node_modules', native);
      expect(readdirSync(join(dir, 'prebuilds'))).toEqual([`linux-${NODE_ARCH[hostArch]}`]);
      expect(existsSync(join(dir, 'build'))).toBe(false);
      for (const f of readdirSync(join(dir, 'prebuilds', `linux-${NODE_ARCH[hostArch]}`))) {
        expect(f).not.toContain('.musl.');
      }
    }
    for (const script of ['postinst', 'prerm', 'postrm'])
      expect(run('dpkg-deb', ['-I', deb, script])).toMatch(/^#!\/bin\/sh/);
  });

  it('ships a unit systemd accepts: notify with a watchdog, restarts, the gaswatch user in dialout', () => {
    const unit = join(files, UNIT);
    // Warnings (an unknown key, a bad value) go to stderr with the exit status still 0.
    const verify = execFileSync('sh', ['-c', `systemd-analyze verify --man=no "${unit}" 2>&1`], {
      encoding: 'utf8',
    });
    expect(verify.trim()).toBe('');
    const text = readFileSync(unit, 'utf8');
    const key = (k: string) => text.match(new RegExp(`^${k}=(.*)$`, 'm'))?.[1];
    expect(key('Type')).toBe('notify');
    expect(key('NotifyAccess')).toBe('all');
    expect(Number(key('WatchdogSec'))).toBeGreaterThan(0);
    expect(key('Restart')).toBe('always');
    expect(key('RestartPreventExitStatus')).toBe('78');
    expect(key('User')).toBe('gaswatch');
    expect(key('SupplementaryGroups')).toBe('dialout');
    expect(key('StateDirectory')).toBe('gaswatch');
    expect(key('ProtectSystem')).toBe('strict');
    expect(key('ExecStart')).toContain(`${LIB}/dist/src/main.js --config /etc/gaswatch/gateway.yaml`);
    const main = key('ExecStart')!
      .split(' ')
      .find((a) => a.startsWith(LIB))!;
    expect(existsSync(join(files, main))).toBe(true);
  });

  it('refuses its config template until every CHANGE-ME is set, then takes it', () => {
    const template = readFileSync(join(files, 'etc/gaswatch/gateway.yaml'), 'utf8');
    let issues: string[] = [];
    try {
      parseConfig(parse(template), '/etc/gaswatch/gateway.yaml');
    } catch (err) {
      issues = (err as ConfigError).issues;
    }
    expect(issues).toContain("gatewayId: still CHANGE-ME (the installed template's placeholder): set it");
    expect(issues).toContain("buses.0.path: still CHANGE-ME (the installed template's placeholder): set it");
    expect(issues.some((i) => i.startsWith('gatewayId: must match'))).toBe(false);

    const dir = mkdtempSync(join(tmp, 'etc-'));
    writeFileSync(join(dir, 'mqtt-password'), 'secret\n');
    const edited = template
      .replace('gatewayId: CHANGE-ME', 'gatewayId: pi-gw1')
      .replace('passwordFile: /etc/gaswatch/mqtt-password', `passwordFile: ${join(dir, 'mqtt-password')}`)
      .replaceAll('CHANGE-ME', 'site-1');
    writeFileSync(join(dir, 'gateway.yaml'), edited);
    const cfg = loadConfig(join(dir, 'gateway.yaml'));
    expect(cfg.gatewayId).toBe('pi-gw1');
    expect(cfg.outbox.dir).toBe('/var/lib/gaswatch/outbox');
    expect(cfg.uplink.username).toBe('pi-gw1');
  });

  it('installs, updates and rolls back keeping the outbox and the edited config; remove keeps them, purge does not', () => {
    const root = emptyRoot();
    dpkg(root, '-i', deb);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toMatch(
      /^gaswatch:x:\d+:\d+:[^:]*:\/var\/lib\/gaswatch:\/usr\/sbin\/nologin$/m,
    );
    expect(readFileSync(join(root, 'etc/group'), 'utf8')).toMatch(/^dialout:x:20:gaswatch$/m);
    const [, uid, gid] = readFileSync(join(root, 'etc/passwd'), 'utf8').match(/^gaswatch:x:(\d+):(\d+):/m)!;
    const state = statSync(join(root, 'var/lib/gaswatch'));
    expect([state.uid, state.gid, state.mode & 0o777]).toEqual([Number(uid), Number(gid), 0o750]);
    const conf = statSync(join(root, 'etc/gaswatch/gateway.yaml'));
    expect([conf.uid, conf.gid, conf.mode & 0o777]).toEqual([0, Number(gid), 0o640]);
    expect(run('dpkg', [`--root=${root}`, '-s', 'gaswatch-gateway'])).toMatch(
      /^Status: install ok installed$/m,
    );

    // A site's edits and an outbox with readings not yet sent.
    const yaml = join(root, 'etc/gaswatch/gateway.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('gatewayId: CHANGE-ME', 'gatewayId: pi-gw1'));
    const edited = readFileSync(yaml, 'utf8');
    mkdirSync(join(root, 'var/lib/gaswatch/outbox'));
    writeFileSync(join(root, 'var/lib/gaswatch/outbox/000005.log'), 'readings not yet sent');

    const newer = withVersion(deb, '0.1.1');
    dpkg(root, '-i', newer);
    expect(run('dpkg', [`--root=${root}`, '-s', 'gaswatch-gateway'])).toMatch(/^Version: 0\.1\.1$/m);
    dpkg(root, '-i', deb); // the rollback: dpkg installs the older version over the newer one
    expect(run('dpkg', [`--root=${root}`, '-s', 'gaswatch-gateway'])).toMatch(/^Version: 0\.1\.0$/m);
    expect(readFileSync(yaml, 'utf8')).toBe(edited);
    expect(readFileSync(join(root, 'var/lib/gaswatch/outbox/000005.log'), 'utf8')).toBe(
      'readings not yet sent',
    );
    // One user, however often configured.
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8').match(/^gaswatch:/gm)).toHaveLength(1);

    dpkg(root, '--remove', 'gaswatch-gateway');
    expect(existsSync(join(root, LIB))).toBe(false);
    expect(existsSync(join(root, UNIT))).toBe(false);
    expect(readFileSync(yaml, 'utf8')).toBe(edited);
    expect(existsSync(join(root, 'var/lib/gaswatch/outbox/000005.log'))).toBe(true);

    dpkg(root, '--purge', 'gaswatch-gateway');
    expect(existsSync(yaml)).toBe(false);
    expect(existsSync(join(root, 'var/lib/gaswatch'))).toBe(false);
  });

  it("runs the unit's ExecStart: ready and watchdog pings to systemd, a reading published, a missing adapter waited for", async () => {
    const unit = readFileSync(join(files, UNIT), 'utf8');
    const exec = unit.match(/^ExecStart=(.*)$/m)![1]!.split(/\s+/);
    const env = Object.fromEntries(
      [...unit.matchAll(/^Environment=([^=\s]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
    );
    // systemd's side of NOTIFY_SOCKET: a unix datagram socket printing each message it receives.
    const sock = join(tmp, 'notify.sock');
    const listener = startProcess(
      '/usr/bin/python3',
      [
        '-c',
        [
          'import socket, sys',
          's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
          's.bind(sys.argv[1])',
          'print("listening", flush=True)',
          'while True:',
          '    data = s.recv(4096)',
          '    print("MSG " + data.decode().replace("\\n", " | "), flush=True)',
        ].join('\n'),
        sock,
      ],
      { name: 'notify' },
    );
    procs.push(listener);
    await listener.waitForOutput(/listening/);

    const broker = await startAedes();
    const device = createDevice({ id: 'co1', profile: 'gaswatch-co', unit: 1 });
    device.setConcentration('CO', 17);
    const server = createModbusTcpServer({ devices: [device], host: '127.0.0.1', port: 0 });
    const { port } = await server.start();
    const sub = mqtt.connect(broker.url);
    try {
      const readings: unknown[] = [];
      sub.on('message', (topic, payload) => readings.push(decodeMessage(topic, payload)));
      await sub.subscribeAsync('gaswatch/v1/pi-gw1/+/reading', { qos: 1 });
      const missing = join(tmp, 'serial-by-id-usb-FTDI_FT232R_A10KXYZ-if00-port0');
      const cfg = join(tmp, 'gateway.yaml');
      writeFileSync(
        cfg,
        stringify({
          gatewayId: 'pi-gw1',
          uplink: { url: broker.url },
          outbox: { dir: join(tmp, 'var-lib-gaswatch', 'outbox') },
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
            {
              id: 'rs485-0',
              type: 'modbus-rtu',
              path: missing,
              devices: [
                { id: 'co2', unit: 1, profile: 'gaswatch-co', pollIntervalS: 1, site: 's', location: 'l' },
              ],
            },
          ],
        }),
      );
      // The ExecStart argv with the package's files where dpkg would have put them.
      const argv = exec.map((a) =>
        a === '/etc/gaswatch/gateway.yaml' ? cfg : a.startsWith(LIB) ? join(files, a) : a,
      );
      const node = existsSync(argv[0]!) ? argv[0]! : process.execPath;
      const gw = startProcess(node, argv.slice(1), {
        name: 'gateway',
        env: { ...env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: '1000000' },
      });
      procs.push(gw);
      await waitFor(() => readings.length > 0, 'a reading from the packaged gateway', 20_000);
      expect(readings[0]).toMatchObject({ ok: true, payload: { values: { CO: 17 }, status: 'ok' } });
      await listener.waitForOutput(/MSG READY=1/, 15_000);
      await listener.waitForOutput(/MSG .*WATCHDOG=1/, 15_000);
      // systemctl status shows the bus waiting for its adapter, and the detector that answers.
      await listener.waitForOutput(
        /STATUS=.*bus rs485-0 waiting for .*A10KXYZ.*1\/2 detectors answering/,
        15_000,
      );
      expect(gw.output()).toMatch(/serial adapter not present; waiting for it/);
      expect(gw.output().match(/serial adapter not present/g)).toHaveLength(1);
      await gw.stop();
      expect(await gw.exited).toBe(0);
      expect(listener.output()).toMatch(/MSG STOPPING=1/);
    } finally {
      await sub.endAsync();
      await server.stop();
      await broker.stop();
    }
  });
});

describe('the arm packages', () => {
  // Raspberry Pi OS 64-bit is arm64; 32-bit is armhf, where node reports arm_version 7 (6 for a
  // Pi 1/Zero build of node). node-gyp-build reads the target from these variables.
  const cases = [
    { arch: 'arm64', machine: 'Pi 3/4/5, 64-bit OS', env: { npm_config_arch: 'arm64' } },
    { arch: 'armhf', machine: 'Pi 2/3/4, 32-bit OS', env: { npm_config_arch: 'arm', ARM_VERSION: '7' } },
    { arch: 'armhf', machine: 'Pi 1/Zero (armv6 node)', env: { npm_config_arch: 'arm', ARM_VERSION: '6' } },
  ];
  const unpacked = new Map<string, string>();

  it.each(cases)(
    '$arch on a $machine: node-gyp-build finds both addons for that machine',
    ({ arch, env }) => {
      if (!unpacked.has(arch)) unpacked.set(arch, unpack(buildDeb(arch)));
      const root = unpacked.get(arch)!;
      for (const native of ['classic-level', '@serialport/bindings-cpp']) {
        const dir = join(root, LIB, 'node_modules', native);
        // What the addon's own node-gyp-build would load on that machine (resolved, not loaded).
        const picked = execFileSync(
          process.execPath,
          [
            '-e',
            `const { createRequire } = require('node:module');
           const r = createRequire(${JSON.stringify(join(dir, 'package.json'))});
           process.stdout.write(r('node-gyp-build').path(${JSON.stringify(dir)}));`,
          ],
          { encoding: 'utf8', env: { ...process.env, ...env } },
        );
        expect(picked.startsWith(join(dir, 'prebuilds'))).toBe(true);
        expect(elfMachine(picked)).toBe(ELF[arch]);
        if (env.ARM_VERSION) expect(picked).toContain(`armv${env.ARM_VERSION}`);
      }
    },
  );
});
