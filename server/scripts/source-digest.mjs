// A digest of the sources a server build is made from (server/src, shared/src, shared/profiles):
// scripts/build.mjs writes it into dist/build.json, and bin/gaswatch-server.js compares it with the
// sources beside it, so a build older than the code it sits next to is never run by mistake.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIRS = ['server/src', 'shared/src', 'shared/profiles'];

/** The files under `path` (itself when it is a file), in a stable order. */
function files(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => files(join(path, name)));
}

/** Hex SHA-256 over the path and content of every file under `paths` (relative to the repo). */
export function digestOf(paths) {
  const hash = createHash('sha256');
  for (const path of paths)
    for (const file of files(join(repo, path))) {
      hash.update(relative(repo, file));
      hash.update('\0');
      hash.update(readFileSync(file));
      hash.update('\0');
    }
  return hash.digest('hex');
}

/** Hex SHA-256 over every source file's path and content. */
export const sourceDigest = () => digestOf(DIRS);
