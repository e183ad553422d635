import { type GasId, offlineTimeoutMs } from '@gaswatch/shared';
import { builtinProfiles } from '../profiles.js';
import type { DeviceRecord } from './devices.js';

// How /api/devices and /api/live show a device: online judged by the offline alarm's limit, a
// value at the detector's full scale marked over range.

/**
 * How long after the last reading a device still counts as online: the same limit the offline
 * alarm uses (max(3 × poll interval, 30 s)), so the list never says "online" while an offline
 * alarm is up.
 */
export function onlineWindowMs(pollIntervalS: number | undefined): number {
  try {
    return offlineTimeoutMs(pollIntervalS);
  } catch {
    return offlineTimeoutMs(undefined);
  }
}

let fullScales: Map<string, Partial<Record<GasId, number>>> | null = null;

/** Full scale per gas of a built-in detector profile (empty for an unknown model). */
export function profileFullScale(model: string | undefined): Partial<Record<GasId, number>> {
  if (fullScales === null) {
    fullScales = new Map();
    for (const [id, p] of builtinProfiles()) {
      const fs: Partial<Record<GasId, number>> = {};
      if (p.transport === 'modbus') {
        for (const c of p.channels) if (c.fullScale !== undefined) fs[c.gas] = c.fullScale;
      } else if (p.fullScale !== undefined) fs[p.gas] = p.fullScale; // a Winsen module
      fullScales.set(id, fs);
    }
  }
  return (model === undefined ? undefined : fullScales.get(model)) ?? {};
}

/**
 * Gases whose value is at or above the detector's full scale: the true concentration is unknown
 * and at least that (a detector pinned at exactly full scale is over range too).
 */
function overRange(
  values: Partial<Record<GasId, number>>,
  fullScale: Partial<Record<GasId, number>>,
): Partial<Record<GasId, number>> | undefined {
  const out: Partial<Record<GasId, number>> = {};
  let any = false;
  for (const [gas, v] of Object.entries(values) as [GasId, number][]) {
    const fs = fullScale[gas];
    if (fs !== undefined && v >= fs) {
      out[gas] = fs;
      any = true;
    }
  }
  return any ? out : undefined;
}

export function deviceView(d: DeviceRecord, now: number) {
  // The registry makes the state and the last reading afresh on each read: once each here.
  const state = d.state;
  const lastSeen = d.lastSeen;
  const windowMs = onlineWindowMs(state?.pollIntervalS);
  const fresh = lastSeen !== null && now - lastSeen <= windowMs;
  const r = d.lastReading;
  const over = r ? overRange(r.values, profileFullScale(state?.model)) : undefined;
  return {
    id: d.dev,
    gw: d.gw,
    online: (state?.online ?? true) && fresh,
    /** The limit `online` was judged by, ms. */
    offlineAfterMs: windowMs,
    lastSeen: lastSeen === null ? null : new Date(lastSeen).toISOString(),
    // Everything the detector said about its value: an over-range or clamped value is only right
    // together with its quality and fault codes.
    lastReading: r
      ? {
          ts: r.ts,
          seq: r.seq,
          values: r.values,
          status: r.status,
          ...(r.quality === undefined ? {} : { quality: r.quality }),
          ...(r.faults === undefined ? {} : { faults: r.faults }),
          ...(r.alarm === undefined ? {} : { alarm: r.alarm }),
          // gas → full scale, where the value is at or above it ("≥ 1000 ppm, over range")
          ...(over === undefined ? {} : { overRange: over }),
          clockSuspect: d.clockSuspect,
        }
      : null,
    state,
    readings: d.readings,
    seqGaps: d.seqGaps,
    seqResets: d.seqResets,
    clockSuspect: d.clockSuspect,
  };
}
