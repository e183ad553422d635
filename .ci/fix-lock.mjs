// The registry this project is built from serves only the Linux builds of some packages'
// platform binaries (Biome's). `npm install` then leaves optional dependencies in the lock that
// have no entry of their own, and `npm ci` refuses the lock. This drops them.
// Run after every `npm install <pkg>`: node .ci/fix-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
let dropped = 0;
for (const [path, pkg] of Object.entries(lock.packages)) {
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) {
    if (!lock.packages[`node_modules/${dep}`] && !lock.packages[`${path}/node_modules/${dep}`]) {
      delete pkg.optionalDependencies[dep];
      dropped++;
    }
  }
}
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: dropped ${dropped} unresolvable optional dependencies`);
