import { readFileSync } from 'node:fs';

/** The gateway package version (reported in GatewayStatus). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
