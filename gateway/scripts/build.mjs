#!/usr/bin/env node
// Production build of the gateway: `npm run build -w @gaswatch/gateway` → gateway/dist/.
//
//   dist/src/main.js (+ chunks)  the gateway as ESM, every pure-JS dependency bundled in
//   dist/profiles/               the built-in detector profiles (shared/profiles)
//   dist/package.json            name, version and "type": "module"
//
// The layout mirrors the sources so `import.meta.url`-relative lookups (../package.json for the
// version, ../profiles for the built-in profiles) find their files. Native addons (classic-level,
// serialport) and pino (its transports run in worker threads that load modules by name) stay
// external and come from node_modules. Splitting keeps the drivers' dynamic imports lazy, so
// serialport is loaded only when a serial bus exists.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ? resolve(process.argv[2]) : join(pkgDir, 'dist');

export const EXTERNAL = ['classic-level', 'serialport', '@serialport/*', 'pino', 'pino-pretty'];

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
  // Bundled CommonJS dependencies (mqtt's) call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __gwCreateRequire } from 'node:module'; const require = __gwCreateRequire(import.meta.url);",
  },
  // V8 keeps every script's source text in the heap. Dropping comments and whitespace halves it;
  // identifiers stay, so stack traces in the logs still name the functions.
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
