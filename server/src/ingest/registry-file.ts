import { closeSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { DeviceRecord, DeviceRegistry, RegistrySnapshot } from './devices.js';

/**
 * Devices turned into JSON per slice of a save. A slice of 2 000 takes 2–5 ms here: the event loop
 * runs readings and alarms between slices, where stringifying a million devices at once stalled
 * it for seconds (issue 18: every 5 s, the alarm latency of a whole city).
 */
export const SAVE_SLICE = 2_000;
/**
 * A save may take this share of the time at most: the next one starts 10 × the last one's length
 * after it (never sooner than `intervalMs`). A million devices take ~3 s to save, so they are saved
 * every ~30 s; a thousand every 5 s as before. The file is advisory (the store has the readings).
 */
const SAVE_SHARE = 0.1;

type Saved = RegistrySnapshot['devices'][number];
const saved = ({ gw, dev, state, lastSeen, lastReading, lastTs }: DeviceRecord): Saved => ({
  gw,
  dev,
  state,
  lastSeen,
  lastReading,
  lastTs,
});

/**
 * Keeps the device registry (state, last reading, gateway status) in `DATA_DIR/devices.json`, so
 * the console knows every device's site and location right after a restart, before the devices
 * speak again (the embedded broker forgets retained messages). Written atomically every few
 * seconds when the registry changed (at a million devices, every half minute: SAVE_SHARE), a
 * slice at a time, the server working between slices, and whole at stop. The registry counts its
 * changes, so an unchanged one is neither written nor kept as text to compare with (that copy was
 * ~400 bytes a device). Advisory only: readings live in the store.
 */
export function createRegistryFile(opts: {
  path: string;
  devices: DeviceRegistry;
  logger: Logger;
  intervalMs?: number;
}) {
  const log = opts.logger.child({ part: 'registry-file' });
  const intervalMs = opts.intervalMs ?? 5_000;
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  /** devices.changes() when the file last matched the registry (-1: never written or read). */
  let savedAt = -1;

  /** The file's text in slices: the header, SAVE_SLICE devices each, the gateways and the end. */
  function* pieces(): Generator<string> {
    yield '{"v":1,"devices":[';
    let batch: Saved[] = [];
    let first = true;
    for (const d of opts.devices.all()) {
      batch.push(saved(d));
      if (batch.length === SAVE_SLICE) {
        yield (first ? '' : ',') + JSON.stringify(batch).slice(1, -1);
        first = false;
        batch = [];
      }
    }
    if (batch.length > 0) yield (first ? '' : ',') + JSON.stringify(batch).slice(1, -1);
    yield `],"gateways":${JSON.stringify([...opts.devices.gateways()])}}`;
  }

  /**
   * One save, a slice per write: the loop turns while each is written. Resolves false when nothing
   * changed or the server stopped meanwhile. A device changed during the save moved the count past
   * `at`, so the next save writes it.
   */
  async function saveSliced(): Promise<boolean> {
    const at = opts.devices.changes();
    if (at === savedAt) return false;
    const tmp = `${opts.path}.tmp`;
    const file = await open(tmp, 'w');
    let whole = false;
    try {
      for (const text of pieces()) {
        await file.write(text);
        if (!running) break;
      }
      whole = running;
    } finally {
      await file.close();
      // Stopped meanwhile: stop() wrote the file whole; this partial copy must not replace it.
      if (!whole) await rm(tmp, { force: true });
    }
    if (!whole) return false;
    await rename(tmp, opts.path);
    savedAt = at;
    return true;
  }

  function schedule(afterMs: number): void {
    if (!running) return;
    timer = setTimeout(() => {
      timer = null;
      const t0 = performance.now();
      saveSliced().then(
        () => schedule(Math.max(intervalMs, (performance.now() - t0) / SAVE_SHARE)),
        (err: unknown) => {
          log.warn({ err, path: opts.path }, 'could not save the device registry');
          schedule(intervalMs);
        },
      );
    }, afterMs);
    timer.unref();
  }

  /** At stop: the whole registry at once (the server is shutting down; nothing waits on the loop). */
  const saveNow = () => {
    const at = opts.devices.changes();
    if (at === savedAt) return;
    // Its own temporary file: a sliced save still writing `.tmp` must not mix into it.
    const tmp = `${opts.path}.stop.tmp`;
    try {
      const fd = openSync(tmp, 'w');
      try {
        // Slice by slice: a million devices are ~400 MB of text, near the longest string V8 makes.
        for (const text of pieces()) writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, opts.path);
      savedAt = at;
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
        savedAt = opts.devices.changes();
        log.info({ devices: snap.devices.length }, 'device registry restored');
      } catch (err) {
        log.warn(
          { err: (err as Error).message, path: opts.path },
          'ignoring an unreadable device registry file',
        );
      }
    },
    start() {
      running = true;
      schedule(intervalMs);
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      saveNow();
    },
  };
}
