import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when a line of output matches, rejects on exit or time-out. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM (or the given signal), then SIGKILL after `graceMs`; resolves on exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** Starts a long-running process with piped output, for tests and the one-box launcher. */
export function startProcess(
  command: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; echo?: boolean; name?: string } = {},
): Proc {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    const s = d.toString();
    out += s;
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
    if (opts.echo) process.stderr.write(opts.name ? s.replace(/^/gm, `[${opts.name}] `) : s);
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    for (const l of listeners) l();
  });
  return {
    child,
    pid: child.pid,
    exited,
    output: () => out,
    waitForOutput(re, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (m) return done(() => resolve(m));
          if (hasExited)
            return done(() =>
              reject(new Error(`${command} exited before printing ${re}:\n${out.slice(-3000)}`)),
            );
        };
        const timer = setTimeout(
          () =>
            done(() =>
              reject(new Error(`timed out waiting for ${re} from ${command}:\n${out.slice(-3000)}`)),
            ),
          timeoutMs,
        );
        const done = (f: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 5_000) {
      if (hasExited) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a TypeScript entry point with tsx as one node process (one PID to kill). */
export function startTsNode(
  entry: string,
  args: readonly string[] = [],
  opts: Parameters<typeof startProcess>[2] = {},
): Proc {
  return startProcess(process.execPath, ['--import', 'tsx', entry, ...args], opts);
}
