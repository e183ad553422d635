// The production bundle of a package (gateway, server): its src/main.ts as one ESM program for
// plain node, every pure-JS dependency inside. Each package's scripts/build.mjs calls it with what
// must stay in node_modules (native addons, modules loaded by name at run time):
//
//   <out>/src/main.js (+ chunks)  the program
//   <out>/profiles/               the built-in detector profiles (shared/profiles)
//   <out>/package.json            name, version and "type": "module"
//
// The layout mirrors the sources so `import.meta.url`-relative lookups (../package.json for the
// version, ../profiles for the built-in profiles) find their files. Splitting keeps dynamic
// imports lazy (the gateway loads serialport only when a serial bus exists).
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const sharedDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {{ pkgDir: string, out: string, external: string[], plugins?: import('esbuild').Plugin[], entries?: string[], sourcemap?: boolean }} opts
 *   entries: more programs beside main.ts, as paths under src/ (a worker thread's, found at run time
 *   beside the module that starts it: src/x.ts becomes <out>/src/x.js)
 *   sourcemap: also write <out>/src/main.js.map (the CPU profile of a bench maps the bundle's
 *   positions back to source files with it; the shipped build has none)
 * @returns {Promise<string>} the path of main.js
 */
export async function bundle({ pkgDir, out, external, plugins = [], entries = [], sourcemap = false }) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'src'), { recursive: true });
  await build({
    entryPoints: [join(pkgDir, 'src', 'main.ts'), ...entries.map((e) => join(pkgDir, 'src', e))],
    outbase: join(pkgDir, 'src'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    splitting: true,
    outdir: join(out, 'src'),
    external,
    plugins,
    // Bundled CommonJS dependencies call require(); give the ESM bundle one.
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
    sourcemap,
  });
  cpSync(join(sharedDir, 'profiles'), join(out, 'profiles'), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  writeFileSync(
    join(out, 'package.json'),
    `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: 'module' }, null, 2)}\n`,
  );
  return join(out, 'src', 'main.js');
}
