/**
 * The sensing element of a simulated detector: the air it is exposed to, its response lag, drift and
 * noise, a stuck output and the full scale of each channel. Pure physics: it knows nothing of
 * warm-up, alarms or registers (firmware.ts and register-image.ts).
 */
import type { GasId, Profile } from '@gaswatch/shared';
import type { Rng } from './random.js';
import { OUTDOOR_AIR } from './scenario/room.js';

export interface SensorOptions {
  profile: Profile;
  /** Standard deviation of the noise in the gas's canonical unit (0: exact values). */
  noise: number;
  /** Response time T90 in seconds (0: instant). */
  t90S: number;
  /** Draws the noise; its own stream, so how often a master polls cannot change it. */
  noiseRng: Rng;
}

export interface Sensor {
  /** The true concentration the element is exposed to, canonical units. */
  expose(gas: GasId, value: number): void;
  exposure(gas: GasId): number;
  /** Drift of the output: `perHour` canonical units per hour of scenario time, from now on. */
  setDrift(gas: GasId, perHour: number): void;
  /** Freeze the output of each gas at the given value (null: release). */
  freeze(values: ReadonlyMap<GasId, number> | null): void;
  /** The gases the element has seen (its channels first). */
  gases(): IterableIterator<GasId>;
  /** The element's output: lagged exposure + drift + noise, clamped to [0, full scale]; or frozen. */
  output(gas: GasId): number;
  /** `dtMs` of scenario time: drift walks, the lag follows the exposure, noise is drawn anew. */
  step(dtMs: number): void;
}

/** The gases a profile measures. */
export function profileGases(profile: Profile): GasId[] {
  return profile.transport === 'modbus' ? profile.channels.map((c) => c.gas) : [profile.gas];
}

export function createSensor(opts: SensorOptions): Sensor {
  const { profile } = opts;
  // Devices start in clean outdoor air, the same as the rooms.
  const ambient = new Map<GasId, number>();
  for (const gas of profileGases(profile)) ambient.set(gas, OUTDOOR_AIR[gas] ?? 0);
  const drift = new Map<GasId, { perHour: number; offset: number }>();
  const noise = new Map<GasId, number>();
  let frozen: ReadonlyMap<GasId, number> | null = null;
  // 1 − e^(−T90/τ) = 0.9  ⇒  τ = T90 / ln 10
  const tauMs = (opts.t90S * 1000) / Math.LN10;
  const sensed = new Map<GasId, number>(ambient);

  const fullScale = (gas: GasId): number | undefined =>
    profile.transport === 'modbus' ? profile.channels.find((c) => c.gas === gas)?.fullScale : undefined;

  return {
    expose(gas, value) {
      ambient.set(gas, value);
    },
    exposure: (gas) => ambient.get(gas) ?? 0,
    setDrift(gas, perHour) {
      const d = drift.get(gas);
      if (d) d.perHour = perHour;
      else drift.set(gas, { perHour, offset: 0 });
    },
    freeze(values) {
      frozen = values;
    },
    gases: () => ambient.keys(),
    output(gas) {
      if (frozen?.has(gas)) return frozen.get(gas)!;
      const seen = tauMs > 0 ? (sensed.get(gas) ?? 0) : (ambient.get(gas) ?? 0);
      const v = seen + (drift.get(gas)?.offset ?? 0) + (noise.get(gas) ?? 0);
      const fs = fullScale(gas);
      return Math.max(0, fs === undefined ? v : Math.min(fs, v));
    },
    step(dt) {
      for (const d of drift.values()) d.offset += (d.perHour * dt) / 3_600_000;
      if (tauMs > 0) {
        const k = Math.exp(-dt / tauMs);
        for (const [gas, c] of ambient) sensed.set(gas, c + ((sensed.get(gas) ?? c) - c) * k);
      }
      if (opts.noise) for (const gas of ambient.keys()) noise.set(gas, opts.noiseRng.normal() * opts.noise);
    },
  };
}
