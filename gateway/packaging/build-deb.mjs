#!/usr/bin/env node
// The gateway as a Debian package for a Raspberry Pi (or any Debian/Ubuntu machine):
//
//   npm run package:gateway [-- --arch arm64|armhf|amd64] [--version 0.1.0] [--out DIR]
//   → DIR/gaswatch-gateway_<version>_<arch>.deb (default DIR: dist/ at the repository root)
//
// No network and no compiler: the production bundle (scripts/build.mjs), the packages it leaves
// external copied from this checkout's node_modules, and dpkg-deb. The two native addons,
// classic-level (the outbox's LevelDB) and serialport's @serialport/bindings-cpp, ship prebuilt
// N-API binaries for linux-x64, linux-arm64 (armv8) and linux-arm (armv6 and armv7) inside their
// npm packages; the package keeps the target's ones (glibc builds only: Raspberry Pi OS and Debian
// are glibc) and node-gyp-build picks among them at run time by process.arch and, on 32-bit ARM,
// node's arm_version (6 on a Pi 1/Zero build of node, 7 otherwise). N-API binaries do not depend
// on the node version. So an armhf or arm64 package builds on an x86 machine, as CI does.
//
// Layout (docs/gateway.md "Raspberry Pi install"):
//   /usr/lib/gaswatch-gateway/dist/          the bundle (src/main.js, profiles/, package.json)
//   /usr/lib/gaswatch-gateway/node_modules/  its external packages, target architecture only
//   /usr/lib/systemd/system/gaswatch-gateway.service   docs/deploy/gaswatch-gateway.service
//   /etc/gaswatch/gateway.yaml               the template (a conffile: updates keep your edits)
//   /usr/share/doc/gaswatch-gateway/         README, copyright
// and the maintainer scripts of packaging/debian/ (the gaswatch user, /var/lib/gaswatch).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildGateway, EXTERNAL } from '../scripts/build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const gatewayDir = join(here, '..');
const repoRoot = join(gatewayDir, '..');

export const PACKAGE = 'gaswatch-gateway';
/** Where the program lives on the target. */
export const LIB_DIR = '/usr/lib/gaswatch-gateway';

/**
 * Debian architecture → node-gyp-build's prebuilds folder, and the ELF machine of its binaries
 * (the test reads the header of what node-gyp-build would load to check the pick).
 */
export const ARCHES = {
  amd64: { prebuilds: 'linux-x64', elfMachine: 0x3e },
  arm64: { prebuilds: 'linux-arm64', elfMachine: 0xb7 },
  armhf: { prebuilds: 'linux-arm', elfMachine: 0x28 },
};

/** The directory of an installed package `name` as node resolves it from `fromDir`. */
function findPackage(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === dirname(dir)) return undefined;
  }
}

/**
 * Every package the bundle needs at run time: the EXTERNAL ones and what they depend on, each
 * mapped to where it goes under the package's node_modules (the same nesting as in this checkout,
 * so two versions of one package stay apart as npm laid them out).
 */
export function runtimePackages() {
  /** @type {Map<string, string>} destination (relative to node_modules) → source directory */
  const found = new Map();
  const visit = (name, fromDir, optional) => {
    const dir = findPackage(name, fromDir);
    if (!dir) {
      if (optional) return;
      throw new Error(`${name} (needed from ${fromDir}) is not installed: run npm ci first`);
    }
    const parts = relative(repoRoot, dir).split(sep);
    const dest = parts.slice(parts.indexOf('node_modules') + 1).join('/');
    const prev = found.get(dest);
    if (prev === dir) return;
    if (prev) throw new Error(`two packages would land in node_modules/${dest}: ${prev} and ${dir}`);
    found.set(dest, dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const name of EXTERNAL) if (!name.includes('*')) visit(name, gatewayDir, false);
  return found;
}

/** Files of an npm package that the target never reads. */
const UNUSED = /\.(d\.[mc]?ts|map|md|markdown|cc|cpp|c|h|hpp|gyp|gypi|tsbuildinfo)$/i;

/** Copies one package for `arch`: its own files only (nested node_modules are packages of their own). */
function copyPackage(src, dest, arch) {
  const native = existsSync(join(src, 'binding.gyp')) || existsSync(join(src, 'prebuilds'));
  cpSync(src, dest, {
    recursive: true,
    filter(path) {
      const rel = relative(src, path).split(sep);
      if (rel[0] === '') return true;
      if (rel[0] === 'node_modules') return false;
      if (native) {
        // build/ is a node-gyp build for the machine that ran npm ci, and node-gyp-build would
        // prefer it to the prebuilds; deps/ is C++ source (classic-level's LevelDB, 5 MB).
        if (rel[0] === 'build' || rel[0] === 'deps') return false;
        if (rel[0] === 'prebuilds' && rel[1] && rel[1] !== ARCHES[arch].prebuilds) return false;
        if (rel[0] === 'prebuilds' && rel[2]?.includes('.musl.')) return false;
      }
      return !UNUSED.test(path);
    },
  });
  if (!native) return;
  const prebuilt = join(dest, 'prebuilds', ARCHES[arch].prebuilds);
  if (!existsSync(prebuilt) || readdirSync(prebuilt).length === 0)
    throw new Error(`${basename(src)} ships no prebuilt binary for ${arch} (${ARCHES[arch].prebuilds})`);
}

/** Debian wants directories 0755 and files 0644 (0755 when executable), whatever npm left. */
function normaliseModes(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) {
      chmodSync(path, 0o755);
      normaliseModes(path);
    } else chmodSync(path, st.mode & 0o100 ? 0o755 : 0o644);
  }
}

function walkFiles(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) walkFiles(path, out);
    else out.push(path);
  }
  return out;
}

/**
 * Builds the package; returns its path. `version` defaults to gateway/package.json's, `outDir`
 * to dist/ at the repository root.
 */
export async function buildDeb({ arch, version, outDir = join(repoRoot, 'dist') }) {
  if (!ARCHES[arch])
    throw new Error(`unknown architecture ${arch}; one of ${Object.keys(ARCHES).join(', ')}`);
  const pkgJson = JSON.parse(readFileSync(join(gatewayDir, 'package.json'), 'utf8'));
  const ver = version ?? pkgJson.version;
  const stage = mkdtempSync(join(tmpdir(), 'gaswatch-deb-'));
  try {
    const root = join(stage, 'root');
    const lib = join(root, LIB_DIR);
    await buildGateway(join(lib, 'dist'));
    for (const [dest, src] of runtimePackages()) copyPackage(src, join(lib, 'node_modules', dest), arch);

    const unitDir = join(root, 'usr/lib/systemd/system');
    mkdirSync(unitDir, { recursive: true });
    copyFileSync(join(repoRoot, 'docs/deploy/gaswatch-gateway.service'), join(unitDir, `${PACKAGE}.service`));
    mkdirSync(join(root, 'etc/gaswatch'), { recursive: true });
    copyFileSync(join(here, 'gateway.yaml'), join(root, 'etc/gaswatch/gateway.yaml'));
    const doc = join(root, 'usr/share/doc', PACKAGE);
    mkdirSync(doc, { recursive: true });
    copyFileSync(join(here, 'README'), join(doc, 'README'));
    writeFileSync(
      join(doc, 'copyright'),
      [
        'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
        `Upstream-Name: gaswatch`,
        '',
        'Files: *',
        'License: Apache-2.0',
        ' On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.',
        '',
        `Files: ${LIB_DIR}/node_modules/*`,
        'License: various',
        ' Each package under node_modules carries its own licence file and package.json.',
        '',
      ].join('\n'),
    );
    normaliseModes(root);

    const control = join(root, 'DEBIAN');
    mkdirSync(control);
    for (const script of ['postinst', 'prerm', 'postrm']) {
      copyFileSync(join(here, 'debian', script), join(control, script));
      chmodSync(join(control, script), 0o755);
    }
    writeFileSync(join(control, 'conffiles'), '/etc/gaswatch/gateway.yaml\n');
    const files = walkFiles(root).filter((f) => !f.startsWith(`${control}${sep}`));
    writeFileSync(
      join(control, 'md5sums'),
      files
        .map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${relative(root, f)}\n`)
        .join(''),
    );
    const installedKb = Math.ceil(files.reduce((n, f) => n + statSync(f).size, 0) / 1024);
    writeFileSync(
      join(control, 'control'),
      [
        `Package: ${PACKAGE}`,
        `Version: ${ver}`,
        `Architecture: ${arch}`,
        'Maintainer: gaswatch developers <gaswatch@localhost>',
        `Installed-Size: ${installedKb}`,
        // SPEC §1: node ≥ 20 (NodeSource's nodejs package, or Debian 13's own).
        'Depends: nodejs (>= 20), passwd',
        'Recommends: systemd',
        'Section: misc',
        'Priority: optional',
        'Description: gaswatch gateway: gas detectors to MQTT, with local alarms',
        ' Polls CO and combustible-gas detectors over Modbus RTU/TCP and Winsen UART,',
        ' evaluates their alarms locally and switches relay outputs, and publishes',
        ' every reading over MQTT through a crash-safe on-disk outbox. Runs as the',
        ' systemd service gaswatch-gateway, configured in /etc/gaswatch/gateway.yaml.',
        '',
      ].join('\n'),
    );

    mkdirSync(outDir, { recursive: true });
    const deb = join(resolve(outDir), `${PACKAGE}_${ver}_${arch}.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb], { stdio: 'pipe' });
    return deb;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { arch: { type: 'string' }, version: { type: 'string' }, out: { type: 'string' } },
  });
  const arch = values.arch ?? execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  const deb = await buildDeb({
    arch,
    version: values.version,
    ...(values.out ? { outDir: values.out } : {}),
  });
  console.log(`built ${deb} (${(statSync(deb).size / 2 ** 20).toFixed(1)} MB)`);
}
