/**
 * Home Assistant MQTT discovery (opt-in per gateway: `homeAssistant.discovery: true`). Each
 * detector appears in Home Assistant as a device with a sensor per gas and a binary sensor for its
 * alarm; the gateway itself as a device with a connectivity sensor. Nothing new is published for
 * the values: the entities read gaswatch's own topics (SPEC §2) through value templates, so Home
 * Assistant sees exactly what the gaswatch server sees. Only the discovery configs are extra:
 * retained, QoS 1, published on every (re)connect.
 *
 *   {prefix}/sensor/{gw}/{dev}_{gas}/config          a gas: state from .../{dev}/reading
 *   {prefix}/binary_sensor/{gw}/{dev}_alarm/config   its alarm
 *   {prefix}/binary_sensor/{gw}/gateway/config       the gateway's uplink (from .../status)
 *
 * The node id is the gateway id alone, so a broker ACL can let each gateway write only its own
 * discovery topics (Mosquitto: `pattern write homeassistant/+/%u/#`, docs/integrations.md).
 */
import { GASES, type GasId, type Profile, topics } from '@gaswatch/shared';
import type { DeviceConfig } from './config.js';
import { VERSION } from './version.js';

/** What HA should call a gas and measure it in; device classes only where HA has one (CO, CO2). */
export const HA_GAS: Record<GasId, { deviceClass?: 'carbon_monoxide' | 'carbon_dioxide'; unit: string }> = {
  CO: { deviceClass: 'carbon_monoxide', unit: 'ppm' },
  CO2: { deviceClass: 'carbon_dioxide', unit: 'ppm' },
  H2S: { unit: 'ppm' },
  // HA has no oxygen class; gaswatch's %vol is a percentage of the air.
  O2: { unit: '%' },
  CH4: { unit: '%LEL' },
  C3H8: { unit: '%LEL' },
  LEL: { unit: '%LEL' },
};

/**
 * The binary sensor's class by detector kind: a household CO alarm is `carbon_monoxide`, a
 * combustible-gas alarm `gas`; a 4-gas (confined space) alarm may be too little oxygen, which is
 * no "gas detected", so `safety` (on means unsafe).
 */
export const HA_ALARM_CLASS = {
  'household-co': 'carbon_monoxide',
  combustible: 'gas',
  multigas: 'safety',
} as const;

export interface DiscoveryMessage {
  topic: string;
  /** JSON of the config; '' removes the entity from Home Assistant. */
  payload: string;
}

/** The gases a device measures, from its profile. */
export function gasesOf(profile: Profile): GasId[] {
  return profile.transport === 'modbus' ? [...new Set(profile.channels.map((c) => c.gas))] : [profile.gas];
}

/** Does the detector report its own alarm output in every reading (`alarm`)? */
function reportsAlarm(profile: Profile): boolean {
  if (profile.transport !== 'modbus' || !profile.status) return false;
  const bits = profile.status.bits ?? {};
  return bits.alarm !== undefined || bits.lowAlarm !== undefined || bits.highAlarm !== undefined;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Every discovery config of one gateway: its own device and, per detector, gases and alarm. */
export function discoveryMessages(opts: {
  gatewayId: string;
  prefix: string;
  devices: { config: DeviceConfig; profile: Profile }[];
}): DiscoveryMessage[] {
  const { gatewayId: gw, prefix } = opts;
  const origin = { name: 'gaswatch gateway', sw_version: VERSION };
  const gatewayDevice = {
    identifiers: [`gaswatch_${gw}`],
    name: `gaswatch gateway ${gw}`,
    manufacturer: 'gaswatch',
    model: 'gateway',
    sw_version: VERSION,
  };
  // Retained GatewayStatus: {"online": true, …}, or the will {"online": false}.
  const gatewayAvailable = {
    topic: topics.status(gw),
    value_template: "{{ 'online' if value_json.online else 'offline' }}",
  };
  const out: DiscoveryMessage[] = [
    {
      topic: `${prefix}/binary_sensor/${gw}/gateway/config`,
      payload: JSON.stringify({
        name: 'Uplink',
        unique_id: `gaswatch_${gw}_uplink`,
        device_class: 'connectivity',
        entity_category: 'diagnostic',
        state_topic: topics.status(gw),
        value_template: "{{ 'ON' if value_json.online else 'OFF' }}",
        device: gatewayDevice,
        origin,
      }),
    },
  ];
  for (const { config: dc, profile } of opts.devices) {
    const dev = dc.id;
    const device = {
      identifiers: [`gaswatch_${gw}_${dev}`],
      name: `${dc.location} ${dev}`,
      manufacturer: 'gaswatch',
      model: profile.id,
      suggested_area: dc.location,
      via_device: `gaswatch_${gw}`,
    };
    // Available while the gateway is online and reads the detector (its retained DeviceState).
    const availability = [
      gatewayAvailable,
      {
        topic: topics.state(gw, dev),
        value_template: "{{ 'online' if value_json.online else 'offline' }}",
      },
    ];
    // SPEC §6's offline rule: no reading for max(3 × poll interval, 30 s) means the value is stale.
    const expireAfter = Math.ceil(Math.max(3 * dc.pollIntervalS, 30));
    const common = { availability, availability_mode: 'all', device, origin, qos: 1 };
    for (const gas of gasesOf(profile)) {
      const ha = HA_GAS[gas];
      out.push({
        topic: `${prefix}/sensor/${gw}/${dev}_${gas.toLowerCase()}/config`,
        payload: JSON.stringify({
          name: capitalise(GASES[gas].name),
          unique_id: `gaswatch_${gw}_${dev}_${gas.toLowerCase()}`,
          ...(ha.deviceClass ? { device_class: ha.deviceClass } : {}),
          unit_of_measurement: ha.unit,
          state_class: 'measurement',
          state_topic: topics.reading(gw, dev),
          // `value_json.values` would be the dict's values() method in Jinja: index it. A channel
          // missing from a reading (a broken cell) is 'None', which HA shows as unknown.
          value_template: `{{ value_json['values']['${gas}'] | default('None') }}`,
          expire_after: expireAfter,
          ...common,
        }),
      });
    }
    // The alarm: the detector's own alarm output where its profile reads one (every reading
    // carries it), else the gateway's local alarm events (raised/cleared; others are ignored).
    const alarmState = reportsAlarm(profile)
      ? {
          state_topic: topics.reading(gw, dev),
          value_template: "{{ 'ON' if value_json.alarm else 'OFF' }}",
          expire_after: expireAfter,
        }
      : dc.localAlarms
        ? {
            state_topic: topics.event(gw, dev),
            value_template:
              "{% if value_json.type == 'alarm_raised' %}ON{% elif value_json.type == 'alarm_cleared' %}OFF{% endif %}",
          }
        : undefined;
    if (alarmState)
      out.push({
        topic: `${prefix}/binary_sensor/${gw}/${dev}_alarm/config`,
        payload: JSON.stringify({
          name: 'Alarm',
          unique_id: `gaswatch_${gw}_${dev}_alarm`,
          device_class: HA_ALARM_CLASS[profile.kind],
          ...alarmState,
          ...common,
        }),
      });
  }
  return out;
}
