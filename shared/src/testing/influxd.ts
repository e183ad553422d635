import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';
import { type Proc, startProcess } from './processes.js';

export interface Influxd {
  url: string;
  port: number;
  proc: Proc;
  /** Stops influxd, keeping its data (for outage tests); `start()` brings it back on the same port. */
  pause(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
}

/** Starts a private influxd 1.x on free loopback ports in a temp dir (Debian package `influxdb`). */
export async function startInfluxd(): Promise<Influxd> {
  const dir = mkdtempSync(join(tmpdir(), 'gaswatch-influxd-'));
  const [port, rpcPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  # No cap on devices: by default InfluxDB 1.x refuses new tag values past 100 000 per tag (the
  # dev tag: the 100 001st device's readings) and new series past a million per database.
  max-values-per-tag = 0
  max-series-per-database = 0
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
`,
  );
  const url = `http://127.0.0.1:${port}`;
  const handle: Influxd = {
    url,
    port,
    proc: undefined as unknown as Proc,
    async start() {
      handle.proc = startProcess('influxd', ['-config', conf]);
      await waitFor(async () => (await fetch(`${url}/ping`)).status === 204, `influxd on ${url}`, 20_000);
    },
    async pause() {
      await handle.proc.stop();
    },
    async stop() {
      await handle.proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}
