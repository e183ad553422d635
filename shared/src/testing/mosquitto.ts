import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';
import { type Proc, startProcess } from './processes.js';

export interface Mosquitto {
  url: string;
  port: number;
  proc: Proc;
  /** Stops the broker, keeping its persistence file; `start()` restarts it on the same port. */
  pause(): Promise<void>;
  /** SIGHUP: Mosquitto re-reads its password_file and acl_file. */
  reload(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Starts a private Mosquitto with persistence on a free loopback port (Debian package `mosquitto`).
 * `allowAnonymous: false` for tests of `password_file` / `acl_file` (named in `extraConfig`;
 * started as root, Mosquitto reads them as user `mosquitto`).
 */
export async function startMosquitto(
  opts: { extraConfig?: string; allowAnonymous?: boolean } = {},
): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'gaswatch-mosquitto-'));
  // Started as root, mosquitto drops to user `mosquitto`, which must be able to write its
  // persistence file here; otherwise every save fails and a restart loses all sessions.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1
allow_anonymous ${opts.allowAnonymous ?? true}
persistence true
persistence_location ${dir}/
autosave_interval 1
max_queued_messages 100000
max_inflight_messages 100
${opts.extraConfig ?? ''}
`,
  );
  const handle: Mosquitto = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    proc: undefined as unknown as Proc,
    async start() {
      handle.proc = startProcess('/usr/sbin/mosquitto', ['-c', conf]);
      await waitFor(() => portOpen(port), `mosquitto on ${port}`, 10_000);
    },
    async pause() {
      await handle.proc.stop();
    },
    reload() {
      handle.proc.child.kill('SIGHUP');
    },
    async stop() {
      await handle.proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}
