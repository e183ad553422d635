#!/usr/bin/env node
// Builds the console app (server/console, Vue + Vite) into server/console/dist, unless the build
// there was made from the same sources: dist/build.json keeps a digest of them (and of
// package-lock.json, so a dependency update rebuilds too). `npm test`, `npm start` and the
// tests' globalSetup call it; a fresh build costs ~10 s of one core, a check ~20 ms.
//   node server/scripts/build-console.mjs           build if missing or stale
//   node server/scripts/build-console.mjs --force   build anyway
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { digestOf } from './source-digest.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CONSOLE_DIR = join(repo, 'server', 'console');
export const CONSOLE_DIST = join(CONSOLE_DIR, 'dist');
const INPUTS = [
  'server/console/index.html',
  'server/console/vite.config.ts',
  'server/console/src',
  // The inspection form runs shared/'s own validation (@gaswatch/shared/inspections).
  'shared/src',
  'shared/package.json',
  'package-lock.json',
];

/** Hex SHA-256 over every input file's path and content. */
export const consoleDigest = () => digestOf(INPUTS);

/** The digest the build in dist was made from, or null (none, or unreadable). */
function builtDigest() {
  try {
    return JSON.parse(readFileSync(join(CONSOLE_DIST, 'build.json'), 'utf8')).sources ?? null;
  } catch {
    return null;
  }
}

/** Bytes of the JavaScript the first page load fetches (entry and modulepreloads), raw and gzip. */
export function initialJsSize(dist = CONSOLE_DIST) {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const srcs = [...html.matchAll(/(?:src|href)="\/console\/([^"]+\.js)"/g)].map((m) => m[1]);
  let raw = 0;
  let gzip = 0;
  for (const src of new Set(srcs)) {
    const body = readFileSync(join(dist, src));
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
  }
  return { raw, gzip, files: [...new Set(srcs)] };
}

/**
 * Builds the console unless dist holds a build of these very sources. Builds into a temporary
 * folder renamed over dist at the end, so a server never reads half a build.
 */
export async function ensureConsoleBuilt({ force = false, log = console.log } = {}) {
  const digest = consoleDigest();
  if (!force && existsSync(join(CONSOLE_DIST, 'index.html')) && builtDigest() === digest)
    return { built: false, dir: CONSOLE_DIST };
  // Vite takes Vue's development build when NODE_ENV says so (vitest sets "test"): a console
  // built from a test run must be the one production serves.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  const { build } = await import('vite');
  const tmp = `${CONSOLE_DIST}.tmp-${process.pid}`;
  const started = Date.now();
  try {
    await build({
      root: CONSOLE_DIR,
      mode: 'production',
      configFile: join(CONSOLE_DIR, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: tmp, emptyOutDir: true },
    });
    const size = initialJsSize(tmp);
    writeFileSync(join(tmp, 'build.json'), `${JSON.stringify({ sources: digest, initialJs: size })}\n`);
    rmSync(CONSOLE_DIST, { recursive: true, force: true });
    renameSync(tmp, CONSOLE_DIST);
    log(
      `console built in ${((Date.now() - started) / 1000).toFixed(1)} s → ${relative(repo, CONSOLE_DIST)} ` +
        `(initial JS ${(size.raw / 1024).toFixed(0)} KiB, ${(size.gzip / 1024).toFixed(0)} KiB gzip)`,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  return { built: true, dir: CONSOLE_DIST };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { built } = await ensureConsoleBuilt({ force: process.argv.includes('--force') });
  if (!built) console.log(`console build is current: ${relative(repo, CONSOLE_DIST)}`);
}
