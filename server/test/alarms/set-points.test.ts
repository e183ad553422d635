/**
 * The set points GET /api/devices/:id gives the console to draw over a device's readings: those of
 * the rules the engine runs for it (its kind, its site's overrides, its own), each in the gas's
 * canonical unit, so a line sits where a reading would alarm.
 */
import { mgM3ToPpm } from '@gaswatch/shared';
import { describe, expect, it } from 'vitest';
import { GaswatchConfigSchema } from '../../src/alarms/config-schema.js';
import { deviceSetPoints } from '../../src/alarms/set-points.js';
import { deviceState } from './helpers.js';

const config = GaswatchConfigSchema.parse({
  sites: {
    'flat-3': { type: 'household', coStandard: 'ul2034' },
    canteen: { alarms: { combustible: { options: { thresholds: { 'LEL:high': 40 } } } } },
  },
  devices: { 'tank-1': { site: 'canteen' } },
});

describe('deviceSetPoints', () => {
  it('confined space: each level, and the GBZ 2.1 limits in mg/m³ as ppm beside their own number', () => {
    const r = deviceSetPoints(config, 'cs-1', deviceState('multigas', 'shaft-2'), { CO: 3 });
    expect(r?.profile).toBe('confined-space');
    const co = r?.setPoints.filter((s) => s.gas === 'CO');
    expect(co).toEqual([
      { key: 'CO:low', gas: 'CO', severity: 'warning', kind: 'level', op: '>=', value: 35, unit: 'ppm' },
      { key: 'CO:high', gas: 'CO', severity: 'critical', kind: 'level', op: '>=', value: 200, unit: 'ppm' },
      {
        key: 'CO:stel',
        gas: 'CO',
        severity: 'critical',
        kind: 'mean',
        op: '>=',
        value: Number(mgM3ToPpm('CO', 30).toPrecision(4)),
        unit: 'ppm',
        windowMs: 15 * 60_000,
        limit: { value: 30, unit: 'mg/m³' },
      },
      {
        key: 'CO:twa',
        gas: 'CO',
        severity: 'warning',
        kind: 'mean',
        op: '>=',
        value: Number(mgM3ToPpm('CO', 20).toPrecision(4)),
        unit: 'ppm',
        windowMs: 8 * 3_600_000,
        limit: { value: 20, unit: 'mg/m³' },
      },
    ]);
    // Oxygen alarms below and above.
    expect(r?.setPoints.filter((s) => s.gas === 'O2').map((s) => [s.op, s.value, s.unit])).toEqual([
      ['<', 19.5, '%vol'],
      ['>', 23.5, '%vol'],
    ]);
    // Faults, warm-up and the detector's own output are no line on a chart.
    expect(r?.setPoints.every((s) => s.gas !== undefined)).toBe(true);
    expect(r?.setPoints.some((s) => s.key.startsWith('fault') || s.key === 'detector')).toBe(false);
  });

  it("a household site's CO standard and a combustible site's override are what the device runs", () => {
    const home = deviceSetPoints(config, 'co-1', deviceState('household-co', 'flat-3'), undefined);
    expect(home?.profile).toBe('ul2034');
    expect(home?.setPoints).toEqual([
      { key: 'CO:dose', gas: 'CO', severity: 'critical', kind: 'dose', op: '>=', value: 45, unit: 'ppm' },
    ]);
    // Its site from the config (no DeviceState yet), its kind from its channels.
    const tank = deviceSetPoints(config, 'tank-1', null, { LEL: 2 });
    expect(tank?.profile).toBe('combustible');
    expect(tank?.setPoints.filter((s) => s.gas === 'LEL').map((s) => [s.key, s.severity, s.value])).toEqual([
      ['LEL:low', 'warning', 25],
      ['LEL:high', 'critical', 40],
    ]);
  });

  it('a device nothing is known of has none', () => {
    expect(deviceSetPoints(config, 'new-1', null, undefined)).toBeNull();
  });
});
