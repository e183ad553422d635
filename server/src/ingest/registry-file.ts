import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { DeviceRegistry, RegistrySnapshot } from './devices.js';

/**
 * Keeps the device registry (state, last reading, gateway status) in `DATA_DIR/devices.json`, so
 * the console knows every device's site and location right after a restart, before the devices
 * speak again (the embedded broker forgets retained messages). Written atomically every few
 * seconds when something changed, and at stop. Advisory only: readings live in the store.
 */
export function createRegistryFile(opts: {
  path: string;
  devices: DeviceRegistry;
  logger: Logger;
  intervalMs?: number;
}) {
  const log = opts.logger.child({ part: 'registry-file' });
  let timer: NodeJS.Timeout | null = null;
  let last = '';

  const save = () => {
    const text = JSON.stringify(opts.devices.snapshot());
    if (text === last) return;
    try {
      writeFileSync(`${opts.path}.tmp`, text);
      renameSync(`${opts.path}.tmp`, opts.path);
      last = text;
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
        last = text;
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
