#!/usr/bin/env node
// `gaswatch-server`: runs the production build (server/dist, `npm run build -w @gaswatch/server`)
// on plain node. A source checkout without a build runs the TypeScript sources through tsx
// instead, and says so: a build left over from older sources would run old code.
import { existsSync } from 'node:fs';

const built = new URL('../dist/src/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write(
    'gaswatch-server: no build in server/dist, running the sources through tsx (npm run build -w @gaswatch/server builds it)\n',
  );
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
