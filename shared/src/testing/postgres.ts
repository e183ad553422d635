import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** Where Debian's `postgresql` 15 package puts initdb and pg_ctl (they are not on PATH). */
export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

export interface StartPostgresOptions {
  /** Directory of initdb and pg_ctl; POSTGRES_BIN when absent. */
  bin?: string;
}

export interface Postgres {
  /** `postgres://gaswatch@127.0.0.1:PORT/postgres`: trust authentication, no password. */
  url: string;
  port: number;
  /** Stops the server (fast shutdown), keeping its data (for outage tests); `start()` brings it back. */
  pause(): Promise<void>;
  /** Starts a paused server again, on the same port with the same data. */
  start(): Promise<void>;
  /** Stops the server (fast shutdown) and removes its data; a second call does nothing. */
  stop(): Promise<void>;
}

/**
 * Starts a private PostgreSQL 15 (Debian package `postgresql`) in a temp dir on a free loopback
 * port, never the Debian `main` cluster. initdb refuses to run as root, so under root (CI) the
 * dir is handed to the `postgres` user and initdb and pg_ctl run as that user.
 */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<Postgres> {
  const bin = opts.bin ?? POSTGRES_BIN;
  const initdb = join(bin, 'initdb');
  const pgCtl = join(bin, 'pg_ctl');
  try {
    accessSync(initdb, constants.X_OK);
    accessSync(pgCtl, constants.X_OK);
  } catch {
    throw new Error(
      `PostgreSQL 15 not found (${initdb}): install the Debian package \`postgresql\` (apt-get install postgresql)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'gaswatch-postgres-'));
  const asRoot = process.getuid?.() === 0;
  const exec = async (cmd: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    try {
      await run(file, argv, { timeout: 60_000 });
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`, {
        cause: err,
      });
    }
  };
  // initdb and the server then run as postgres: the data, the log and the socket (-k) are theirs.
  if (asRoot) await run('chown', ['-R', 'postgres', dir]);
  const port = await freePort();
  const data = join(dir, 'db');
  const stopServer = () => exec(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
  // No fsync in either: a test cluster's data is thrown away, and syncing costs seconds.
  const startServer = () =>
    exec(pgCtl, [
      '-D',
      data,
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-l',
      join(dir, 'log'),
      '-w',
      'start',
    ]);
  try {
    await exec(initdb, ['-D', data, '-A', 'trust', '-U', 'gaswatch', '--no-sync']);
    await startServer();
  } catch (err) {
    await stopServer().catch(() => {});
    // The server's own words (a port taken meanwhile, shared memory) are in its log, not pg_ctl's.
    let log = '';
    try {
      log = readFileSync(join(dir, 'log'), 'utf8').slice(-3_000);
    } catch {
      // initdb failed: there is no log yet, its output is in the error
    }
    rmSync(dir, { recursive: true, force: true });
    if (log === '') throw err;
    throw new Error(`${(err as Error).message}\nserver log:\n${log}`, { cause: err });
  }
  let stopped = false;
  let paused = false;
  return {
    url: `postgres://gaswatch@127.0.0.1:${port}/postgres`,
    port,
    async pause() {
      await stopServer();
      paused = true;
    },
    async start() {
      await startServer();
      paused = false;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        if (!paused) await stopServer();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
