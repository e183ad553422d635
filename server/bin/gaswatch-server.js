#!/usr/bin/env node
// `gaswatch-server`: runs the production build (server/dist, `npm run build -w @gaswatch/server`)
// on plain node. From a source checkout it runs the TypeScript sources through tsx instead when
// there is no build, or when the build was made from other sources than those beside it (a
// `git pull` without a rebuild would otherwise run the old code), and says so.
import { existsSync, readFileSync } from 'node:fs';

const built = new URL('../dist/src/main.js', import.meta.url);
const sources = new URL('../src/main.ts', import.meta.url);

async function stale() {
  if (!existsSync(sources)) return null; // an installed build without sources (the Docker image)
  const { sourceDigest } = await import('../scripts/source-digest.mjs');
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(new URL('../dist/build.json', import.meta.url), 'utf8')).sources;
  } catch {
    return 'the build does not say which sources it was made from';
  }
  return recorded === sourceDigest()
    ? null
    : 'the build was made from other sources than those in server/src';
}

const why = existsSync(built) ? await stale() : 'no build in server/dist';
if (why === null) {
  await import(built.href);
} else {
  process.stderr.write(
    `gaswatch-server: ${why}: running the sources through tsx (npm run build -w @gaswatch/server builds it)\n`,
  );
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
}
