/**
 * Reading the compose site's files (docker-compose.yml, .env.example, deploy/) as the tools do,
 * for the tests of server/test/deploy/.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@gaswatch/firmware-sim/system';

export interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  restart?: string;
  profiles?: string[];
  user?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  devices?: string[];
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  secrets?: string[];
}

/** One `${NAME…}` in the compose file: `:?message` (required) or `:-default`. */
export interface ComposeVariable {
  name: string;
  required?: string;
  default?: string;
}

const REFERENCE = /\$\{(\w+)(?::\?([^}]*)|:-([^}]*))?\}/g;

/** Every variable the compose file reads, comments left out (compose does not read them). */
export function composeVariables(text: string): ComposeVariable[] {
  const code = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\$\$/g, '');
  return [...code.matchAll(REFERENCE)].map((m) => ({
    name: m[1] as string,
    ...(m[2] === undefined ? {} : { required: m[2] }),
    ...(m[3] === undefined ? {} : { default: m[3] }),
  }));
}

/** Compose's interpolation of one string: `${X:?msg}` throws msg when X is unset or empty. */
export function interpolate(value: string, env: Record<string, string>): string {
  return value
    .replace(REFERENCE, (_, name: string, required?: string, fallback?: string) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (required !== undefined) throw new Error(required);
      return fallback ?? '';
    })
    .replace(/\$\$/g, '$');
}

/** .env.example's variables and their example values. */
export function envExample(): Record<string, string> {
  const text = readFileSync(join(REPO_ROOT, '.env.example'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^\w+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/**
 * A .env filled as .env.example says: each password `openssl rand -hex 24`, the TLS directory and
 * the duty room's webhook of the site.
 */
export function freshEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of Object.keys(envExample())) {
    if (/PASSWORD|SECRET/.test(name)) env[name] = randomBytes(24).toString('hex');
  }
  env.MQTT_TLS_DIR = '/etc/gaswatch/mqtt-tls';
  env.NOTIFY_WEBHOOK_URL = 'https://alarm-relay.site.internal/gaswatch';
  env.TIME_ZONE = '';
  return env;
}

/** The server service's environment after compose's interpolation with `env`. */
export function serverEnvironment(s: Service, env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)]),
  );
}

export interface DashboardTarget {
  refId: string;
  datasource: { type: string; uid: string };
  /** PostgreSQL */
  rawSql?: string;
  /** InfluxDB (InfluxQL) */
  query?: string;
  /** Prometheus (PromQL) */
  expr?: string;
}

export interface Dashboard {
  file: string;
  uid: string;
  title: string;
  /** Every query of every panel and template variable, with the panel's title. */
  targets: Array<DashboardTarget & { panel: string }>;
}

/** The provisioned dashboards (deploy/grafana/dashboards/*.json) with their queries. */
export function dashboards(): Dashboard[] {
  const dir = join(REPO_ROOT, 'deploy/grafana/dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      const d = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        uid: string;
        title: string;
        panels: Array<{ title: string; datasource?: { uid: string }; targets?: DashboardTarget[] }>;
        templating: {
          list: Array<{ name: string; datasource: { type: string; uid: string }; query: string }>;
        };
      };
      const targets = [
        ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ ...t, panel: p.title }))),
        ...d.templating.list.map((v) => ({
          refId: v.name,
          datasource: v.datasource,
          query: v.query,
          panel: `variable ${v.name}`,
        })),
      ];
      return { file, uid: d.uid, title: d.title, targets };
    });
}
