import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './ports.js';
import { type Proc, startProcess } from './processes.js';

export interface PtyPair {
  /** One end (give it to the simulator). */
  a: string;
  /** The other end (give it to the master: the gateway, mbpoll). */
  b: string;
  proc: Proc;
  stop(): Promise<void>;
}

/** Two linked pseudo-terminals from socat: a serial line in a test. A pty ignores the baud rate. */
export async function startPtyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'gaswatch-pty-'));
  const a = join(dir, 'ttyA');
  const b = join(dir, 'ttyB');
  const proc = startProcess('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`]);
  await waitFor(() => existsSync(a) && existsSync(b), 'socat pty pair', 10_000, 20);
  return {
    a,
    b,
    proc,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
