import { closeSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import type { DeviceRegistry, RegistrySnapshot } from './devices.js';

/**
 * Keeps the device registry (state, last reading, gateway status) in `DATA_DIR/devices.json`, so
 * the console knows every device's site and location right after a restart, before the devices
 * speak again (the embedded broker forgets retained messages). Written atomically every few
 * seconds when something changed, and at stop. Advisory only: readings live in the store.
 */
/** Characters written to the file at a time. */
const CHUNK = 1 << 20;

export function createRegistryFile(opts: {
  path: string;
  devices: DeviceRegistry;
  logger: Logger;
  intervalMs?: number;
}) {
  const log = opts.logger.child({ part: 'registry-file' });
  let timer: NodeJS.Timeout | null = null;
  /** registry.changes() when the file last matched the registry (-1: never written or read). */
  let saved = -1;

  /**
   * Writes the snapshot in pieces of about CHUNK characters, one device at a time: the whole
   * text at once was one string and one Buffer of ~400 bytes a device (40 MB at 100 000
   * devices), made every few seconds, and the last one was kept to compare with (issue 18).
   * The file reads the same as JSON.stringify(snapshot()).
   */
  const write = (file: string) => {
    const snap = opts.devices.snapshot();
    const fd = openSync(file, 'w');
    try {
      let text = '{"v":1,"devices":[';
      let first = true;
      for (const d of snap.devices) {
        text += (first ? '' : ',') + JSON.stringify(d);
        first = false;
        if (text.length >= CHUNK) {
          writeSync(fd, text);
          text = '';
        }
      }
      writeSync(fd, `${text}],"gateways":${JSON.stringify(snap.gateways)}}`);
    } finally {
      closeSync(fd);
    }
  };

  const save = () => {
    const changes = opts.devices.changes();
    if (changes === saved) return;
    try {
      write(`${opts.path}.tmp`);
      renameSync(`${opts.path}.tmp`, opts.path);
      saved = changes;
    } catch (err) {
      log.warn({ err, path: opts.path }, 'could not save the device registry');
    }
  };

  return {
    load() {
      let text: string;
      try {
        text = readFileSync(opts.path, 'utf8');
      } catch {
        return; // first start
      }
      try {
        const snap = JSON.parse(text) as RegistrySnapshot;
        if (snap.v !== 1 || !Array.isArray(snap.devices) || !Array.isArray(snap.gateways))
          throw new Error('unknown format');
        opts.devices.restore(snap);
        saved = opts.devices.changes();
        log.info({ devices: snap.devices.length }, 'device registry restored');
      } catch (err) {
        log.warn(
          { err: (err as Error).message, path: opts.path },
          'ignoring an unreadable device registry file',
        );
      }
    },
    start() {
      timer = setInterval(save, opts.intervalMs ?? 5_000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
      save();
    },
  };
}
