/**
 * systemd's service notification protocol (sd_notify(3)) for the unit's `Type=notify` and
 * `WatchdogSec=`: READY=1 once started, STATUS= for `systemctl status`, WATCHDOG=1 while healthy,
 * STOPPING=1 on shutdown. Off (every call a no-op) when systemd did not set NOTIFY_SOCKET.
 *
 * The protocol is one datagram on the AF_UNIX socket named by NOTIFY_SOCKET. Node has no unix
 * datagram sockets (node:dgram is UDP only, node:net is streams), and the npm packages that add
 * them (`unix-dgram`, `sd-notify`) are native addons compiled at install time with no prebuilt
 * binaries: the .deb would need a C++ toolchain per target architecture, or the Pi one. So each
 * message is handed to systemd's own `systemd-notify` (always next to systemd). It is a child
 * process, hence `NotifyAccess=all` in the unit; since systemd 246 it waits until systemd has
 * taken the message (sd_notify_barrier), so the message is attributed to our unit even though the
 * sender exits at once. A message is a short-lived process every WatchdogSec/2 (15 s), a few
 * milliseconds of CPU on a Pi. Messages go one at a time; while one is on its way, newer ones
 * are merged into the next (the newest STATUS wins), so a slow systemd never piles up children.
 */
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';

export interface SdNotify {
  /** True when systemd is listening (NOTIFY_SOCKET set). */
  readonly enabled: boolean;
  /**
   * The watchdog ping interval systemd asked for (half of WatchdogSec), or undefined when the
   * unit has no watchdog (or it is meant for another process: WATCHDOG_PID).
   */
  readonly watchdogMs: number | undefined;
  /** Sends the given assignments (`READY=1`, `STATUS=…`, `WATCHDOG=1`, `STOPPING=1`). */
  send(fields: Record<string, string>): void;
  /** Resolves once every message handed to `send` has been delivered (or failed). */
  flush(): Promise<void>;
}

export function createSdNotify(opts: {
  /** The environment systemd started us with (main.ts passes process.env). */
  env: Record<string, string | undefined>;
  logger: Logger;
  /** The systemd-notify program; tests may point it elsewhere. */
  program?: string;
  pid?: number;
}): SdNotify {
  const { env, logger: log } = opts;
  const program = opts.program ?? 'systemd-notify';
  const enabled = Boolean(env.NOTIFY_SOCKET);
  const watchdogUs = Number(env.WATCHDOG_USEC);
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === (opts.pid ?? process.pid);
  const watchdogMs =
    enabled && forUs && Number.isFinite(watchdogUs) && watchdogUs > 0
      ? Math.max(500, Math.floor(watchdogUs / 2000))
      : undefined;

  let pending: Record<string, string> | undefined;
  let inFlight: Promise<void> | undefined;
  let lastError = '';

  function deliver(fields: Record<string, string>): Promise<void> {
    const args = Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`);
    return new Promise((resolve) => {
      execFile(program, args, { timeout: 10_000, env: env as NodeJS.ProcessEnv }, (err, _out, stderr) => {
        if (err) {
          const why = `${err.message} ${stderr}`.trim();
          // Once per distinct failure: a missing systemd-notify would otherwise log every 15 s.
          if (why !== lastError) log.error({ err: why, program }, 'systemd notification failed');
          lastError = why;
        } else lastError = '';
        resolve();
      });
    });
  }

  function pump(): void {
    if (inFlight || !pending) return;
    const fields = pending;
    pending = undefined;
    inFlight = deliver(fields).then(() => {
      inFlight = undefined;
      pump();
    });
  }

  return {
    enabled,
    watchdogMs,
    send(fields) {
      if (!enabled) return;
      pending = { ...pending, ...fields };
      pump();
    },
    async flush() {
      for (let i = 0; i < 10 && (inFlight || pending); i++) {
        pump();
        await inFlight;
      }
    },
  };
}
