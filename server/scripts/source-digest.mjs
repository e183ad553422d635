// A digest of the sources a server build is made from (server/src, shared/src, shared/profiles):
// scripts/build.mjs writes it into dist/build.json, and bin/gaswatch-server.js compares it with the
// sources beside it, so a build older than the code it sits next to is never run by mistake.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIRS = ['server/src', 'shared/src', 'shared/profiles'];

function files(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    });
}

/** Hex SHA-256 over every source file's path and content. */
export function sourceDigest() {
  const hash = createHash('sha256');
  for (const dir of DIRS)
    for (const file of files(join(repo, dir))) {
      hash.update(relative(repo, file));
      hash.update('\0');
      hash.update(readFileSync(file));
      hash.update('\0');
    }
  return hash.digest('hex');
}
