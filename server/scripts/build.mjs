#!/usr/bin/env node
// Production build of the server: `npm run build -w @gaswatch/server` → server/dist/.
//
//   dist/src/main.js (+ chunks)  the server as ESM, every pure-JS dependency bundled in
//   dist/profiles/               the built-in detector profiles (shared/profiles)
//   dist/package.json            name, version and "type": "module"
//
// bin/gaswatch-server.js, the Dockerfile and the systemd unit run dist/src/main.js on plain node:
// no tsx, no TypeScript compile at start. The layout mirrors the sources so `import.meta.url`-
// relative lookups find their files (../profiles for the built-in profiles, ../../public for the
// console page, which stays in server/public). Native addons (classic-level), pino (its transports
// run in worker threads that load modules by name) and @fastify/swagger-ui (serves its static
// files from its package folder) stay external and come from node_modules.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ? resolve(process.argv[2]) : join(pkgDir, 'dist');

export const EXTERNAL = [
  'classic-level',
  'pino',
  'pino-pretty',
  '@fastify/swagger-ui',
  // ws' optional native speed-ups: absent is fine, bundling them is not.
  'bufferutil',
  'utf-8-validate',
];

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'src'), { recursive: true });
await build({
  entryPoints: [join(pkgDir, 'src', 'main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  outdir: join(out, 'src'),
  external: EXTERNAL,
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __gwCreateRequire } from 'node:module'; const require = __gwCreateRequire(import.meta.url);",
  },
  // Identifiers stay, so stack traces in the logs still name the functions.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  charset: 'ascii',
  logLevel: 'warning',
});
cpSync(join(pkgDir, '..', 'shared', 'profiles'), join(out, 'profiles'), { recursive: true });
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
writeFileSync(
  join(out, 'package.json'),
  `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: 'module' }, null, 2)}\n`,
);
console.log(`built ${join(out, 'src', 'main.js')}`);
