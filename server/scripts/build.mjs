#!/usr/bin/env node
// Production build of the server: `npm run build -w @gaswatch/server` → server/dist/ (the layout:
// shared/scripts/bundle.mjs). bin/gaswatch-server.js, the Dockerfile and the systemd unit run
// dist/src/main.js on plain node: no tsx, no TypeScript compile at start. The console app stays
// in server/console/dist (../../console/dist from dist/src; built here too, unless current).
// Native addons (classic-level, better-sqlite3,
// @node-rs/argon2, which picks its prebuilt binary by platform at run time), pg
// (it requires the optional pg-native and pg-cloudflare by name), pino (its transports run in
// worker threads that load modules by name), @fastify/swagger-ui (serves its static files from
// its package folder) and pdfkit (reads its data files, an ICC profile and its fonts' metrics, from
// beside its own module at load) stay external and come from node_modules.
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '@gaswatch/shared/bundle';
import { ensureConsoleBuilt } from './build-console.mjs';
import { sourceDigest } from './source-digest.mjs';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ? resolve(process.argv[2]) : join(pkgDir, 'dist');

export const EXTERNAL = [
  'classic-level',
  'better-sqlite3',
  '@node-rs/argon2',
  'pg',
  'pino',
  'pino-pretty',
  '@fastify/swagger-ui',
  'pdfkit',
  // ws' optional native speed-ups: absent is fine, bundling them is not.
  'bufferutil',
  'utf-8-validate',
];

// worker-main.ts: the worker thread's program (src/worker-task.ts finds it beside itself).
const main = await bundle({ pkgDir, out, external: EXTERNAL, entries: ['worker-main.ts'] });
// What the bin compares with the sources beside it (scripts/source-digest.mjs).
writeFileSync(join(out, 'build.json'), `${JSON.stringify({ sources: sourceDigest() })}\n`);
console.log(`built ${main}`);
// The console app (server/console/dist), which the server serves at /console/.
await ensureConsoleBuilt();
