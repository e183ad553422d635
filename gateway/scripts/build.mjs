#!/usr/bin/env node
// Production build of the gateway: `npm run build -w @gaswatch/gateway` → gateway/dist/ (the
// layout: shared/scripts/bundle.mjs). Native addons (classic-level, serialport) and pino (its
// transports run in worker threads that load modules by name) stay external and come from
// node_modules; the drivers' dynamic imports stay lazy, so serialport is loaded only when a
// serial bus exists.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '@gaswatch/shared/bundle';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--'));
const out = dir ? resolve(dir) : join(pkgDir, 'dist');
// --sourcemap: for bench/cpu-profile.ts, which maps profile positions back to source files.
const sourcemap = args.includes('--sourcemap');

// ws (mqtt.js' WebSocket transport) and socks (its SOCKS proxy client) stay external too. mqtt.js
// itself is bundled as a lazy chunk: src/uplink.ts imports it only for a ws(s):// uplink (its own
// client in src/mqtt speaks mqtt:// and mqtts://), so a gateway on plain MQTT or TLS never compiles
// any of it and its source text is not kept in the heap.
export const EXTERNAL = [
  'classic-level',
  'serialport',
  '@serialport/*',
  'pino',
  'pino-pretty',
  'ws',
  'socks',
];

/**
 * Leaves out of the bundle what the gateway can never run (V8 keeps every bundled script's source
 * text in the heap, so unused code costs memory even if it never executes; see docs/gateway.md
 * "Memory"):
 *  - zod's 40+ translations of its error messages (`z.locales`, ~290 KB): the gateway reports
 *    config and command errors in English, which zod configures at load (`locales/en.js`);
 *  - `worker-timers` (~45 KB with its helpers): mqtt.js' keepalive timers for browsers.
 * The stand-in throws if it is ever called, so a future use fails loudly instead of silently.
 */
export const slimPlugin = {
  name: 'gateway-slim',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? { path: resolve(args.resolveDir, args.path), namespace: 'zod-en-only' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en-only' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      resolveDir: dirname(args.path),
    }));
    b.onResolve({ filter: /^worker-timers$/ }, (args) => ({ path: args.path, namespace: 'not-bundled' }));
    b.onLoad({ filter: /.*/, namespace: 'not-bundled' }, (args) => ({
      contents: `const no = () => { throw new Error(${JSON.stringify(`${args.path} is not part of the gaswatch gateway bundle (scripts/build.mjs)`)}); };
module.exports = { setInterval: no, clearInterval: no, setTimeout: no, clearTimeout: no };`,
      loader: 'js',
    }));
  },
};

/** Bundles the gateway into `outDir` (its dist layout); returns the path of main.js. */
export const buildGateway = (outDir) =>
  bundle({ pkgDir, out: outDir, external: EXTERNAL, plugins: [slimPlugin], sourcemap });

// Run as a script (not imported, as gateway/packaging/build-deb.mjs does for EXTERNAL).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(`built ${await buildGateway(out)}`);
}
