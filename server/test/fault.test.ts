import { encodePayload, type Reading, topics } from '@gaswatch/shared';
import {
  type Influxd,
  type Mosquitto,
  type Proc,
  startInfluxd,
  startMosquitto,
  waitFor,
} from '@gaswatch/shared/testing';
import { InfluxDB } from 'influx';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { apiFetch, getJson, metric, startServerProcess, tempDir } from './helpers.js';

/**
 * Issue 5's fault test: several gateways stream readings through Mosquitto while the server is
 * killed with SIGKILL and restarted, Mosquitto is restarted and InfluxDB is stopped for a while.
 * At the end every (device, seq) is stored exactly once and each alarm condition made one alarm.
 * InfluxDB stays down for the issue's full minute (FAULT_OUTAGE_S overrides it, e.g. 15 while
 * iterating on this file).
 */
const OUTAGE_MS = Number(process.env.FAULT_OUTAGE_S ?? 60) * 1000;
const GATEWAYS = 3;
const DEVICES_PER_GW = 3;
const PERIOD_MS = 50;

/** A gateway-like publisher: every reading stays in its outbox until PUBACKed; unacked ones are resent. */
class FakeGateway {
  readonly outbox = new Map<string, { topic: string; payload: Buffer; sentAt: number }>();
  readonly published = new Map<string, number>(); // dev → next seq
  readonly sampledAt = new Map<string, string>(); // dev/seq → ts (for failure messages)
  private client: MqttClient | null = null;
  private retry: NodeJS.Timeout | null = null;
  constructor(
    readonly gw: string,
    readonly devices: string[],
  ) {}

  async start(url: string) {
    this.client = await mqtt.connectAsync(url, {
      clientId: `fault-${this.gw}`,
      reconnectPeriod: 250,
      clean: true,
    });
    this.client.on('error', () => {});
    this.retry = setInterval(() => this.resend(), 1_000);
  }

  private send(key: string, topic: string, payload: Buffer) {
    this.outbox.set(key, { topic, payload, sentAt: Date.now() });
    this.client?.publish(topic, payload, { qos: 1 }, (err) => {
      if (!err) this.outbox.delete(key);
    });
  }

  private resend() {
    if (!this.client?.connected) return;
    for (const [key, e] of this.outbox) if (Date.now() - e.sentAt > 2_000) this.send(key, e.topic, e.payload);
  }

  sample(dev: string, values: Reading['values']) {
    const seq = this.published.get(dev) ?? 0;
    this.published.set(dev, seq + 1);
    const r: Reading = { v: 1, ts: new Date(Date.now()).toISOString(), seq, values, status: 'ok' };
    this.sampledAt.set(`${dev}/${seq}`, r.ts);
    this.send(`${dev}/${seq}`, topics.reading(this.gw, dev), encodePayload('reading', r));
  }

  async stop() {
    if (this.retry) clearInterval(this.retry);
    await this.client?.endAsync(true);
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('fault test: kill -9, broker restart, InfluxDB outage', () => {
  it('stores every (device, seq) exactly once and raises one alarm per condition', async () => {
    const mosquitto: Mosquitto = await startMosquitto();
    cleanups.push(() => mosquitto.stop());
    const influxd: Influxd = await startInfluxd();
    cleanups.push(() => influxd.stop());
    const data = tempDir();
    cleanups.push(() => data.remove());
    const env = {
      MQTT_URL: mosquitto.url,
      MQTT_CLIENT_ID: 'gaswatch-server-fault',
      INFLUX_URL: influxd.url,
      INFLUX_DB: 'fault',
      DATA_DIR: data.dir,
      STORE_FLUSH_MS: '50',
    };
    const procs: Proc[] = [];
    cleanups.push(async () => {
      for (const p of procs) await p.stop('SIGKILL');
    });
    let server = await startServerProcess(env);
    procs.push(server.proc);

    const gateways = Array.from(
      { length: GATEWAYS },
      (_, g) =>
        new FakeGateway(
          `gw-f${g}`,
          Array.from({ length: DEVICES_PER_GW }, (_, d) => (d === 0 ? `lel-f${g}` : `co-f${g}-${d}`)),
        ),
    );
    for (const g of gateways) {
      await g.start(mosquitto.url);
      cleanups.push(() => g.stop());
    }

    // Two gas episodes per combustible device: one before the faults, one after them.
    let tick = 0;
    const lel = () => ((tick >= 20 && tick < 40) || (tick >= 560 && tick < 580) ? 40 : 2);
    const timer = setInterval(() => {
      tick++;
      for (const g of gateways) {
        for (const dev of g.devices)
          g.sample(dev, dev.startsWith('lel') ? { LEL: lel() } : { CO: 5 + (tick % 7) });
      }
    }, PERIOD_MS);
    cleanups.push(() => clearInterval(timer));
    const at = (t: number) => waitFor(() => tick >= t, `tick ${t}`, 120_000, 10);

    // The first episode raised one alarm per combustible device; a person acknowledges it.
    await at(45);
    for (const g of gateways) {
      const dev = g.devices[0] as string;
      let alarms: { id: string; key: string }[] = [];
      await waitFor(async () => {
        alarms = (
          await getJson<{ alarms: { id: string; key: string }[] }>(`${server.url}/api/alarms?device=${dev}`)
        ).body.alarms;
        return alarms.length > 0;
      }, `first alarm of ${dev}`);
      expect(alarms.map((a) => a.key)).toEqual(['LEL:low']);
      const res = await apiFetch(`${server.url}/api/alarms/${alarms[0]?.id}/ack`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'ventilated' }),
      });
      expect(res.status).toBe(200);
    }
    await at(60); // 3 s
    await server.proc.stop('SIGKILL');
    await at(100);
    server = await startServerProcess(env);
    procs.push(server.proc);
    await at(180);
    await influxd.pause();
    const outageStart = Date.now();
    await at(220);
    await mosquitto.pause();
    await at(240);
    await mosquitto.start();
    await waitFor(
      async () => (await getJson<{ buffered: number }>(`${server.url}/readyz`)).status === 503,
      'readyz 503 during outage',
      20_000,
    );
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - outageStart))));
    await influxd.start();
    const endTick = Math.max(tick + 100, 620);
    await at(endTick);
    clearInterval(timer);

    // Everything acknowledged: gateway outboxes empty (with resends). Mosquitto acknowledges a
    // publish on receipt, so the server may still be catching up: wait until it has every
    // device's last seq with no gap open, and only then for the journal to drain to InfluxDB.
    await waitFor(() => gateways.every((g) => g.outbox.size === 0), 'gateway outboxes empty', 30_000, 100);
    // What the server's view still lacks, per device (empty when it has caught up).
    const behind = async () => {
      const { body } = await getJson<{
        devices: { id: string; seqGaps: number; lastReading: { seq: number } | null }[];
      }>(`${server.url}/api/devices`);
      const seen = new Map(body.devices.map((d) => [d.id, d]));
      return gateways.flatMap((g) =>
        g.devices.flatMap((dev) => {
          const d = seen.get(dev);
          const last = (g.published.get(dev) ?? 0) - 1;
          return d?.seqGaps === 0 && d.lastReading?.seq === last
            ? []
            : [`${dev}: seqGaps ${d?.seqGaps}, last seq ${d?.lastReading?.seq} of ${last}`];
        }),
      );
    };
    let lagging: string[] = [];
    // On a timeout the rows are still checked below (they say whether anything is missing) before
    // the server's own view is asserted.
    await waitFor(
      async () => {
        lagging = await behind();
        return lagging.length === 0;
      },
      "server has every device's last seq, no gaps",
      30_000,
      100,
    ).catch(() => {});
    await waitFor(
      async () => {
        const r = await getJson<{ ready: boolean; buffered: number }>(`${server.url}/readyz`);
        return r.body.ready && r.body.buffered === 0;
      },
      'server ready with an empty journal',
      30_000,
      100,
    );
    const outboxes = gateways.map((g) => `${g.gw}: ${[...g.outbox.keys()].join(' ') || 'empty'}`).join('; ');

    const influx = new InfluxDB({ host: '127.0.0.1', port: influxd.port, database: 'fault' });
    for (const g of gateways) {
      for (const dev of g.devices) {
        const rows = await influx.query<{ seq: number }>(`SELECT seq FROM reading WHERE dev = '${dev}'`);
        const seqs = rows.map((r) => r.seq).sort((a, b) => a - b);
        const n = g.published.get(dev) ?? 0;
        expect(n).toBeGreaterThan(500);
        // Name what is missing or doubled, with the sampling time of each, so a failure can be traced.
        const have = new Set(seqs);
        const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !have.has(i));
        const detail = missing.map((i) => `${i}@${g.sampledAt.get(`${dev}/${i}`) ?? '?'}`).join(', ');
        const refused = missing.length
          ? await metric(server.url, 'gaswatch_store_rejected_batches_total')
          : 0;
        expect(
          seqs.length,
          `${dev}: rows (missing ${detail || 'none'}; batches InfluxDB refused: ${refused})`,
        ).toBe(n);
        expect(seqs, `${dev}: every seq once`).toEqual(Array.from({ length: n }, (_, i) => i));
      }
    }

    // Every row is there: a gap the server still shows would be a phantom one.
    expect(lagging, `the server's view of the devices (gateway outboxes: ${outboxes})`).toEqual([]);

    // Exactly one alarm per episode (condition occurrence): no duplicates from replays, resends or restarts.
    for (const g of gateways) {
      const dev = g.devices[0] as string;
      const { body } = await getJson<{ alarms: { id: string; key: string; state: string }[] }>(
        `${server.url}/api/alarms?device=${dev}`,
      );
      const summary = JSON.stringify(body.alarms.map((a) => [a.key, a.state]));
      expect(
        body.alarms.filter((a) => a.key === 'LEL:low'),
        `${dev}: ${summary}`,
      ).toHaveLength(2);
      expect(body.alarms, `${dev}: ${summary}`).toHaveLength(2);
      expect(new Set(body.alarms.map((a) => a.id)).size).toBe(2);
    }
  }, 240_000);
});
