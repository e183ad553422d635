// Storms fold (issue 18), measured on a real server (embedded broker and store) through MQTT and
// /api/live:
//  1. a gateway with 500 detectors drops (its MQTT will fires): how long until its one
//     gateway-offline alarm reaches /api/live, and how many alarms that makes;
//  2. a power cut of one area: 10 000 detectors behind 10 gateways stop at once (the gateways'
//     connections stay up but silent, as behind a dead switch): how many alarms, /api/live
//     messages and notifications that makes, first when the area fold forms, then once the
//     gateways time out (fold.gatewayTimeoutS).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePayload, topics } from '@gaswatch/shared';
import mqtt, { type MqttClient } from 'mqtt';
import { openLive, sleep, table } from './common.js';
import { provisionGateway, startTsNode, tempDir } from './harness.js';
import { benchToken } from './token.js';

const GW_DEVICES = Number(process.env.BENCH_FOLD_GW_DEVICES ?? 500);
const CUT_GATEWAYS = Number(process.env.BENCH_FOLD_GATEWAYS ?? 10);
const CUT_DEVICES = Number(process.env.BENCH_FOLD_DEVICES ?? 10_000);
/** Short windows keep the run short; the defaults are 30 s and 90 s (docs/alarm-engine.md). */
const WINDOW_S = 5;
const GATEWAY_TIMEOUT_S = 45;
const SERVER_MAIN = new URL('../src/main.ts', import.meta.url).pathname;

const data = tempDir();
writeFileSync(
  join(data.dir, 'gaswatch.yaml'),
  [
    'channels: { duty: { type: log } }',
    'defaults: { steps: [ { name: duty room, contacts: [ { name: Duty room, channel: duty } ] } ] }',
    'sites: { estate-cut: { area: town-cut }, plant: {} }',
    `fold: { windowS: ${WINDOW_S}, gatewayTimeoutS: ${GATEWAY_TIMEOUT_S} }`,
  ].join('\n'),
);
const env = { DATA_DIR: data.dir, GASWATCH_CONFIG: join(data.dir, 'gaswatch.yaml') };
const token = await benchToken(data.dir);
const cutGateways = Array.from({ length: CUT_GATEWAYS }, (_, g) => `gw-cut-${g}`);
const logins = new Map<string, { username: string; password: string }>();
for (const gw of ['gw-500', ...cutGateways]) logins.set(gw, await provisionGateway(env, gw));

const proc = startTsNode(SERVER_MAIN, [], { env: { LOG_LEVEL: 'warn', PORT: '0', MQTT_PORT: '0', ...env } });
const m = await proc.waitForOutput(/"url":"([^"]+)","mqtt":"([^"]+)"/, 30_000);
const url = m[1] as string;
const mqttUrl = m[2] as string;
const api = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
};

/** Every 'alarm' message of /api/live, with its arrival time. */
const ws = await openLive(url, token);
const live: { at: number; id: string; key: string; state: string }[] = [];
ws.on('message', (raw) => {
  const msg = JSON.parse(String(raw)) as {
    type: string;
    data: { alarm: { id: string; key: string; state: string } | null };
  };
  if (msg.type === 'alarm' && msg.data.alarm !== null)
    live.push({
      at: performance.now(),
      id: msg.data.alarm.id,
      key: msg.data.alarm.key,
      state: msg.data.alarm.state,
    });
});

const ONLINE = (ts: string) =>
  encodePayload('status', { v: 1, online: true, ts, version: 'bench', uptimeS: 1, outboxDepth: 0 });

/** A gateway's detectors: state and one reading each (QoS 1, in flight together). */
async function bringUp(c: MqttClient, gw: string, devs: string[], site: string): Promise<void> {
  const ts = new Date().toISOString();
  await c.publishAsync(topics.status(gw), ONLINE(ts), { qos: 1, retain: true });
  for (let i = 0; i < devs.length; i += 500) {
    await Promise.all(
      devs.slice(i, i + 500).flatMap((dev) => [
        c.publishAsync(
          topics.state(gw, dev),
          encodePayload('state', {
            v: 1,
            ts,
            online: true,
            model: 'gaswatch-co',
            kind: 'household-co',
            site,
            location: 'kitchen',
            lastError: null,
            pollIntervalS: 10,
          }),
          { qos: 1, retain: true },
        ),
        c.publishAsync(
          topics.reading(gw, dev),
          encodePayload('reading', { v: 1, ts, seq: 0, values: { CO: 0 }, status: 'ok' }),
          { qos: 1 },
        ),
      ]),
    );
  }
}

type OpenAlarm = { id: string; key: string; state: string; fold?: { count: number } };
async function openAlarms(): Promise<OpenAlarm[]> {
  return (await api<{ alarms: OpenAlarm[] }>('/api/alarms?state=open&limit=1000')).alarms;
}
/** "10 × gateway-offline (1000 devices, active)": the open alarms, alike ones counted together. */
function describeOpen(open: OpenAlarm[]): string {
  const alike = new Map<string, number>();
  for (const a of open) {
    const k = `${a.key} (${a.fold?.count ?? 1} devices, ${a.state})`;
    alike.set(k, (alike.get(k) ?? 0) + 1);
  }
  return [...alike].map(([k, n]) => `${n} × ${k}`).join('; ');
}
async function notifications(ids: string[]): Promise<number> {
  let n = 0;
  for (const id of ids)
    n += (await api<{ total: number }>(`/api/alarms/${encodeURIComponent(id)}/notifications?limit=1`)).total;
  return n;
}

// ---- 1. A gateway with 500 detectors drops.
const gw500 = await mqtt.connectAsync(mqttUrl, {
  clientId: 'gw-gw-500',
  ...logins.get('gw-500'),
  will: {
    topic: topics.status('gw-500'),
    payload: encodePayload('status', { v: 1, online: false }),
    qos: 1,
    retain: true,
  },
});
await bringUp(
  gw500,
  'gw-500',
  Array.from({ length: GW_DEVICES }, (_, i) => `co-g-${i}`),
  'plant',
);
await sleep(2_000);
const before = live.length;
const t0 = performance.now();
gw500.stream.destroy(); // the connection drops: the broker publishes the will
for (let i = 0; i < 1_000 && !live.slice(before).some((e) => e.key === 'gateway-offline'); i++)
  await sleep(5);
const gwAlarm = live.slice(before).find((e) => e.key === 'gateway-offline');
if (gwAlarm === undefined) throw new Error('no gateway-offline alarm within 5 s');
const gwMs = gwAlarm.at - t0;
// Past every device's offline limit (30 s) and the area window: still one alarm.
await sleep(35_000 + WINDOW_S * 1_000);
const gwOpen = await openAlarms();
const gwRow = [
  GW_DEVICES,
  gwMs.toFixed(0),
  gwOpen.length,
  gwOpen
    .filter((a) => a.key === 'gateway-offline')
    .map((a) => a.fold?.count ?? 0)
    .join(', '),
  live.slice(before).length,
  await notifications(gwOpen.map((a) => a.id)),
];
gw500.end(true);

// ---- 2. A power cut: 10 000 detectors of one area behind 10 gateways stop at once.
const cut: MqttClient[] = [];
const perGw = Math.ceil(CUT_DEVICES / CUT_GATEWAYS);
const putStart = performance.now();
for (const [g, gw] of cutGateways.entries()) {
  // keepalive 0: the connection stays up and silent (a dead switch or a dead grid behind it).
  const c = await mqtt.connectAsync(mqttUrl, { clientId: `gw-${gw}`, keepalive: 0, ...logins.get(gw) });
  cut.push(c);
  await bringUp(
    c,
    gw,
    Array.from({ length: perGw }, (_, i) => `co-c-${g}-${i}`),
    'estate-cut',
  );
}
const upS = (performance.now() - putStart) / 1000;
const fromCut = live.length;
const cutAt = performance.now();
const seen = () => live.slice(fromCut);
/** Alarms raised since the cut, by kind, and the open ones now. */
async function cutRow(when: string): Promise<(string | number)[]> {
  const open = (await openAlarms()).filter((a) => a.key !== 'gateway-offline' || a.id.startsWith('gw-cut'));
  const raised = new Map<string, string>();
  for (const e of seen()) if (e.state === 'active') raised.set(e.id, e.key);
  const byKey = (k: string) => [...raised.values()].filter((x) => x === k).length;
  return [
    when,
    ((performance.now() - cutAt) / 1000).toFixed(0),
    raised.size,
    byKey('area-offline'),
    byKey('gateway-offline'),
    byKey('offline'),
    describeOpen(open),
    seen().length,
    await notifications([...raised.keys()]),
  ];
}
for (let i = 0; i < 600 && !seen().some((e) => e.key === 'area-offline'); i++) await sleep(100);
const areaMs = seen().find((e) => e.key === 'area-offline')?.at;
await sleep(3_000);
const rows = [await cutRow('area fold formed')];
await sleep(Math.max(0, (GATEWAY_TIMEOUT_S + 5) * 1_000 - (performance.now() - cutAt)));
rows.push(await cutRow(`gateways timed out (${GATEWAY_TIMEOUT_S} s)`));

ws.close();
for (const c of cut) c.end(true);
await proc.stop();
data.remove();

process.stdout.write(
  `${table(
    `Storms fold: a gateway of ${GW_DEVICES} detectors drops (its will), embedded broker and store (\`npm run bench -w @gaswatch/server\`)`,
    [
      'detectors',
      'will → alarm on /api/live, ms',
      'open alarms after 40 s',
      'folded',
      "/api/live 'alarm' messages",
      'notifications',
    ],
    [gwRow],
  )}\n${table(
    `Storms fold: power cut of ${CUT_DEVICES} detectors behind ${CUT_GATEWAYS} gateways of one area (fold.windowS ${WINDOW_S}, gatewayTimeoutS ${GATEWAY_TIMEOUT_S}; set up in ${upS.toFixed(0)} s; area alarm ${areaMs === undefined ? 'never' : `${((areaMs - cutAt) / 1000).toFixed(1)} s`} after the cut)`,
    [
      'when',
      's after cut',
      'alarms raised',
      'area',
      'gateway',
      'device',
      'open (latched included)',
      "/api/live 'alarm' messages",
      'notifications',
    ],
    rows,
  )}\n`,
);
