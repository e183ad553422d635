import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  BUILTIN_PROFILE_DIR,
  IdSchema,
  loadProfiles,
  type Profile,
  SITE_TYPES,
  topics,
} from '@gaswatch/shared';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';

const PollInterval = z.number().positive().max(86_400).describe('Seconds between two polls of this detector');

/**
 * A topic name to subscribe to (MQTT 3.1.1 §4.7): no wildcard, since the gateway takes the time
 * only from a message on exactly this topic, and no NUL, which the broker refuses, refusing the
 * whole subscribe with it, commands included.
 */
function isTopicName(topic: string): boolean {
  return !topic.includes('+') && !topic.includes('#') && !topic.includes('\u0000');
}

/**
 * A key of older gateway configs (before the server and the gateway said coStandard and
 * siteType alike): refused with what to write instead, never silently ignored.
 */
const renamed = (key: string, instead: (value: unknown) => string) =>
  z
    .never({ error: (iss) => `"${key}" was renamed: write ${instead(iss.input)} instead` })
    .optional()
    .describe(`Renamed; see the error`);

export const AlarmStandardSchema = z
  .enum(['en50291', 'ul2034'])
  .describe('Household CO alarm curve the local alarms use (SPEC §6)');

export const DeviceConfigSchema = z
  .object({
    id: IdSchema.describe('Device id, unique on this gateway; part of every MQTT topic of the device'),
    unit: z
      .number()
      .int()
      .min(1)
      .max(247)
      .default(1)
      .describe('Modbus unit (slave) address; ignored for Winsen modules'),
    profile: z.string().min(1).describe('Detector profile id (shared/profiles or one of profileDirs)'),
    pollIntervalS: PollInterval.default(5),
    site: z.string().min(1).max(128).describe('Site the detector belongs to (e.g. liujiang-12-3-501)'),
    location: z.string().min(1).max(128).describe('Where on the site (e.g. bathroom)'),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .max(60_000)
      .optional()
      .describe('Answer timeout; default: the bus timeoutMs'),
    retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .optional()
      .describe('Retries of a failed read; default: the bus retries'),
    localAlarms: z
      .boolean()
      .default(true)
      .describe('Evaluate the shared alarm math for this detector on the gateway'),
    outputs: z
      .boolean()
      .default(true)
      .describe("Switch the profile's relay coils (sounder, valve, fan) when a local alarm is active"),
  })
  .strict();
export type DeviceConfig = z.infer<typeof DeviceConfigSchema>;

const BusCommon = {
  id: IdSchema.describe('Bus id, used in logs (e.g. rs485-0)'),
  timeoutMs: z
    .number()
    .int()
    .positive()
    .max(60_000)
    .default(300)
    .describe('Default answer timeout per request'),
  retries: z
    .number()
    .int()
    .min(0)
    .max(10)
    .default(1)
    .describe('Default retries of a failed read before it counts as failed'),
  offlineAfter: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(3)
    .describe('Consecutive failed polls after which a detector is marked offline'),
  offlinePollS: z
    .number()
    .positive()
    .max(3600)
    .default(30)
    .describe('While offline, a detector is polled only this often, so it costs the others nothing'),
};

/**
 * The longest pause between two attempts to open a serial port that is not there: a replugged
 * adapter is polled again within this time; every attempt that fails is one cheap open(2).
 */
const ReopenMax = z
  .number()
  .int()
  .positive()
  .max(600_000)
  .default(10_000)
  .describe('Longest pause between attempts to open a missing serial adapter (back-off cap)');

export const ModbusRtuBusSchema = z
  .object({
    ...BusCommon,
    type: z.literal('modbus-rtu'),
    path: z.string().min(1).describe('Serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/...'),
    baudRate: z.number().int().positive().default(9600).describe('Baud rate'),
    parity: z.enum(['none', 'even', 'odd']).default('even').describe('Parity (Modbus default: even)'),
    dataBits: z
      .union([z.literal(7), z.literal(8)])
      .default(8)
      .describe('Data bits'),
    stopBits: z
      .union([z.literal(1), z.literal(2)])
      .default(1)
      .describe('Stop bits'),
    interFrameGapMs: z
      .number()
      .min(0)
      .max(1000)
      .optional()
      .describe('Silence between frames; default 3.5 character times (1.75 ms above 19200 baud)'),
    reopenMs: z
      .number()
      .int()
      .positive()
      .max(600_000)
      .default(2000)
      .describe('First retry after the port cannot be opened (unplugged adapter); doubles up to reopenMaxMs'),
    reopenMaxMs: ReopenMax,
    devices: z.array(DeviceConfigSchema).min(1).describe('Detectors on this line'),
  })
  .strict();

export const ModbusTcpBusSchema = z
  .object({
    ...BusCommon,
    type: z.literal('modbus-tcp'),
    host: z.string().min(1).describe('Modbus TCP server or RTU-over-TCP gateway host'),
    port: z.number().int().min(1).max(65535).default(502).describe('TCP port'),
    reopenMs: z
      .number()
      .int()
      .positive()
      .max(600_000)
      .default(2000)
      .describe('Reconnect interval after a lost connection'),
    devices: z.array(DeviceConfigSchema).min(1).describe('Detectors behind this connection'),
  })
  .strict();

export const WinsenBusSchema = z
  .object({
    ...BusCommon,
    timeoutMs: BusCommon.timeoutMs.default(1500),
    type: z.literal('winsen'),
    path: z.string().min(1).describe('Serial device of the UART module'),
    mode: z
      .enum(['active', 'qa'])
      .default('qa')
      .describe('qa: the gateway asks on every poll; active: the module uploads once a second'),
    reopenMs: z
      .number()
      .int()
      .positive()
      .max(600_000)
      .default(2000)
      .describe('First retry after the port cannot be opened; doubles up to reopenMaxMs'),
    reopenMaxMs: ReopenMax,
    devices: z
      .array(DeviceConfigSchema)
      .length(1)
      .describe('Exactly one module: a UART line carries one detector'),
  })
  .strict();

export const BusConfigSchema = z.discriminatedUnion('type', [
  ModbusRtuBusSchema,
  ModbusTcpBusSchema,
  WinsenBusSchema,
]);
export type BusConfig = z.infer<typeof BusConfigSchema>;
export type ModbusRtuBusConfig = z.infer<typeof ModbusRtuBusSchema>;
export type ModbusTcpBusConfig = z.infer<typeof ModbusTcpBusSchema>;
export type WinsenBusConfig = z.infer<typeof WinsenBusSchema>;

export const GatewayConfigSchema = z
  .object({
    gatewayId: IdSchema.describe('Gateway id; the {gw} of every topic'),
    uplink: z
      .object({
        url: z
          .string()
          .regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'must be an mqtt://, mqtts://, ws:// or wss:// URL')
          .describe('MQTT broker URL'),
        username: z
          .string()
          .optional()
          .describe(
            'MQTT user name: the gatewayId (the default when a password is given); a gaswatch broker lets a gateway publish only under its own id',
          ),
        password: z
          .string()
          .optional()
          .describe('MQTT password (`gaswatch-server gateway create` prints it); better in passwordFile'),
        passwordFile: z
          .string()
          .min(1)
          .optional()
          .describe(
            'File whose first line is the MQTT password, read at start (keeps the secret out of this YAML; mode 0600); relative to this file',
          ),
        ca: z.string().optional().describe('TLS: CA certificate file (PEM)'),
        cert: z.string().optional().describe('TLS: client certificate file (PEM)'),
        key: z.string().optional().describe('TLS: client key file (PEM)'),
        clientId: z.string().max(128).optional().describe('MQTT client id; default gaswatch-gw-{gatewayId}'),
        keepaliveS: z
          .number()
          .int()
          .min(5)
          .max(3600)
          .default(30)
          .describe('MQTT keepalive; the will fires after ~1.5 × this'),
        reconnectMs: z
          .number()
          .int()
          .positive()
          .max(600_000)
          .default(2000)
          .describe('Pause between reconnect attempts'),
        statusIntervalS: z
          .number()
          .positive()
          .max(3600)
          .default(30)
          .describe('How often the retained status is refreshed'),
      })
      .strict()
      .describe('Where the gateway publishes'),
    outbox: z
      .object({
        dir: z
          .string()
          .min(1)
          .describe('Directory of the on-disk outbox (LevelDB); relative to the config file'),
        maxReadings: z
          .number()
          .int()
          .min(10)
          .max(50_000_000)
          .default(1_000_000)
          .describe(
            'Bound of the outbox; when full the oldest readings are dropped, counted in status and logged',
          ),
        replayRatePerS: z
          .number()
          .positive()
          .max(100_000)
          .default(200)
          .describe('Publish rate while replaying a backlog after an outage'),
        maxInflight: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(20)
          .describe('QoS 1 publishes awaiting PUBACK at once'),
        commitMs: z
          .number()
          .int()
          .min(0)
          .max(1000)
          .default(100)
          .describe(
            'Group commit: a reading waits at most this long to share one synced outbox write with others (0: written at once)',
          ),
      })
      .strict(),
    clock: z
      .object({
        maxSkewS: z
          .number()
          .positive()
          .default(120)
          .describe('Skew beyond which the status says clockSuspect'),
        referenceTopic: z
          .string()
          .min(1)
          .max(1024)
          .refine(isTopicName, { message: 'must be an MQTT topic name: no "+" or "#" wildcard, no NUL' })
          .default(topics.time())
          .describe(
            'MQTT topic carrying the reference time (ISO 8601 or epoch ms); the gaswatch server publishes its time on gaswatch/v1/time',
          ),
        referenceUrl: z
          .string()
          .url()
          .optional()
          .describe('HTTP URL whose Date header is the reference time'),
      })
      .strict()
      .default({ maxSkewS: 120, referenceTopic: topics.time() })
      .describe('Clock sanity check (a Raspberry Pi has no real-time clock)'),
    alarms: z
      .object({
        coStandard: AlarmStandardSchema.default('en50291').describe(
          'CO alarm standard of household-co detectors: en50291 | ul2034 (the server calls it coStandard too)',
        ),
        siteType: z
          .enum(SITE_TYPES)
          .default('workplace')
          .describe(
            'household: a home, combustible first alarm at 10 %LEL (GB 15322); workplace: 25 %LEL (GB/T 50493-2019)',
          ),
        householdStandard: renamed('householdStandard', (v) => `"coStandard: ${String(v)}"`),
        household: renamed('household', (v) =>
          v === true ? '"siteType: household"' : '"siteType: workplace"',
        ),
      })
      .strict()
      .default({ coStandard: 'en50291', siteType: 'workplace' })
      .describe('Local alarm rules'),
    profileDirs: z
      .array(z.string())
      .default([])
      .describe('Extra folders of profile files; later ones override built-ins'),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
      .default('info')
      .describe('Log level'),
    bumpTestS: z
      .number()
      .positive()
      .max(3600)
      .default(120)
      .describe(
        'Bump-test window started by the bump_test command: readings carry status bump_test, pass when the alarm level is reached',
      ),
    homeAssistant: z
      .object({
        discovery: z
          .boolean()
          .default(false)
          .describe(
            'Publish Home Assistant MQTT discovery configs: each detector a device with its gases and alarm',
          ),
        prefix: z
          .string()
          .regex(
            /^[a-zA-Z0-9_-]+(\/[a-zA-Z0-9_-]+)*$/,
            'must be a topic prefix without wildcards, e.g. homeassistant',
          )
          .default('homeassistant')
          .describe("Home Assistant's discovery prefix (its MQTT integration setting)"),
      })
      .strict()
      .default({ discovery: false, prefix: 'homeassistant' })
      .describe('Home Assistant MQTT discovery (docs/integrations.md)'),
    buses: z.array(BusConfigSchema).min(1).describe('Serial lines and TCP connections with their detectors'),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const u = cfg.uplink;
    if (u.password !== undefined && u.passwordFile !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['uplink', 'passwordFile'],
        message: 'give password or passwordFile, not both',
      });
    // Under any other name the broker would refuse (aedes) or drop (Mosquitto) every message.
    if (u.username !== undefined && u.username !== cfg.gatewayId)
      ctx.addIssue({
        code: 'custom',
        path: ['uplink', 'username'],
        message: `must be the gatewayId "${cfg.gatewayId}": the broker lets a gateway publish only under its own id`,
      });
    const devIds = new Map<string, string>();
    const busIds = new Set<string>();
    cfg.buses.forEach((bus, b) => {
      if (busIds.has(bus.id))
        ctx.addIssue({ code: 'custom', path: ['buses', b, 'id'], message: `duplicate bus id "${bus.id}"` });
      busIds.add(bus.id);
      const units = new Set<number>();
      bus.devices.forEach((d, i) => {
        const prev = devIds.get(d.id);
        if (prev)
          ctx.addIssue({
            code: 'custom',
            path: ['buses', b, 'devices', i, 'id'],
            message: `duplicate device id "${d.id}" (also at ${prev})`,
          });
        devIds.set(d.id, `buses.${b}.devices.${i}`);
        if (bus.type !== 'winsen') {
          if (units.has(d.unit))
            ctx.addIssue({
              code: 'custom',
              path: ['buses', b, 'devices', i, 'unit'],
              message: `unit ${d.unit} used twice on bus "${bus.id}"`,
            });
          units.add(d.unit);
        }
      });
    });
  });
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

/** The placeholder of the packaged template (gateway/packaging/gateway.yaml) for what a site must set. */
export const PLACEHOLDER = 'CHANGE-ME';

/** Every value that still holds the template's placeholder, as `path: reason`. */
function placeholders(doc: unknown, path: (string | number)[] = []): string[] {
  if (typeof doc === 'string')
    return doc.includes(PLACEHOLDER)
      ? [`${path.join('.') || '(root)'}: still ${PLACEHOLDER} (the installed template's placeholder): set it`]
      : [];
  if (Array.isArray(doc)) return doc.flatMap((v, i) => placeholders(v, [...path, i]));
  if (doc && typeof doc === 'object')
    return Object.entries(doc).flatMap(([k, v]) => placeholders(v, [...path, k]));
  return [];
}

/** Validates an already parsed config object; relative paths are resolved against `baseDir`. */
export function parseConfig(doc: unknown, file = '(inline)', baseDir = process.cwd()): GatewayConfig {
  const unset = placeholders(doc);
  const parsed = GatewayConfigSchema.safeParse(doc);
  if (unset.length) {
    // The schema's complaints about a placeholder (gatewayId: must match …) would only repeat it.
    const other = parsed.success
      ? []
      : formatIssues(parsed.error).filter((i) => !unset.some((u) => u.split(':')[0] === i.split(':')[0]));
    throw new ConfigError(file, [...unset, ...other]);
  }
  if (!parsed.success) throw new ConfigError(file, formatIssues(parsed.error));
  const cfg = parsed.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  cfg.outbox.dir = abs(cfg.outbox.dir);
  if (cfg.uplink.passwordFile !== undefined) cfg.uplink.passwordFile = abs(cfg.uplink.passwordFile);
  // SPEC §9: the MQTT username is the gateway id.
  if (cfg.uplink.password !== undefined || cfg.uplink.passwordFile !== undefined)
    cfg.uplink.username ??= cfg.gatewayId;
  cfg.profileDirs = cfg.profileDirs.map(abs);
  return cfg;
}

/** The file each config returned by `loadConfig` came from (reload_config re-reads it). */
const sources = new WeakMap<GatewayConfig, string>();
export const configFileOf = (cfg: GatewayConfig): string | undefined => sources.get(cfg);

/**
 * Reads and validates the gateway YAML config. Throws ConfigError listing every problem as
 * `path: reason`. Profile references are checked by `resolveProfiles` (they need the profile dirs).
 */
export function loadConfig(file: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`(file): ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new ConfigError(file, [`(yaml): ${(err as Error).message}`]);
  }
  const cfg = parseConfig(doc, file, dirname(resolve(file)));
  checkProfiles(cfg, file);
  checkCredentials(cfg, file);
  sources.set(cfg, resolve(file));
  return cfg;
}

/**
 * The uplink's secrets are readable, and a client certificate names this gateway: caught at start
 * rather than as a refused login, or as messages the broker drops (its CN is the MQTT identity).
 */
function checkCredentials(cfg: GatewayConfig, file: string): void {
  const issues: string[] = [];
  const u = cfg.uplink;
  if (u.passwordFile !== undefined) {
    try {
      if (readPasswordFile(u.passwordFile) === '')
        issues.push(`uplink.passwordFile: ${u.passwordFile} is empty`);
    } catch (err) {
      issues.push(`uplink.passwordFile: cannot read ${u.passwordFile}: ${(err as Error).message}`);
    }
  }
  if (u.cert !== undefined) {
    try {
      const cn = /(?:^|\n)CN=([^\n]*)/.exec(new X509Certificate(readFileSync(u.cert)).subject)?.[1];
      if (cn !== cfg.gatewayId)
        issues.push(
          `uplink.cert: its CN is "${cn ?? ''}", not the gatewayId "${cfg.gatewayId}" it logs in as`,
        );
    } catch (err) {
      issues.push(`uplink.cert: ${u.cert} is not a readable PEM certificate: ${(err as Error).message}`);
    }
  }
  if (issues.length) throw new ConfigError(file, issues);
}

/** The MQTT password in `passwordFile`: its first line, without the line break. */
export function readPasswordFile(path: string): string {
  return (readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '').trim();
}

/** Loads the built-in profiles and the config's profileDirs. Throws ConfigError on a bad profile file. */
export function loadConfigProfiles(cfg: GatewayConfig, file = '(inline)'): Map<string, Profile> {
  try {
    return loadProfiles([BUILTIN_PROFILE_DIR, ...cfg.profileDirs]);
  } catch (err) {
    throw new ConfigError(file, [`profileDirs: ${(err as Error).message}`]);
  }
}

/** Checks that every device names a known profile whose transport fits its bus. */
export function checkProfiles(
  cfg: GatewayConfig,
  file = '(inline)',
  profiles = loadConfigProfiles(cfg, file),
): Map<string, Profile> {
  const issues: string[] = [];
  cfg.buses.forEach((bus, b) => {
    bus.devices.forEach((d, i) => {
      const p = profiles.get(d.profile);
      const path = `buses.${b}.devices.${i}.profile`;
      if (!p)
        issues.push(`${path}: unknown profile "${d.profile}" (known: ${[...profiles.keys()].join(', ')})`);
      else if (bus.type === 'winsen' && p.transport !== 'winsen')
        issues.push(
          `${path}: profile "${d.profile}" is a ${p.transport} profile, bus "${bus.id}" is a winsen UART`,
        );
      else if (bus.type !== 'winsen' && p.transport !== 'modbus')
        issues.push(`${path}: profile "${d.profile}" is a ${p.transport} profile, bus "${bus.id}" is Modbus`);
    });
  });
  if (issues.length) throw new ConfigError(file, issues);
  return profiles;
}
