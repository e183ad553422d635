import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type GaswatchConfig, GaswatchConfigSchema } from './alarms/config-schema.js';
import type { EmbeddedTlsOptions } from './broker/embedded.js';
import type { DatabaseConfig } from './db/database.js';
import { ConfigError } from './errors.js';
import { readTls } from './tls-config.js';
import { canonicalZone, DEFAULT_TZ } from './zone.js';

const Port = z.coerce.number().int().min(0).max(65_535);
const PositiveInt = z.coerce.number().int().positive();

/** The server's environment (SPEC §4), parsed once at start. */
export const ServerEnvSchema = z.object({
  PORT: Port.default(8080).describe('HTTP port; 0 picks a free one'),
  HOST: z.string().min(1).default('127.0.0.1').describe('Address HTTP and the embedded broker bind to'),
  MQTT_URL: z
    .url({ protocol: /^(mqtt|mqtts|ws|wss|tcp|ssl)$/ })
    .optional()
    .describe('External broker, e.g. mqtt://mosquitto:1883; unset runs the embedded aedes broker'),
  MQTT_PORT: Port.default(1883).describe(
    'Port of the embedded broker (when MQTT_URL is unset); 0 picks a free one',
  ),
  MQTT_TLS_PORT: Port.optional().describe(
    "Port of the embedded broker's MQTTS listener (needs TLS_CERT and TLS_KEY); unset: no TLS listener; 0 picks a free one",
  ),
  TLS_CERT: z
    .string()
    .min(1)
    .optional()
    .describe(
      'PEM file: certificate (chain) HTTP then serves HTTPS with, and the MQTTS listener too (MQTT_TLS_PORT); goes with TLS_KEY',
    ),
  TLS_KEY: z.string().min(1).optional().describe('PEM file: private key of TLS_CERT'),
  MQTT_CA: z
    .string()
    .min(1)
    .optional()
    .describe(
      "PEM file of a CA. Embedded broker: its MQTTS listener asks for a client certificate, and one this CA issued logs in as the gateway named by its CN, without a password. External broker (mqtts:// or wss:// MQTT_URL): the CA the server trusts for the broker's certificate",
    ),
  MQTT_CLIENT_ID: z
    .string()
    .min(1)
    .max(64)
    .default('gaswatch-server')
    .describe(
      'Client id of the persistent session at the external broker (fixed so messages queue while the server is down)',
    ),
  INFLUX_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('InfluxDB 1.x URL; unset uses the embedded store'),
  INFLUX_DB: z.string().min(1).max(64).default('gaswatch').describe('InfluxDB database name'),
  DATA_DIR: z
    .string()
    .min(1)
    .default('./data')
    .describe('Embedded store, ingest journal and the SQLite database (gaswatch.db) live here'),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/ })
    .optional()
    .describe(
      'PostgreSQL for the records people create or act on (alarms first), e.g. postgres://gaswatch:secret@db:5432/gaswatch; unset uses SQLite in DATA_DIR/gaswatch.db',
    ),
  GASWATCH_CONFIG: z
    .string()
    .min(1)
    .optional()
    .describe('YAML or JSON file: sites and their areas, contacts, escalation, profiles'),
  SESSION_HOURS: PositiveInt.max(24 * 30)
    .default(12)
    .describe(
      'How long a console login lasts (12 h: a night shift); logging out or a password change ends it sooner',
    ),
  TRUST_PROXY: z
    .string()
    .optional()
    .describe(
      'Behind a reverse proxy: the proxy addresses or CIDRs (comma-separated) whose X-Forwarded-For/-Proto to trust, e.g. 127.0.0.1; unset trusts none',
    ),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level'),
  INGEST_BUFFER_MAX: PositiveInt.default(1_000_000).describe(
    'Readings the on-disk ingest journal may hold while the store is unreachable; beyond it new readings are refused (the gateway keeps them)',
  ),
  INGEST_FSYNC: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1')
    .describe(
      'fdatasync the journal on every group commit: survives power loss, costs a disk flush per commit',
    ),
  STORE_BATCH_SIZE: PositiveInt.max(50_000).default(5_000).describe('Readings per store write'),
  STORE_FLUSH_MS: PositiveInt.max(10_000)
    .default(50)
    .describe('Longest time a reading waits in the journal before a store write'),
  EXPORT_MAX_ROWS: PositiveInt.max(1_000_000)
    .default(100_000)
    .describe(
      'Most alarms one history export (GET /api/alarms/export) holds; a filter matching more is refused (400 export_too_large)',
    ),
  TIME_ZONE: z
    .string()
    .min(1)
    .default(DEFAULT_TZ)
    .describe(
      "IANA time zone of the server's local day: when a rectification deadline has passed, which day a visit may not be after, the weekly ledger's days and its scheduled run",
    ),
});
export type ServerEnv = z.infer<typeof ServerEnvSchema>;

export interface ServerConfig {
  port: number;
  host: string;
  mqtt:
    | { kind: 'embedded'; port: number; tls: EmbeddedTlsOptions | null }
    | { kind: 'external'; url: string; clientId: string; ca: Buffer | null };
  store: { kind: 'embedded' } | { kind: 'influx'; url: string; database: string };
  /** The relational store: records people create or act on (SPEC §9). */
  database: DatabaseConfig;
  dataDir: string;
  logLevel: ServerEnv['LOG_LEVEL'];
  auth: { sessionTtlMs: number };
  /** TLS_CERT and TLS_KEY: HTTP speaks HTTPS with them; null for plain HTTP. */
  https: { cert: Buffer; key: Buffer } | null;
  /** Fastify's trustProxy: which proxies' X-Forwarded-* headers name the client. */
  trustProxy: string | false;
  ingest: { bufferMax: number; batchSize: number; flushMs: number; fsync: boolean };
  /** Most rows of one alarm history export. */
  exportMaxRows: number;
  /** TIME_ZONE, canonical (`Asia/Shanghai`): the zone of the local day (inspection deadlines). */
  timeZone: string;
  /** Path of the GASWATCH_CONFIG file, if any. */
  configFile: string | null;
  /** The GASWATCH_CONFIG file, validated (`{}` parsed when absent). */
  gaswatch: GaswatchConfig;
}

function formatIssues(prefix: (path: string) => string, error: z.ZodError): string[] {
  return error.issues.map((i) => `${prefix(i.path.join('.'))}: ${i.message}`);
}

/** `${NAME}` in a string of the GASWATCH_CONFIG file: the environment variable NAME. */
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces every `${NAME}` in the file's strings with the environment's NAME, so a committed
 * production file (deploy/gaswatch.yaml) names its secrets and the env file holds them. An unset
 * or empty NAME is an issue with the value's path: a channel with an empty key would only fail at
 * the first alarm.
 */
function substituteEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  path: string[],
  issues: string[],
): unknown {
  if (typeof value === 'string')
    return value.replace(ENV_REFERENCE, (_, name: string) => {
      const v = env[name];
      if (v === undefined || v === '')
        issues.push(`${path.join('.') || '(root)'}: \${${name}} is not set in the environment`);
      return v ?? '';
    });
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, [...path, String(i)], issues));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, [...path, k], issues)]),
    );
  return value;
}

function readGaswatchFile(
  file: string,
  env: Record<string, string | undefined>,
): { config?: GaswatchConfig; issues: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { issues: [`GASWATCH_CONFIG: cannot read ${file}: ${(err as Error).message}`] };
  }
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    return {
      issues: [
        `GASWATCH_CONFIG: ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
      ],
    };
  }
  const missing: string[] = [];
  raw = substituteEnv(raw, env, [], missing);
  if (missing.length > 0) return { issues: missing.map((m) => `GASWATCH_CONFIG ${file} ${m}`) };
  const parsed = GaswatchConfigSchema.safeParse(raw ?? {});
  if (!parsed.success)
    return { issues: formatIssues((p) => `GASWATCH_CONFIG ${file} ${p || '(root)'}`, parsed.error) };
  return { config: parsed.data, issues: [] };
}

/**
 * Parses the environment (and the GASWATCH_CONFIG file it names). Throws ConfigError listing every
 * problem, each with its variable and reason. The only place that looks at the environment.
 */
export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined>): ServerConfig {
  // Empty variables count as unset, as in most shells' `VAR= cmd`.
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ServerEnvSchema.safeParse(clean);
  const issues: string[] = parsed.success ? [] : formatIssues((p) => p, parsed.error);
  // Found here rather than as EADDRINUSE at listen, after the store and journal were opened.
  const e = parsed.data;
  if (e && e.MQTT_URL === undefined && e.PORT !== 0 && e.PORT === e.MQTT_PORT)
    issues.push(
      `MQTT_PORT: the embedded broker and HTTP cannot share port ${e.PORT} (PORT is ${e.PORT} too)`,
    );
  const timeZone = e ? canonicalZone(e.TIME_ZONE) : null;
  if (e && timeZone === null)
    issues.push(`TIME_ZONE: no time zone ${e.TIME_ZONE} (an IANA name, e.g. Asia/Shanghai)`);
  const tls = e ? readTls(e) : { issues: [] };
  issues.push(...tls.issues);
  let gaswatch: GaswatchConfig | undefined;
  const file = typeof clean.GASWATCH_CONFIG === 'string' ? clean.GASWATCH_CONFIG : undefined;
  if (file) {
    const r = readGaswatchFile(file, clean);
    issues.push(...r.issues);
    gaswatch = r.config;
  } else {
    gaswatch = GaswatchConfigSchema.parse({});
  }
  if (!e || issues.length > 0 || !gaswatch || timeZone === null) throw new ConfigError(issues);
  return {
    port: e.PORT,
    host: e.HOST,
    mqtt: e.MQTT_URL
      ? { kind: 'external', url: e.MQTT_URL, clientId: e.MQTT_CLIENT_ID, ca: tls.ca ?? null }
      : { kind: 'embedded', port: e.MQTT_PORT, tls: tls.listener ?? null },
    store: e.INFLUX_URL ? { kind: 'influx', url: e.INFLUX_URL, database: e.INFLUX_DB } : { kind: 'embedded' },
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL }
      : { kind: 'sqlite', file: join(resolve(e.DATA_DIR), 'gaswatch.db') },
    dataDir: resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    auth: { sessionTtlMs: e.SESSION_HOURS * 3_600_000 },
    https: tls.https ?? null,
    trustProxy: e.TRUST_PROXY ?? false,
    ingest: {
      bufferMax: e.INGEST_BUFFER_MAX,
      batchSize: e.STORE_BATCH_SIZE,
      flushMs: e.STORE_FLUSH_MS,
      fsync: e.INGEST_FSYNC,
    },
    exportMaxRows: e.EXPORT_MAX_ROWS,
    timeZone,
    configFile: file ? resolve(file) : null,
    gaswatch,
  };
}
