/**
 * Issue #3, checked where it matters: at the server's store. Mosquitto (with persistence) goes
 * away for 60 s while the detectors keep changing; during the outage the gateway process is
 * SIGKILLed and started again. The real server (its own process, persistent session at Mosquitto,
 * embedded store) must then hold every seq of every device exactly once: 0..max with no gap and no
 * duplicate row, the readings sampled during the outage (before and after the kill) included, and
 * max equal to the last seq the gateway ever gave out. Duplicates at the MQTT level are allowed
 * (the server drops them); the server's count of them is logged as a figure.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevice, createModbusTcpServer } from '@gaswatch/firmware-sim';
import {
  freePort,
  type Mosquitto,
  type Proc,
  startMosquitto,
  startTsNode,
  waitFor,
} from '@gaswatch/shared/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutbox } from '../src/outbox.js';
import { type TestDir, tempDir, writeConfig } from './helpers/config.js';

const GATEWAY_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const SERVER_MAIN = fileURLToPath(new URL('../../server/src/main.ts', import.meta.url));
// 60 s as the issue asks; GASWATCH_OUTAGE_MS shortens it when debugging the test itself.
const OUTAGE_MS = Number(process.env.GASWATCH_OUTAGE_MS ?? 60_000);
const GW = 'gw-outage';
const DEVICES = ['co1', 'co2', 'co3'];
/** Page size for /api/readings: small, so the test really pages. */
const PAGE = 100;

interface Row {
  ts: string;
  seq: number;
  values: { CO?: number };
  status: string;
}
interface GatewayView {
  id: string;
  online: boolean;
  ts?: string;
  outboxDepth?: number;
}

/** The session cookie of the server's first admin (made with its CLI): its API needs a login. */
let cookie = '';

/**
 * Makes the first admin with `gaswatch-server admin create` against the server's data, as an
 * installer does, and answers the generated password it prints.
 */
async function createAdmin(env: Record<string, string>, name: string): Promise<string> {
  const cli = startTsNode(SERVER_MAIN, ['admin', 'create', name], { env: { ...env, LOG_LEVEL: 'warn' } });
  const code = await cli.exited;
  const password = /^password: (\S+)$/m.exec(cli.output())?.[1];
  if (code !== 0 || password === undefined) throw new Error(`admin create: exit ${code}: ${cli.output()}`);
  return password;
}

async function logIn(serverUrl: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${serverUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { cookie }, signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

describe('uplink outage with a kill -9 in the middle, verified in the server store', () => {
  let broker: Mosquitto;
  let sim: ReturnType<typeof createModbusTcpServer>;
  let simRunning = false;
  let tmp: TestDir;
  let serverUrl = '';
  const procs: Proc[] = [];
  let changer: NodeJS.Timeout | undefined;
  const sims = DEVICES.map((id, i) => createDevice({ id, profile: 'gaswatch-co', unit: i + 1 }));

  beforeAll(async () => {
    tmp = tempDir();
    broker = await startMosquitto();
    sim = createModbusTcpServer({ devices: sims, port: await freePort() });
    const { port } = await sim.start();
    simRunning = true;
    let t = 0;
    changer = setInterval(() => {
      t++;
      sims.forEach((s, i) => {
        s.setConcentration('CO', (t * (i + 1)) % 500);
      });
    }, 250);

    const serverEnv = {
      PORT: '0',
      HOST: '127.0.0.1',
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: 'gaswatch-server-outage',
      DATA_DIR: join(tmp.dir, 'server-data'),
      LOG_LEVEL: 'info',
      STORE_FLUSH_MS: '20',
    };
    const password = await createAdmin(serverEnv, 'outage-admin');
    const server = startTsNode(SERVER_MAIN, [], { env: serverEnv });
    procs.push(server);
    const m = await server.waitForOutput(/"url":"([^"]+)"[^\n]*"msg":"listening"/, 60_000);
    serverUrl = m[1] as string;
    await waitFor(
      async () => (await fetch(`${serverUrl}/readyz`)).status === 200,
      'server ready (broker and store)',
      30_000,
      200,
    );
    cookie = await logIn(serverUrl, 'outage-admin', password);

    writeConfig(join(tmp.dir, 'gw.yaml'), {
      gatewayId: GW,
      url: broker.url,
      outboxDir: join(tmp.dir, 'outbox'),
      buses: [
        {
          id: 'tcp-0',
          type: 'modbus-tcp',
          host: '127.0.0.1',
          port,
          devices: DEVICES.map((id, i) => ({
            id,
            unit: i + 1,
            profile: 'gaswatch-co',
            pollIntervalS: 0.5,
            site: 'plant',
            location: id,
          })),
        },
      ],
    });
  }, 120_000);

  afterAll(async () => {
    if (changer) clearInterval(changer);
    for (const p of procs.reverse()) await p.stop('SIGKILL');
    if (simRunning) await sim?.stop();
    await broker?.stop();
    tmp?.remove();
  });

  const startGateway = () => {
    const p = startTsNode(GATEWAY_MAIN, ['--config', join(tmp.dir, 'gw.yaml')]);
    procs.push(p);
    return p;
  };

  /** Every stored row of a device, paged through /api/readings (from inclusive, ts unique per device). */
  async function storedRows(dev: string, fromMs: number): Promise<Row[]> {
    const rows: Row[] = [];
    const to = new Date(Date.now() + 3_600_000).toISOString();
    let from = fromMs;
    for (let page = 0; page < 1_000; page++) {
      const body = await getJson<{ rows: Row[] }>(
        `${serverUrl}/api/readings?device=${dev}&from=${new Date(from).toISOString()}&to=${to}&limit=${PAGE}`,
      );
      rows.push(...body.rows);
      const last = body.rows.at(-1);
      if (body.rows.length < PAGE || !last) return rows;
      from = Date.parse(last.ts) + 1;
    }
    throw new Error(`more than 1000 pages of readings for ${dev}`);
  }

  const gatewayView = async () =>
    (await getJson<{ gateways: GatewayView[] }>(`${serverUrl}/api/gateways`)).gateways.find(
      (g) => g.id === GW,
    );

  /** The server saw a status from the gateway, sent after `afterMs`, with an empty outbox. */
  const outboxEmptySince = async (afterMs: number) => {
    const g = await gatewayView();
    return g?.online === true && g.outboxDepth === 0 && g.ts !== undefined && Date.parse(g.ts) > afterMs;
  };

  it('the server stores every seq of every device exactly once after a 60 s outage and a SIGKILL', async () => {
    const runStart = Date.now() - 1_000;
    const first = startGateway();
    await first.waitForOutput(/"msg":"started"/, 30_000);
    await waitFor(
      async () => {
        for (const d of DEVICES) if ((await storedRows(d, runStart)).length < 4) return false;
        return true;
      },
      'readings stored before the outage',
      30_000,
      250,
    );

    const outageStart = Date.now();
    await broker.pause();
    await first.waitForOutput(/uplink offline/, 15_000);
    // Readings keep coming in while the broker is gone; then the process dies without warning.
    await new Promise((r) => setTimeout(r, Math.min(20_000, OUTAGE_MS / 3)));
    const killedAt = Date.now();
    await first.stop('SIGKILL');
    const second = startGateway();
    await second.waitForOutput(/"msg":"started"/, 45_000);
    const restartedAt = Date.now();
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - outageStart))));
    await broker.start();
    const outageEnd = Date.now();
    const outageS = (outageEnd - outageStart) / 1000;

    // The backlog replays into the server; wait for a status sent after the broker came back
    // that says the outbox is empty (the server's own view of the gateway).
    const diag = async () =>
      `\ngateway as the server sees it: ${JSON.stringify(await gatewayView().catch(() => null))}\n${second
        .output()
        .slice(-3000)}`;
    await waitFor(() => outboxEmptySince(outageEnd), 'backlog replayed (outbox depth 0)', 90_000, 250).catch(
      async (err: Error) => {
        throw new Error(`${err.message}${await diag()}`);
      },
    );

    const replayedS = (Date.now() - outageEnd) / 1000;

    // Freeze the run: with the detectors gone no new reading is taken (a failed read is never a
    // reading), so the last seq the gateway gave out is final and must reach the server.
    await sim.stop();
    simRunning = false;
    const mark = second.output().length;
    await waitFor(
      () => {
        const tail = second.output().slice(mark);
        return DEVICES.every((d) => new RegExp(`"device":"${d}"[^\\n]*"msg":"read failed"`).test(tail));
      },
      'every detector read failing',
      30_000,
      100,
    );
    const frozenAt = Date.now();
    await waitFor(() => outboxEmptySince(frozenAt), 'outbox empty after the last reading', 30_000, 250);
    await second.stop('SIGTERM');

    // The gateway's own record: every seq it gave out and what is still waiting.
    const outbox = createOutbox({
      dir: join(tmp.dir, 'outbox'),
      maxReadings: 1_000_000,
      logger: pino({ level: 'silent' }),
    });
    await outbox.start();
    const lastSeq = new Map(DEVICES.map((d) => [d, outbox.lastSeq(d)]));
    const depthAfter = outbox.depth;
    await outbox.stop();
    expect(depthAfter).toBe(0);

    let total = 0;
    for (const d of DEVICES) {
      let rows: Row[] = [];
      // The store drains its journal asynchronously: wait until the last seq is there.
      await waitFor(
        async () => {
          rows = await storedRows(d, runStart);
          return rows.some((r) => r.seq === lastSeq.get(d));
        },
        `${d}: seq ${lastSeq.get(d)} in the store`,
        30_000,
        250,
      );
      const seqs = rows.map((r) => r.seq).sort((a, b) => a - b);
      const max = lastSeq.get(d) ?? -1;
      // Exactly 0..max, each once: no gap, no duplicate row.
      expect(seqs, `${d} stored seqs`).toEqual(Array.from({ length: max + 1 }, (_, k) => k));
      total += rows.length;

      const at = (r: Row) => Date.parse(r.ts);
      const beforeKill = rows.filter((r) => at(r) >= outageStart && at(r) < killedAt);
      const afterRestart = rows.filter((r) => at(r) >= restartedAt && at(r) < outageEnd);
      // Sampled during the outage by the first process (survived the kill in its outbox) and by
      // the second one (taken while the broker was still gone).
      expect(beforeKill.length, `${d} readings sampled in the outage before the kill`).toBeGreaterThan(10);
      expect(afterRestart.length, `${d} readings sampled in the outage after the restart`).toBeGreaterThan(5);
      // The detectors kept changing, and the stored values show it.
      const distinct = (rs: Row[]) => new Set(rs.map((r) => r.values.CO)).size;
      expect(distinct(rows), `${d} distinct CO values`).toBeGreaterThan(10);
      expect(distinct(beforeKill), `${d} distinct CO values in the outage`).toBeGreaterThan(3);
      expect(distinct(afterRestart), `${d} distinct CO values after the restart`).toBeGreaterThan(2);
      // Stored in sampling order: ts rises with seq.
      const bySeq = [...rows].sort((a, b) => a.seq - b.seq);
      expect(
        bySeq.every((r, k) => k === 0 || at(r) > at(bySeq[k - 1]!)),
        `${d} ts rises with seq`,
      ).toBe(true);
    }

    const metrics = await (await fetch(`${serverUrl}/metrics`, { headers: { cookie } })).text();
    const dup = Number(
      /^gaswatch_ingest_duplicates_total(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1] ?? Number.NaN,
    );
    // Figures for the report: MQTT-level duplicates are allowed; the server dropped them.
    console.log(
      `outage ${outageS.toFixed(1)} s (kill at +${((killedAt - outageStart) / 1000).toFixed(1)} s, restarted +${((restartedAt - outageStart) / 1000).toFixed(1)} s), backlog at the server ${replayedS.toFixed(1)} s after the broker came back: ${total} readings over ${DEVICES.length} devices stored once, 0 missing; ${dup} duplicates dropped by the server`,
    );
  }, 240_000);
});
