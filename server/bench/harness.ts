import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { freePort, startInfluxd, startMosquitto, startProcess, startTsNode } from '@gaswatch/shared/testing';

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gaswatch-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
