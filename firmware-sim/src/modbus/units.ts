import type { SimDevice } from '../device.js';

/** Devices by unit address; throws RangeError when two share an address. */
export function unitMap(devices: readonly SimDevice[], where: string): Map<number, SimDevice> {
  const m = new Map<number, SimDevice>();
  for (const d of devices) {
    const other = m.get(d.unit);
    if (other) throw new RangeError(`${where}: devices ${other.id} and ${d.id} both use unit ${d.unit}`);
    m.set(d.unit, d);
  }
  return m;
}

/** Replaces a frame's bytes after the first with noise (a garbled frame), keeping its length at least 2. */
export function garble(frame: Buffer, next: () => number, keep = 1): Buffer {
  const out = Buffer.from(frame);
  for (let i = keep; i < out.length; i++) out[i] = Math.floor(next() * 256);
  return out;
}
