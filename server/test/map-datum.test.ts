import { describe, expect, it } from 'vitest';
import { wgs84ToGcj02 } from '../console/src/map/datum.js';

/** Metres between two nearby points (equirectangular: exact enough at these distances). */
function metres(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const k = Math.cos((((a.lat + b.lat) / 2) * Math.PI) / 180);
  return Math.hypot((a.lat - b.lat) * 111_320, (a.lon - b.lon) * 111_320 * k);
}

describe('WGS-84 → GCJ-02 for AMap / Tencent tiles', () => {
  it('moves a point in China by the few hundred metres the published maps are offset', () => {
    for (const p of [
      { lat: 39.9087, lon: 116.3975 }, // Beijing
      { lat: 24.331, lon: 109.412 }, // Liuzhou
      { lat: 45.75, lon: 126.65 }, // Harbin
    ]) {
      const d = metres(p, wgs84ToGcj02(p.lat, p.lon));
      expect(d).toBeGreaterThan(100);
      expect(d).toBeLessThan(800);
    }
    // Tiananmen: the value the published transform gives.
    const t = wgs84ToGcj02(39.9087, 116.3975);
    expect(t.lat).toBeCloseTo(39.91, 2);
    expect(t.lon).toBeCloseTo(116.4037, 3);
  });

  it('leaves a point outside China where it is', () => {
    expect(wgs84ToGcj02(48.8584, 2.2945)).toEqual({ lat: 48.8584, lon: 2.2945 });
  });
});
