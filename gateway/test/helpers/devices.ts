import { builtinProfile, type Profile } from '@gaswatch/shared';
import { type DeviceConfig, DeviceConfigSchema } from '../../src/config.js';
import type { DriverDevice } from '../../src/drivers/index.js';
import { testLogger } from './log.js';

/** A DriverDevice for a unit with a profile (built-in id or object). */
export function driverDevice(
  id: string,
  unit: number,
  profile: string | Profile,
  extra: Partial<DeviceConfig> = {},
): DriverDevice {
  const p = typeof profile === 'string' ? builtinProfile(profile) : profile;
  const config = DeviceConfigSchema.parse({
    id,
    unit,
    profile: p.id,
    site: 'test-site',
    location: 'lab',
    ...extra,
  });
  return { config, profile: p, log: testLogger() };
}
