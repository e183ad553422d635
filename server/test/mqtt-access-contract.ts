import { readFileSync } from 'node:fs';
import { encodePayload, topics } from '@gaswatch/shared';
import { type TestCa, waitFor } from '@gaswatch/shared/testing';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadingRow } from '../src/store/types.js';
import { metric, reading, type TestServer } from './helpers.js';

/** A broker under test, with the gaswatch server that ingests from it. */
export interface AccessSetup {
  server: TestServer;
  /** Where gateways log in with a password. */
  url: string;
  /** The MQTTS listener that takes client certificates (CN = gateway id). */
  tlsUrl: string;
  /** Issued the listener's certificate; its client certificates are trusted. */
  ca: TestCa;
  /** A CA the broker does not trust. */
  otherCa: TestCa;
  /** Provisions the gateways and makes the broker know them (Mosquitto: export and SIGHUP). */
  login(...gws: string[]): Promise<Map<string, { username: string; password: string }>>;
  /** Revokes the gateway and makes the broker know it. */
  revoke(gw: string): Promise<void>;
  /**
   * What a publish outside the gateway's own topics meets: aedes closes the connection, Mosquitto
   * acknowledges and drops it (MQTT-3.3.5-2 allows both).
   */
  refusedPublish: 'closes' | 'acknowledged';
  /** Checks a client certificate's CN against the provisioned gateways (Mosquitto takes any the CA issued). */
  checksCertificateCn: boolean;
  teardown(): Promise<void>;
}

const quick: IClientOptions = { reconnectPeriod: 0, connectTimeout: 5_000 };

/** Connects, or resolves to the error the broker answered with. */
async function attempt(url: string, opts: IClientOptions): Promise<MqttClient | Error> {
  const c = mqtt.connect(url, { ...quick, ...opts });
  return new Promise((resolve) => {
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      resolve(err);
    });
    c.once('close', () => {
      if (!c.connected) resolve(new Error('connection closed before CONNACK'));
    });
  });
}

async function connected(url: string, opts: IClientOptions): Promise<MqttClient> {
  const c = await attempt(url, opts);
  if (c instanceof Error) throw c;
  return c;
}

/** Resolves when the client's connection closes. */
const closed = (c: MqttClient) => new Promise<void>((resolve) => c.once('close', () => resolve()));

/** The QoS the broker granted a subscription, 128 for a refusal (mqtt.js 5 rejects on 128). */
async function grantOf(c: MqttClient, topic: string): Promise<number> {
  try {
    return (await c.subscribeAsync(topic, { qos: 1 }))[0]?.qos ?? -1;
  } catch (err) {
    if (/Subscribe error/.test(String(err))) return 128;
    throw err;
  }
}

/** Messages a client receives, as `topic payload` strings. */
function collect(c: MqttClient): string[] {
  const got: string[] = [];
  c.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
  return got;
}

/**
 * SPEC §9's "a gateway may be only itself", against a real MQTT client: one suite, run against the
 * embedded aedes broker and against Mosquitto configured from `gaswatch-server mqtt export`.
 */
export function mqttAccessContract(name: string, setup: () => Promise<AccessSetup>): void {
  describe(`MQTT access: ${name}`, () => {
    let s: AccessSetup;
    const clients: MqttClient[] = [];
    const keep = <T extends MqttClient>(c: T) => {
      clients.push(c);
      return c;
    };
    const count = (dev: string) => s.server.app.store.countReadings(dev);
    let logins: Map<string, { username: string; password: string }>;
    const login = (gw: string) => logins.get(gw) ?? { username: gw, password: 'unknown' };

    beforeAll(async () => {
      s = await setup();
      logins = await s.login('gw-a', 'gw-b', 'gw-c', 'gw-m');
    });
    afterAll(async () => {
      for (const c of clients) c.end(true);
      await s?.teardown();
    });

    it('refuses an anonymous client, an unknown gateway and a wrong password', async () => {
      const anonymous = await attempt(s.url, { clientId: 'anon' });
      expect(anonymous).toBeInstanceOf(Error);
      expect(String(anonymous)).toMatch(/Not authorized|Bad username or password/);
      const unknown = await attempt(s.url, { clientId: 'x', username: 'gw-nobody', password: 'guess' });
      expect(String(unknown)).toMatch(/Not authorized|Bad username or password/);
      const wrong = await attempt(s.url, { clientId: 'y', username: 'gw-a', password: 'not-its-password' });
      expect(String(wrong)).toMatch(/Not authorized|Bad username or password/);
      // With the right password it connects.
      keep(await connected(s.url, { clientId: 'gw-a-ok', ...login('gw-a') })).end();
    });

    it("a gateway publishing as another stores nothing of it, and the other's own readings are all stored", async () => {
      const a = keep(await connected(s.url, { clientId: 'gw-a-spoof', ...login('gw-a') }));
      const b = keep(await connected(s.url, { clientId: 'gw-b-real', ...login('gw-b') }));
      const deniedBefore = await metric(s.server.url, 'gaswatch_mqtt_denied_total{action="publish"}');
      const spoof = encodePayload('reading', reading(1, Date.now() - 5_000, { CO: 999 }));
      if (s.refusedPublish === 'closes') {
        const gone = closed(a);
        a.publish(topics.reading('gw-b', 'victim-co'), spoof, { qos: 1 });
        await gone;
        await waitFor(
          async () =>
            (await metric(s.server.url, 'gaswatch_mqtt_denied_total{action="publish"}')) === deniedBefore + 1,
          'refused publish counted',
        );
      } else {
        await a.publishAsync(topics.reading('gw-b', 'victim-co'), spoof, { qos: 1 });
      }
      await b.publishAsync(
        topics.reading('gw-b', 'victim-co'),
        encodePayload('reading', reading(2, Date.now(), { CO: 12 })),
        { qos: 1 },
      );
      await waitFor(async () => (await count('victim-co')) >= 1, "gw-b's own reading stored");
      const rows = (await s.server.app.store.queryReadings({
        dev: 'victim-co',
        from: 0,
        to: Date.now() + 1,
      })) as ReadingRow[];
      expect(rows.map((r) => r.seq)).toEqual([2]);

      // gw-a under its own id is stored as ever (on aedes, on a new connection).
      const a2 = keep(await connected(s.url, { clientId: 'gw-a-own', ...login('gw-a') }));
      await a2.publishAsync(
        topics.reading('gw-a', 'own-co'),
        encodePayload('reading', reading(1, Date.now(), { CO: 3 })),
        { qos: 1 },
      );
      await waitFor(async () => (await count('own-co')) === 1, "gw-a's own reading stored");
    });

    it("a gateway cannot send another one commands or the time, nor read another one's commands", async () => {
      const a = keep(await connected(s.url, { clientId: 'gw-a-sub', ...login('gw-a') }));
      const b = keep(await connected(s.url, { clientId: 'gw-b-sub', ...login('gw-b') }));
      const aGot = collect(a);
      const bGot = collect(b);
      for (const topic of [topics.cmd('gw-a'), topics.time()]) expect(await grantOf(a, topic), topic).toBe(1);
      for (const topic of [topics.cmd('gw-b'), 'gaswatch/v1/+/cmd', 'gaswatch/v1/#', '#']) {
        const qos = await grantOf(a, topic);
        // Mosquitto 2.0 may grant a filter and check each message against the ACL at delivery.
        if (name === 'embedded aedes') expect(qos, topic).toBe(128);
      }
      await b.subscribeAsync([topics.cmd('gw-b'), topics.time()], { qos: 1 });

      // Forged by gw-a: a command to gw-b and a time beacon (on aedes each closes gw-a's connection).
      const forger = keep(await connected(s.url, { clientId: 'gw-a-forger', ...login('gw-a') }));
      const forged = JSON.stringify({ v: 1, id: 'forged', type: 'silence', device: 'co-1' });
      forger.publish(topics.cmd('gw-b'), forged, { qos: 0 });
      const forger2 = keep(await connected(s.url, { clientId: 'gw-a-forger2', ...login('gw-a') }));
      forger2.publish(topics.time(), JSON.stringify('1999-01-01T00:00:00.000Z'), { qos: 0 });

      await s.server.app.sendCommand('gw-b', { v: 1, id: 'real-1', type: 'silence', device: 'co-1' });
      await waitFor(() => bGot.some((m) => m.includes('real-1')), 'gw-b got its command');
      await new Promise((r) => setTimeout(r, 500));
      expect(bGot.filter((m) => m.includes('forged') || m.includes('1999'))).toEqual([]);
      expect(aGot.filter((m) => m.startsWith(topics.cmd('gw-b')))).toEqual([]);
    });

    it('a revoked gateway is cut off and cannot connect again', async () => {
      const c = keep(await connected(s.url, { clientId: 'gw-c-live', ...login('gw-c') }));
      const gone = closed(c);
      await s.revoke('gw-c');
      await gone;
      const again = await attempt(s.url, { clientId: 'gw-c-again', ...login('gw-c') });
      expect(String(again)).toMatch(/Not authorized|Bad username or password/);
    });

    describe('mutual TLS', () => {
      const tlsOpts = (cert: { cert: string; key: string }): IClientOptions => ({
        ca: readFileSync(s.ca.cert),
        cert: readFileSync(cert.cert),
        key: readFileSync(cert.key),
        rejectUnauthorized: true,
      });

      it('a certificate from MQTT_CA whose CN is the gateway id logs in without a password, and its readings are stored', async () => {
        const m = keep(await connected(s.tlsUrl, { clientId: 'gw-m-tls', ...tlsOpts(s.ca.issue('gw-m')) }));
        await m.publishAsync(
          topics.reading('gw-m', 'tls-co'),
          encodePayload('reading', reading(1, Date.now(), { CO: 5 })),
          { qos: 1 },
        );
        await waitFor(async () => (await count('tls-co')) === 1, 'reading over mTLS stored');
      });

      it('a certificate from another CA is refused', async () => {
        const refused = await attempt(s.tlsUrl, {
          clientId: 'gw-m-other',
          ...tlsOpts(s.otherCa.issue('gw-m')),
        });
        expect(refused).toBeInstanceOf(Error);
      });

      it('a certificate whose CN is no provisioned gateway is refused', async (ctx) => {
        if (!s.checksCertificateCn) ctx.skip();
        const refused = await attempt(s.tlsUrl, { clientId: 'nobody', ...tlsOpts(s.ca.issue('gw-nobody')) });
        expect(String(refused)).toMatch(/Not authorized/);
      });
    });
  });
}
