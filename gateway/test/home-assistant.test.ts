/**
 * Home Assistant MQTT discovery. The discovery configs a gateway publishes are checked against
 * Home Assistant's documented schema (written down below as zod, from the MQTT Sensor and MQTT
 * Binary Sensor integration pages and the sensor / binary sensor device class lists), arrive
 * retained at a real broker (aedes), and their templates, rendered by Jinja2 (what Home Assistant
 * renders them with) over the gateway's real payloads, give the detector's values, alarm and
 * availability. A detector removed by reload_config is removed from Home Assistant too.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createDevice, createModbusTcpServer } from '@gaswatch/firmware-sim';
import { builtinProfile } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../src/config.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { discoveryMessages } from '../src/home-assistant.js';
import { startAedes } from './helpers/broker.js';
import { type TestDir, tempDir, writeConfig } from './helpers/config.js';
import { testLogger } from './helpers/log.js';

/** A whitespace-separated list as a zod enum's values. */
const words = (text: string) => text.trim().split(/\s+/) as [string, ...string[]];

// --- Home Assistant's documented discovery schema (full key names; the gateway uses no abbreviations).
const Template = z.string().min(1);
const AvailabilitySchema = z
  .object({
    topic: z.string().min(1),
    payload_available: z.string().optional(),
    payload_not_available: z.string().optional(),
    value_template: Template.optional(),
  })
  .strict();
const DeviceSchema = z
  .object({
    configuration_url: z.string().optional(),
    connections: z.array(z.tuple([z.string(), z.string()])).optional(),
    hw_version: z.string().optional(),
    identifiers: z.union([z.string(), z.array(z.string()).min(1)]),
    manufacturer: z.string().optional(),
    model: z.string().optional(),
    model_id: z.string().optional(),
    name: z.string().optional(),
    serial_number: z.string().optional(),
    suggested_area: z.string().optional(),
    sw_version: z.string().optional(),
    via_device: z.string().optional(),
  })
  .strict();
const OriginSchema = z
  .object({ name: z.string().min(1), sw_version: z.string().optional(), support_url: z.string().optional() })
  .strict();
/** Keys every MQTT entity platform documents. */
const EntityCommon = {
  availability: z.array(AvailabilitySchema).optional(),
  availability_mode: z.enum(['all', 'any', 'latest']).optional(),
  availability_template: Template.optional(),
  availability_topic: z.string().optional(),
  default_entity_id: z.string().optional(),
  device: DeviceSchema.optional(),
  enabled_by_default: z.boolean().optional(),
  encoding: z.string().optional(),
  entity_category: z.enum(['config', 'diagnostic']).optional(),
  entity_picture: z.string().optional(),
  expire_after: z.number().int().positive().optional(),
  force_update: z.boolean().optional(),
  icon: z.string().optional(),
  json_attributes_template: Template.optional(),
  json_attributes_topic: z.string().optional(),
  name: z.string().nullable().optional(),
  object_id: z.string().optional(),
  origin: OriginSchema.optional(),
  payload_available: z.string().optional(),
  payload_not_available: z.string().optional(),
  platform: z.string().optional(),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  state_topic: z.string().min(1),
  unique_id: z.string().min(1),
  value_template: Template.optional(),
};
const SENSOR_DEVICE_CLASSES = words(`
  apparent_power aqi area atmospheric_pressure battery blood_glucose_concentration carbon_dioxide
  carbon_monoxide current data_rate data_size date distance duration energy energy_distance
  energy_storage enum frequency gas humidity illuminance irradiance moisture monetary
  nitrogen_dioxide nitrogen_monoxide nitrous_oxide ozone ph pm1 pm10 pm25 power_factor power
  precipitation precipitation_intensity pressure reactive_energy reactive_power signal_strength
  sound_pressure speed sulphur_dioxide temperature timestamp volatile_organic_compounds
  volatile_organic_compounds_parts voltage volume volume_flow_rate volume_storage water weight
  wind_direction wind_speed
`);
const BINARY_SENSOR_DEVICE_CLASSES = words(`
  battery battery_charging carbon_monoxide cold connectivity door garage_door gas heat light lock
  moisture motion moving occupancy opening plug power presence problem running safety smoke sound
  tamper update vibration window
`);
/** Units HA accepts for the device classes gaswatch uses (HA validates them). */
const UNITS_OF_CLASS: Record<string, string[]> = {
  carbon_monoxide: ['ppm', 'mg/m³'],
  carbon_dioxide: ['ppm'],
};
const SensorConfigSchema = z
  .object({
    ...EntityCommon,
    device_class: z.enum(SENSOR_DEVICE_CLASSES).optional(),
    last_reset_value_template: Template.optional(),
    options: z.array(z.string()).optional(),
    state_class: z.enum(['measurement', 'measurement_angle', 'total', 'total_increasing']).optional(),
    suggested_display_precision: z.number().int().min(0).optional(),
    unit_of_measurement: z.string().optional(),
  })
  .strict()
  .refine(
    (c) =>
      !c.device_class ||
      !UNITS_OF_CLASS[c.device_class] ||
      UNITS_OF_CLASS[c.device_class]!.includes(c.unit_of_measurement ?? ''),
    {
      message: 'unit not allowed for the device class',
    },
  );
const BinarySensorConfigSchema = z
  .object({
    ...EntityCommon,
    device_class: z.enum(BINARY_SENSOR_DEVICE_CLASSES).optional(),
    off_delay: z.number().int().positive().optional(),
    payload_off: z.string().optional(),
    payload_on: z.string().optional(),
  })
  .strict();
/** `<prefix>/<component>/[<node_id>/]<object_id>/config`, ids of [a-zA-Z0-9_-]. */
const DISCOVERY_TOPIC = /^homeassistant\/(sensor|binary_sensor)\/[a-zA-Z0-9_-]+\/[a-zA-Z0-9_-]+\/config$/;

/** Renders Home Assistant value templates with Jinja2 (sandboxed, as HA does): value and value_json. */
function render(cases: { template: string; payload: string }[]): string[] {
  const script = `
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
env = ImmutableSandboxedEnvironment()
out = []
for c in json.load(sys.stdin):
    out.append(env.from_string(c["template"]).render(value=c["payload"], value_json=json.loads(c["payload"])).strip())
print(json.dumps(out))`;
  return JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' }),
  );
}

describe('Home Assistant discovery', () => {
  let tmp: TestDir;
  let broker: Awaited<ReturnType<typeof startAedes>>;
  let gateway: Gateway;
  let sub: mqtt.MqttClient;
  let configFile: string;
  let server: ReturnType<typeof createModbusTcpServer>;
  let port: number;
  const co = createDevice({ id: 'co-bath', profile: 'gaswatch-co', unit: 1 });
  const fourGas = createDevice({ id: 'tank-4gas', profile: 'gaswatch-4gas', unit: 2 });
  /** Last message per topic, with its retain flag. */
  const seen = new Map<string, { payload: string; retain: boolean }>();

  const bus = (devices: string[]) => [
    {
      id: 'tcp-0',
      type: 'modbus-tcp',
      host: '127.0.0.1',
      port,
      devices: [
        {
          id: 'co-bath',
          unit: 1,
          profile: 'gaswatch-co',
          pollIntervalS: 0.5,
          site: 's',
          location: 'bathroom',
        },
        {
          id: 'tank-4gas',
          unit: 2,
          profile: 'gaswatch-4gas',
          pollIntervalS: 0.5,
          site: 's',
          location: 'tank',
        },
      ].filter((d) => devices.includes(d.id)),
    },
  ];

  beforeAll(async () => {
    tmp = tempDir();
    broker = await startAedes();
    co.setConcentration('CO', 17);
    fourGas.setConcentration('O2', 20.9);
    fourGas.setConcentration('LEL', 3);
    fourGas.setConcentration('CO', 4);
    fourGas.setConcentration('H2S', 0);
    server = createModbusTcpServer({ devices: [co, fourGas], host: '127.0.0.1', port: 0 });
    ({ port } = await server.start());
    configFile = writeConfig(join(tmp.dir, 'gw.yaml'), {
      gatewayId: 'gw-ha',
      url: broker.url,
      outboxDir: join(tmp.dir, 'outbox'),
      buses: bus(['co-bath', 'tank-4gas']),
      extra: { homeAssistant: { discovery: true } },
    });
    gateway = createGateway({ config: loadConfig(configFile), logger: testLogger() });
    let readings = 0;
    gateway.on('reading', () => {
      readings++;
    });
    await gateway.start();
    await waitFor(() => readings >= 4, 'readings of both detectors', 10_000);
    // Subscribed only now: what arrives for the discovery topics is what the broker retained.
    sub = mqtt.connect(broker.url);
    sub.on('message', (topic, payload, packet) =>
      seen.set(topic, { payload: payload.toString(), retain: packet.retain }),
    );
    await sub.subscribeAsync(['homeassistant/#', 'gaswatch/v1/gw-ha/#'], { qos: 1 });
    // A reading of each detector: they are published as the outbox commits them, not in a set order.
    await waitFor(
      () => ['co-bath', 'tank-4gas'].every((d) => seen.has(`gaswatch/v1/gw-ha/${d}/reading`)),
      'a reading of each detector',
      10_000,
    );
  });
  afterAll(async () => {
    await sub?.endAsync();
    await gateway?.stop();
    await server?.stop();
    await broker?.stop();
    tmp?.remove();
  });

  const configs = () =>
    [...seen]
      .filter(([t, m]) => t.startsWith('homeassistant/') && m.payload !== '')
      .map(([t, m]) => ({ topic: t, ...m }));

  it('publishes retained configs that match the documented schema: a sensor per gas, an alarm, the gateway', () => {
    const topics = configs()
      .map((c) => c.topic)
      .sort();
    expect(topics).toEqual(
      [
        'homeassistant/binary_sensor/gw-ha/co-bath_alarm/config',
        'homeassistant/binary_sensor/gw-ha/gateway/config',
        'homeassistant/binary_sensor/gw-ha/tank-4gas_alarm/config',
        'homeassistant/sensor/gw-ha/co-bath_co/config',
        'homeassistant/sensor/gw-ha/tank-4gas_co/config',
        'homeassistant/sensor/gw-ha/tank-4gas_h2s/config',
        'homeassistant/sensor/gw-ha/tank-4gas_lel/config',
        'homeassistant/sensor/gw-ha/tank-4gas_o2/config',
      ].sort(),
    );
    const ids = new Set<string>();
    for (const c of configs()) {
      expect(c.retain, c.topic).toBe(true);
      expect(c.topic).toMatch(DISCOVERY_TOPIC);
      const json = JSON.parse(c.payload);
      const schema = c.topic.includes('/binary_sensor/') ? BinarySensorConfigSchema : SensorConfigSchema;
      const parsed = schema.safeParse(json);
      expect(parsed.success ? [] : parsed.error.issues, c.topic).toEqual([]);
      expect(ids.has(json.unique_id)).toBe(false);
      ids.add(json.unique_id);
    }
    const cfg = (t: string) => JSON.parse(seen.get(`homeassistant/${t}/config`)!.payload);
    expect(cfg('sensor/gw-ha/co-bath_co')).toMatchObject({
      device_class: 'carbon_monoxide',
      unit_of_measurement: 'ppm',
      state_topic: 'gaswatch/v1/gw-ha/co-bath/reading',
      device: { identifiers: ['gaswatch_gw-ha_co-bath'], suggested_area: 'bathroom' },
    });
    expect(cfg('sensor/gw-ha/tank-4gas_o2')).toMatchObject({ unit_of_measurement: '%' });
    expect(cfg('sensor/gw-ha/tank-4gas_o2').device_class).toBeUndefined();
    expect(cfg('sensor/gw-ha/tank-4gas_lel')).toMatchObject({ unit_of_measurement: '%LEL' });
    expect(cfg('binary_sensor/gw-ha/co-bath_alarm')).toMatchObject({ device_class: 'carbon_monoxide' });
    expect(cfg('binary_sensor/gw-ha/tank-4gas_alarm')).toMatchObject({ device_class: 'safety' });
    expect(cfg('binary_sensor/gw-ha/gateway')).toMatchObject({ device_class: 'connectivity' });
  });

  it("renders the detector's values, alarm and availability from gaswatch's own payloads", () => {
    const cfg = (t: string) => JSON.parse(seen.get(`homeassistant/${t}/config`)!.payload);
    const reading = seen.get('gaswatch/v1/gw-ha/tank-4gas/reading')!.payload;
    const status = seen.get('gaswatch/v1/gw-ha/status')!.payload;
    const state = seen.get('gaswatch/v1/gw-ha/tank-4gas/state')!.payload;
    const alarm = cfg('binary_sensor/gw-ha/tank-4gas_alarm');
    const [avGw, avDev] = cfg('sensor/gw-ha/tank-4gas_o2').availability;
    const missingChannel = JSON.stringify({ ...JSON.parse(reading), values: { O2: 20.9 } });
    const out = render([
      { template: cfg('sensor/gw-ha/tank-4gas_o2').value_template, payload: reading },
      { template: cfg('sensor/gw-ha/tank-4gas_lel').value_template, payload: reading },
      { template: cfg('sensor/gw-ha/tank-4gas_lel').value_template, payload: missingChannel },
      { template: alarm.value_template, payload: reading },
      { template: alarm.value_template, payload: JSON.stringify({ ...JSON.parse(reading), alarm: true }) },
      { template: avGw.value_template, payload: status },
      { template: avGw.value_template, payload: '{"v":1,"online":false}' },
      { template: avDev.value_template, payload: state },
      { template: cfg('binary_sensor/gw-ha/gateway').value_template, payload: status },
    ]);
    expect(avGw.topic).toBe('gaswatch/v1/gw-ha/status');
    expect(avDev.topic).toBe('gaswatch/v1/gw-ha/tank-4gas/state');
    expect(out).toEqual(['20.9', '3', 'None', 'OFF', 'ON', 'online', 'offline', 'online', 'ON']);
  });

  it('takes a detector without an alarm output from the local alarm events, and none without either', () => {
    const ze07 = builtinProfile('winsen-ze07');
    const base = {
      id: 'ze07',
      unit: 1,
      pollIntervalS: 5,
      site: 's',
      location: 'hall',
      outputs: true,
      profile: 'winsen-ze07',
    };
    const msgs = (localAlarms: boolean) =>
      discoveryMessages({
        gatewayId: 'gw',
        prefix: 'homeassistant',
        devices: [{ config: { ...base, localAlarms }, profile: ze07 }],
      });
    const alarm = msgs(true).find((m) => m.topic.endsWith('ze07_alarm/config'))!;
    const json = JSON.parse(alarm.payload);
    expect(BinarySensorConfigSchema.safeParse(json).success).toBe(true);
    expect(json.state_topic).toBe('gaswatch/v1/gw/ze07/event');
    expect(
      render([
        {
          template: json.value_template,
          payload: '{"v":1,"ts":"2026-01-01T00:00:00.000Z","type":"alarm_raised"}',
        },
        {
          template: json.value_template,
          payload: '{"v":1,"ts":"2026-01-01T00:00:00.000Z","type":"alarm_cleared"}',
        },
        { template: json.value_template, payload: '{"v":1,"ts":"2026-01-01T00:00:00.000Z","type":"fault"}' },
      ]),
    ).toEqual(['ON', 'OFF', '']); // an empty result leaves the state as it was
    expect(msgs(false).some((m) => m.topic.endsWith('_alarm/config'))).toBe(false);
  });

  it('removes the entities of a detector that reload_config took out of the configuration', async () => {
    writeConfig(configFile, {
      gatewayId: 'gw-ha',
      url: broker.url,
      outboxDir: join(tmp.dir, 'outbox'),
      buses: bus(['co-bath']),
      extra: { homeAssistant: { discovery: true } },
    });
    const outcome = await gateway.handleCommand({ v: 1, id: 'r1', type: 'reload_config' });
    expect(outcome.ok).toBe(true);
    await waitFor(
      () => seen.get('homeassistant/sensor/gw-ha/tank-4gas_o2/config')?.payload === '',
      'an empty retained config for the removed detector',
      10_000,
    );
    for (const gas of ['co', 'h2s', 'lel', 'o2'])
      expect(seen.get(`homeassistant/sensor/gw-ha/tank-4gas_${gas}/config`)?.payload).toBe('');
    expect(seen.get('homeassistant/binary_sensor/gw-ha/tank-4gas_alarm/config')?.payload).toBe('');
    expect(seen.get('homeassistant/sensor/gw-ha/co-bath_co/config')?.payload).not.toBe('');
  });
});
