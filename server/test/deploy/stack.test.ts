/**
 * The compose site's Grafana dashboards and Prometheus alert rules against the real parts they
 * read (docs/deploy.md): a server on PostgreSQL and InfluxDB with readings, an alarm in a home's
 * area and its acknowledgement. Every metric a dashboard or rule names must be one the server
 * exports; every dashboard query must run, PostgreSQL's as Grafana's read-only login made by
 * deploy/postgres/grafana-reader.sql, InfluxDB's against what the server wrote; and they must show
 * what happened.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@gaswatch/firmware-sim/system';
import { encodePayload, topics } from '@gaswatch/shared';
import {
  type Influxd,
  POSTGRES_BIN,
  type Postgres,
  startInfluxd,
  startPostgres,
} from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deviceState, publishState } from '../e2e/browser.js';
import {
  apiFetch,
  connectGateway,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  waitForCount,
} from '../helpers.js';
import { dashboards } from './stack-files.js';

const GW = 'gw-deploy';
const READER_PASSWORD = 'reader-password-of-this-test';
const from = Date.now() - 3_600_000;
let postgres: Postgres;
let influxd: Influxd;
let server: TestServer;
let gateway: MqttClient;
let databaseUrl: string;
let alarmId: string;

async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await apiFetch(`${server.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const out = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(out)}`);
  return out;
}

/** An InfluxQL query as Grafana sends it, answered by the test's influxd (errors thrown). */
async function influxQuery(
  q: string,
): Promise<Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>> {
  const u = new URL('/query', influxd.url);
  u.searchParams.set('db', 'gaswatch');
  u.searchParams.set('q', q);
  u.searchParams.set('epoch', 'ms');
  const body = (await (await fetch(u)).json()) as {
    error?: string;
    results: Array<{
      error?: string;
      series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
    }>;
  };
  const error = body.error ?? body.results.find((r) => r.error)?.error;
  if (error) throw new Error(`${error}\n${q}`);
  return body.results.flatMap((r) => r.series ?? []);
}

/** Grafana's macros and this test's template variable values filled into an InfluxQL query. */
const influxQl = (q: string) =>
  q
    .replace(/\$timeFilter/g, `time >= ${from}ms`)
    .replace(/\$__interval/g, '1m')
    .replace(/\/\^\$gw\$\//g, `/^${GW}$/`)
    .replace(/\/\^\$dev\$\//g, '/^(co-kitchen|lel-kitchen)$/');

/** Grafana's macros and variables filled into a PostgreSQL query. */
const postgresSql = (q: string) =>
  q
    .replace(/\$__unixEpochFrom\(\)/g, String(Math.floor(from / 1000)))
    .replace(/\$__unixEpochTo\(\)/g, String(Math.ceil(Date.now() / 1000) + 60))
    .replace(/\$\{gw:regex\}/g, GW)
    .replace(/\$\{dev:regex\}/g, 'co-kitchen|co-bedroom');

async function asReader<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  // The login in the URL itself: node-pg lets a connection string's user win over a `user` option.
  const url = new URL(databaseUrl);
  url.username = 'grafana_reader';
  url.password = READER_PASSWORD;
  const client = new pg.Client({ connectionString: url.href });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  [postgres, influxd] = await Promise.all([startPostgres(), startInfluxd()]);
  // The database has the compose file's name: grafana-reader.sql grants CONNECT on it.
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('CREATE DATABASE gaswatch');
  await admin.end();
  databaseUrl = postgres.url.replace(/\/postgres$/, '/gaswatch');
  server = await startTestServer({ DATABASE_URL: databaseUrl, INFLUX_URL: influxd.url });
  // postgres-grants runs the file after the migrations, as here.
  execFileSync(
    join(POSTGRES_BIN, 'psql'),
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(postgres.port),
      '-U',
      'gaswatch',
      '-d',
      'gaswatch',
      '-v',
      'ON_ERROR_STOP=1',
      '-v',
      `reader_password=${READER_PASSWORD}`,
      '-f',
      join(REPO_ROOT, 'deploy/postgres/grafana-reader.sql'),
    ],
    { stdio: 'pipe' },
  );

  await call('POST', '/api/areas', { id: 'dapu', name: '大埔镇', kind: 'township', parent: null });
  await call('POST', '/api/households', {
    id: 'dp-7',
    area: 'dapu',
    address: '大埔镇 7 号',
    detectors: [{ device: 'co-bedroom', location: '卧室' }],
  });
  gateway = await connectGateway(server, GW);
  const now = Date.now();
  await gateway.publishAsync(
    topics.status(GW),
    encodePayload('status', {
      v: 1,
      online: true,
      ts: new Date(now).toISOString(),
      version: '0.1.0',
      uptimeS: 60,
      outboxDepth: 0,
    }),
    { qos: 1, retain: true },
  );
  // Ten minutes of a kitchen: CO and combustible, every gas the readings dashboard draws.
  for (let i = 0; i < 10; i++) {
    const ts = now - (10 - i) * 60_000;
    await publishReading(
      gateway,
      GW,
      'co-kitchen',
      reading(i + 1, ts, { CO: 20 + i, H2S: 1, O2: 20.9, CO2: 600 }),
    );
    await publishReading(gateway, GW, 'lel-kitchen', reading(i + 1, ts, { LEL: 2, CH4: 2, C3H8: 0 }));
  }
  // The bedroom detector's own alarm output: an alarm in the home's area (大埔镇).
  await publishState(gateway, GW, 'co-bedroom', deviceState({ site: 'home', pollIntervalS: 60 }));
  await publishReading(gateway, GW, 'co-bedroom', { ...reading(1, now, { CO: 120 }), alarm: true });
  await waitForCount(
    async () => server.app.alarms.list({ dev: 'co-bedroom' }).length,
    1,
    'the bedroom alarm',
  );
  alarmId = server.app.alarms.list({ dev: 'co-bedroom' })[0]?.id ?? '';
  await call('POST', `/api/alarms/${alarmId}/ack`, { note: '已联系住户' });
  await waitForCount(
    async () => ((await influxQuery('SELECT count("seq") FROM "reading"'))[0]?.values[0]?.[1] as number) ?? 0,
    21,
    'readings in InfluxDB',
  );
  // The acknowledgement is in PostgreSQL (the alarm book writes behind the engine).
  await waitForCount(
    async () =>
      (await asReader<{ n: number }>(`SELECT count(*)::int AS n FROM alarms WHERE state = 'acknowledged'`))[0]
        ?.n ?? 0,
    1,
    'the acknowledged alarm in PostgreSQL',
  );
}, 90_000);

afterAll(async () => {
  await gateway?.endAsync();
  await server?.close();
  await Promise.all([postgres?.stop(), influxd?.stop()]);
});

describe('Prometheus: every metric named is exported', () => {
  /** Metric names in PromQL expressions: gaswatch_* (Prometheus' own `up` aside). */
  const namesIn = (expr: string) => [...expr.matchAll(/\bgaswatch_[a-z0-9_]+/g)].map((m) => m[0]);

  it('by the running server: every one in the dashboards and the alert rules', async () => {
    const text = await (await apiFetch(`${server.url}/metrics`)).text();
    const exported = new Map(
      [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
    );
    const rules = parse(readFileSync(join(REPO_ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
    };
    const named = new Map<string, string>();
    for (const r of rules.groups.flatMap((g) => g.rules))
      for (const n of namesIn(r.expr)) named.set(n, `alerts.yml ${r.alert}`);
    for (const d of dashboards())
      for (const t of d.targets)
        if (t.expr !== undefined) for (const n of namesIn(t.expr)) named.set(n, `${d.file} "${t.panel}"`);
    // What the issue asks the rules to watch is among them.
    expect([...named.keys()]).toEqual(
      expect.arrayContaining([
        'gaswatch_ingest_readings_total',
        'gaswatch_store_write_errors_total',
        'gaswatch_ingest_buffered_readings',
        'gaswatch_gateway_online',
        'gaswatch_notifications_failed_total',
      ]),
    );
    for (const [name, where] of named) {
      // A histogram's series: name_bucket, name_sum, name_count.
      const base = name.replace(/_(bucket|sum|count)$/, '');
      const ok = exported.has(name) || (base !== name && exported.get(base) === 'histogram');
      expect(ok, `${where}: ${name} is not in the server's /metrics`).toBe(true);
    }
    // This gateway is online in the gauge the availability dashboard and the offline rule read.
    expect(text).toMatch(new RegExp(`^gaswatch_gateway_online\\{gw="${GW}"\\} 1$`, 'm'));
  });
});

describe('PostgreSQL: the dashboards as Grafana runs them, with its read-only login', () => {
  const sqlTargets = dashboards().flatMap((d) =>
    d.targets.filter((t) => t.rawSql !== undefined).map((t) => ({ ...t, file: d.file })),
  );

  it('runs every query of every dashboard', async () => {
    expect(await asReader('SELECT current_user AS who')).toEqual([{ who: 'grafana_reader' }]);
    expect(sqlTargets.length).toBeGreaterThanOrEqual(10);
    for (const t of sqlTargets) {
      await expect(asReader(postgresSql(t.rawSql ?? '')), `${t.file} "${t.panel}"`).resolves.toBeDefined();
    }
  });

  it("counts the bedroom alarm in its home's township, with its time to acknowledge", async () => {
    const perArea = sqlTargets.find((t) => t.panel === 'Alarms and response times per area');
    const rows = await asReader<{ area: string; raised: string; open: string; ack_p50_s: number | null }>(
      postgresSql(perArea?.rawSql ?? ''),
    );
    const dapu = rows.find((r) => r.area === '大埔镇');
    expect(dapu).toMatchObject({ raised: '1', open: '1' });
    expect(dapu?.ack_p50_s).toBeGreaterThanOrEqual(0);
    // The readings dashboard's table lists it for its detector, the availability one does not
    // count it as offline or in fault.
    const ofDevices = sqlTargets.find((t) => t.panel === 'Alarms of these detectors');
    expect(await asReader(postgresSql(ofDevices?.rawSql ?? ''))).toEqual([
      expect.objectContaining({
        detector: 'co-bedroom',
        gateway: GW,
        state: 'acknowledged',
        severity: 'critical',
      }),
    ]);
    const offline = sqlTargets.find((t) => t.panel === 'Detectors offline (open alarms)');
    expect(await asReader(postgresSql(offline?.rawSql ?? ''))).toEqual([{ offline: '0' }]);
  });

  it('lets the login read no account, secret, phone number or message, and change nothing', async () => {
    for (const sql of [
      'SELECT password_hash FROM users',
      'SELECT id FROM sessions',
      'SELECT secret_hash FROM api_tokens',
      'SELECT password_hash FROM gateways',
      'SELECT actor FROM audit_log',
      'SELECT contacts FROM households',
      'SELECT address, text FROM notifications',
      `UPDATE alarms SET state = 'cleared'`,
      'DELETE FROM alarm_events',
    ])
      await expect(asReader(sql), sql).rejects.toThrow(/permission denied/);
  });
});

describe('InfluxDB: the dashboards against what the server wrote', () => {
  const influxTargets = dashboards().flatMap((d) =>
    d.targets.filter((t) => t.query !== undefined).map((t) => ({ ...t, file: d.file })),
  );

  it('runs every query and template variable of every dashboard', async () => {
    expect(influxTargets.length).toBeGreaterThanOrEqual(8);
    for (const t of influxTargets)
      await expect(influxQuery(influxQl(t.query ?? '')), `${t.file} "${t.panel}"`).resolves.toBeDefined();
  });

  it('draws the kitchen CO per detector and lists the gateway, its detectors and their last readings', async () => {
    const co = influxTargets.find((t) => t.panel === 'CO (ppm)');
    const series = await influxQuery(influxQl(co?.query ?? ''));
    expect(series.map((s) => s.tags?.dev)).toEqual(['co-kitchen']);
    const values = (series[0]?.values ?? []).map((v) => v[1]).filter((v) => v !== null);
    expect(values).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    const gws = await influxQuery(
      influxQl(influxTargets.find((t) => t.panel === 'variable gw')?.query ?? ''),
    );
    expect(gws[0]?.values.map((v) => v[1])).toEqual([GW]);
    const devs = await influxQuery(
      influxQl(influxTargets.find((t) => t.panel === 'variable dev')?.query ?? ''),
    );
    expect(devs[0]?.values.map((v) => v[1])).toEqual(['co-bedroom', 'co-kitchen', 'lel-kitchen']);
    const last = await influxQuery(
      influxQl(influxTargets.find((t) => t.panel === 'Detectors: last reading')?.query ?? ''),
    );
    expect(Object.fromEntries(last.map((s) => [s.tags?.dev, s.values[0]?.[1]]))).toEqual({
      'co-bedroom': 1,
      'co-kitchen': 10,
      'lel-kitchen': 10,
    });
  });
});
