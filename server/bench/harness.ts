import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTsNode } from '@gaswatch/shared/testing';

export { freePort, startInfluxd, startMosquitto, startProcess, startTsNode } from '@gaswatch/shared/testing';

const SERVER_MAIN = new URL('../src/main.ts', import.meta.url).pathname;

/**
 * A gateway's MQTT login from the server's own `gateway create`, for a server over the database
 * `env` names (DATA_DIR): the embedded broker lets in only provisioned gateways.
 */
export async function provisionGateway(
  env: Record<string, string>,
  gw: string,
): Promise<{ username: string; password: string }> {
  const proc = startTsNode(SERVER_MAIN, ['gateway', 'create', gw], { env: { LOG_LEVEL: 'warn', ...env } });
  const password = (await proc.exited) === 0 ? /^password: (\S+)$/m.exec(proc.output())?.[1] : undefined;
  if (password === undefined) throw new Error(`gateway create ${gw} failed:\n${proc.output()}`);
  return { username: gw, password };
}

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gaswatch-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
