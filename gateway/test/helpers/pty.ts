import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Proc, startProcess, waitFor } from '@gaswatch/shared/testing';

/**
 * A socat pty pair at fixed link paths in `dir`: stopping it is an unplugged adapter (the ptys
 * vanish), starting it again is the adapter plugged back in under the same name.
 */
export function ptyAt(dir: string) {
  const a = join(dir, 'ttyA');
  const b = join(dir, 'ttyB');
  let proc: Proc | undefined;
  return {
    a,
    b,
    async plug() {
      proc = startProcess('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`]);
      await waitFor(() => existsSync(a) && existsSync(b), 'socat pty pair', 10_000, 20);
    },
    async unplug() {
      await proc?.stop();
      proc = undefined;
      rmSync(a, { force: true });
      rmSync(b, { force: true });
    },
  };
}
