import type { DeviceEventRecord } from '../store/types.js';
import type { OutputMeaning } from './outputs.js';

/**
 * A stored gateway event or command result as /api/events and /api/live show it: times as ISO
 * strings, and with `outputs` what the switched outputs mean for the device's model (valve
 * closed, fan on).
 */
export function deviceEventView(r: DeviceEventRecord, outputs?: OutputMeaning[]) {
  return {
    id: r.id,
    kind: r.kind,
    gw: r.gw,
    dev: r.dev,
    ts: new Date(r.ts).toISOString(),
    receivedAt: new Date(r.receivedAt).toISOString(),
    data: r.data,
    ...(outputs === undefined ? {} : { outputs }),
  };
}
