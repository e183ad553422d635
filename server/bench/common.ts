import { readFileSync } from 'node:fs';
import { encodePayload, topics } from '@gaswatch/shared';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Precomputed reading payloads: `devices` devices, consecutive seq per device, ts 1 ms apart from now on (so they arrive as live readings, not replays). */
export function makeMessages(
  total: number,
  devices: number,
  runId: string,
): { topic: string; payload: Buffer }[] {
  const t0 = Date.now();
  const out: { topic: string; payload: Buffer }[] = [];
  for (let i = 0; i < total; i++) {
    const d = i % devices;
    const seq = Math.floor(i / devices);
    out.push({
      topic: topics.reading(`gw-${runId}`, `dev-${runId}-${d}`),
      payload: encodePayload('reading', {
        v: 1,
        ts: new Date(t0 + seq).toISOString(),
        seq,
        values: { CO: (seq % 400) + 0.5 },
        status: 'ok',
      }),
    });
  }
  return out;
}

/**
 * Publishes all messages at QoS 1 from `clients` connections, each with at most `window` in
 * flight, logged in as `login` (the gateway of the messages' topics) when the broker wants one.
 */
export async function publishAll(
  url: string,
  messages: readonly { topic: string; payload: Buffer }[],
  clients: number,
  window: number,
  runId: string,
  login?: { username: string; password: string },
): Promise<{ start: number; ackedAt: number }> {
  const cs: MqttClient[] = [];
  for (let i = 0; i < clients; i++)
    cs.push(await mqtt.connectAsync(url, { clientId: `pub-${runId}-${i}`, reconnectPeriod: 200, ...login }));
  const start = performance.now();
  await Promise.all(
    cs.map(
      (c, ci) =>
        new Promise<void>((resolve, reject) => {
          const mine = messages.filter((_, i) => i % clients === ci);
          let next = 0;
          let done = 0;
          const pump = () => {
            while (next < mine.length && next - done < window) {
              const m = mine[next++] as { topic: string; payload: Buffer };
              c.publish(m.topic, m.payload, { qos: 1 }, (err) => {
                if (err) return reject(err);
                done++;
                if (done === mine.length) resolve();
                else pump();
              });
            }
          };
          if (mine.length === 0) resolve();
          else pump();
        }),
    ),
  );
  const ackedAt = performance.now();
  await Promise.all(cs.map((c) => c.endAsync()));
  return { start, ackedAt };
}

/** A /metrics sample; `token` is an API token of the server (token.ts: benchToken). */
export async function metricValue(baseUrl: string, name: string, token: string): Promise<number> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status} ${await res.text()}`);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

export function table(title: string, header: string[], rows: (string | number)[][]): string {
  const fmt = (v: string | number) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : v;
  return [
    `### ${title}`,
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`),
    '',
  ].join('\n');
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux; NaN elsewhere).
 * CPU per message does not depend on how busy the rest of the machine is, unlike msg/s.
 */
export function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: utime is the 14th field, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
/** USER_HZ: 100 on Linux for every architecture Node runs on. */
const CLOCK_TICKS = 100;

/** The retained DeviceState of a combustible detector at site `bench`: the latency probes' device. */
export function lelProbeState(ts: string, pollIntervalS: number): Buffer {
  return encodePayload('state', {
    v: 1,
    ts,
    online: true,
    model: 'gaswatch-lel',
    kind: 'combustible',
    site: 'bench',
    location: 'kitchen',
    lastError: null,
    pollIntervalS,
  });
}

/** The server's live feed (/api/live) as a console opens it, once the socket is open. */
export async function openLive(url: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/live`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}
