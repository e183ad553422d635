/**
 * The gateway's own MQTT 3.1.1 client (src/mqtt): the codec on byte streams cut every way a TCP
 * socket can cut them, and the client against a real aedes broker and against a "broker" that
 * sends garbage.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { createTestCa, freePort, waitFor } from '@gaswatch/shared/testing';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../src/config.js';
import { MqttClient } from '../src/mqtt/client.js';
import {
  encodePuback,
  encodePublish,
  MAX_INCOMING,
  MqttProtocolError,
  mqttString,
  PacketParser,
  PUBACK,
  PUBLISH,
} from '../src/mqtt/packet.js';
import { createUplink } from '../src/uplink.js';
import { startAedes } from './helpers/broker.js';

interface Parsed {
  type: number;
  flags: number;
  body: Buffer;
}

function parseAll(chunks: Buffer[]): Parsed[] {
  const got: Parsed[] = [];
  const p = new PacketParser((type, flags, body) => got.push({ type, flags, body: Buffer.from(body) }));
  for (const c of chunks) p.push(c);
  return got;
}

/** A PUBLISH whose Remaining Length is exactly `remaining`. */
function publishOfLength(remaining: number, id: number): Buffer {
  const topic = mqttString('gaswatch/v1/gw1/co1/reading');
  return encodePublish(topic, 'x'.repeat(remaining - topic.length - 2), 1, false, id);
}

describe('MQTT codec', () => {
  it('writes and reads Remaining Lengths at the varint boundaries (127, 128, 16383, 16384)', () => {
    for (const [remaining, lenBytes] of [
      [127, 1],
      [128, 2],
      [16_383, 2],
      [16_384, 3],
    ] as const) {
      const packet = publishOfLength(remaining, 7);
      expect(packet.length).toBe(1 + lenBytes + remaining);
      const [got] = parseAll([packet]);
      expect(got?.type).toBe(PUBLISH);
      expect(got?.flags).toBe(0b0010); // QoS 1, not retained
      expect(got?.body.length).toBe(remaining);
      expect(got?.body.readUInt16BE(got.body.readUInt16BE(0) + 2)).toBe(7); // the packet id
    }
  });

  it('joins packets cut anywhere, one byte at a time included', () => {
    const stream = Buffer.concat([publishOfLength(200, 1), encodePuback(2), publishOfLength(16_384, 3)]);
    const bytewise = parseAll([...stream].map((b) => Buffer.from([b])));
    const whole = parseAll([stream]);
    expect(whole.map((p) => [p.type, p.body.length])).toEqual([
      [PUBLISH, 200],
      [PUBACK, 2],
      [PUBLISH, 16_384],
    ]);
    expect(bytewise).toEqual(whole);
    // Cut inside the length varint and inside the body.
    const cut = parseAll([
      stream.subarray(0, 2),
      stream.subarray(2, 150),
      stream.subarray(150, 207),
      stream.subarray(207),
    ]);
    expect(cut).toEqual(whole);
  });

  it('reads many packets from one chunk (a burst of PUBACKs)', () => {
    const acks = Buffer.concat(Array.from({ length: 32 }, (_, i) => encodePuback(i + 1)));
    expect(parseAll([acks]).map((p) => p.body.readUInt16BE(0))).toEqual(
      Array.from({ length: 32 }, (_, i) => i + 1),
    );
  });

  it('refuses a length of more than four bytes and a packet larger than it accepts', () => {
    expect(() => parseAll([Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])])).toThrow(MqttProtocolError);
    const big = Buffer.alloc(5);
    big[0] = 0x30;
    const len = MAX_INCOMING + 1;
    big[1] = (len & 0x7f) | 0x80;
    big[2] = ((len >> 7) & 0x7f) | 0x80;
    big[3] = (len >> 14) & 0x7f;
    expect(() => parseAll([big.subarray(0, 4)])).toThrow(/at most/);
  });
});

describe('MQTT client', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function logCapture() {
    const lines: { level: number; msg: string; err?: unknown }[] = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    return { logger, lines };
  }

  it('publishes QoS 1 with a callback per PUBACK, receives its subscriptions, and its will fires when it vanishes', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const watcher = await mqtt.connectAsync(broker.url);
    cleanups.push(() => watcher.endAsync());
    const seen: [string, string][] = [];
    watcher.on('message', (t, p) => seen.push([t, p.toString()]));
    await watcher.subscribeAsync('t/#', { qos: 1 });

    const { logger } = logCapture();
    let socket: Socket | undefined;
    const client = new MqttClient({
      open: () => {
        socket = connect({ host: '127.0.0.1', port: broker.port });
        return socket;
      },
      clientId: 'lean-1',
      keepaliveS: 10,
      clean: true,
      will: { topic: 't/will', payload: Buffer.from('gone'), qos: 1, retain: false },
      reconnectMs: 100,
      connectTimeoutMs: 5000,
      logger,
    });
    cleanups.push(() => client.end(false));
    const connected = new Promise<void>((r) => client.once('connect', r));
    client.start();
    await connected;
    await new Promise<void>((res, rej) => client.subscribe(['cmd/x'], (err) => (err ? rej(err) : res())));

    // 300 publishes in one tick: every callback once, each message once, in order.
    const acked: number[] = [];
    await Promise.all(
      Array.from(
        { length: 300 },
        (_, i) =>
          new Promise<void>((res, rej) =>
            client.publish('t/r', `{"n":${i},"s":"é"}`, 1, false, (err) => {
              if (err) return rej(err);
              acked.push(i);
              res();
            }),
          ),
      ),
    );
    expect(acked).toHaveLength(300);
    await waitFor(() => seen.length >= 300, 'every message at the watcher', 5000);
    expect(seen.slice(0, 300).map(([, p]) => JSON.parse(p).n)).toEqual(
      Array.from({ length: 300 }, (_, i) => i),
    );
    expect(JSON.parse(seen[0]![1]).s).toBe('é');

    const got: [string, string][] = [];
    client.on('message', (t, p) => got.push([t, p.toString()]));
    await watcher.publishAsync('cmd/x', 'hello', { qos: 1 });
    await waitFor(() => got.length === 1, 'the command', 5000);
    expect(got[0]).toEqual(['cmd/x', 'hello']);

    // Vanishing without DISCONNECT: the broker publishes the will, and the client reconnects.
    const offline = new Promise<void>((r) => client.once('offline', r));
    const again = new Promise<void>((r) => client.once('connect', r));
    socket!.destroy();
    await offline;
    await waitFor(() => seen.some(([t]) => t === 't/will'), 'the will', 5000);
    await again;
    expect(client.connected).toBe(true);

    // A graceful end sends DISCONNECT: no will this time.
    const before = seen.filter(([t]) => t === 't/will').length;
    await client.end(true);
    await watcher.publishAsync('t/fence', 'x', { qos: 1 });
    await waitFor(() => seen.some(([t]) => t === 't/fence'), 'the fence message', 5000);
    expect(seen.filter(([t]) => t === 't/will').length).toBe(before);
  });

  it('fails publishes in flight when the connection drops, so the outbox sends them again', async () => {
    // A "broker" that accepts the connection and never acknowledges a publish.
    const port = await freePort();
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      s.once('data', () => s.write(Buffer.from([0x20, 2, 0, 0])));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const client = new MqttClient({
      open: () => connect({ host: '127.0.0.1', port }),
      clientId: 'lean-2',
      keepaliveS: 0,
      clean: true,
      reconnectMs: 60_000,
      connectTimeoutMs: 5000,
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(() => client.end(false));
    const connected = new Promise<void>((r) => client.once('connect', r));
    client.start();
    await connected;
    const results = Array.from(
      { length: 3 },
      () => new Promise<Error | undefined>((res) => client.publish('t', 'x', 1, false, res)),
    );
    await waitFor(() => sockets.size === 1, 'the connection', 5000);
    for (const s of sockets) s.destroy();
    const errs = await Promise.all(results);
    expect(errs.map((e) => e?.message)).toEqual(Array(3).fill('connection lost before the broker answered'));
    // And while offline, a publish fails at once instead of waiting in memory.
    const offline = await new Promise<Error | undefined>((res) => client.publish('t', 'x', 1, false, res));
    expect(offline?.message).toMatch(/not connected/);
  });

  it('closes the connection with a clear log when the broker sends garbage, then reconnects', async () => {
    const port = await freePort();
    let accepted = 0;
    const server = createServer((s) => {
      accepted++;
      s.once('data', () => {
        s.write(Buffer.from([0x20, 2, 0, 0])); // CONNACK accepted
        s.write(Buffer.from([0xf0, 0])); // then a packet type MQTT 3.1.1 does not have
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const { logger, lines } = logCapture();
    const client = new MqttClient({
      open: () => connect({ host: '127.0.0.1', port }),
      clientId: 'lean-3',
      keepaliveS: 0,
      clean: true,
      reconnectMs: 50,
      connectTimeoutMs: 5000,
      logger,
    });
    client.on('error', () => {});
    cleanups.push(() => client.end(false));
    client.start();
    await waitFor(() => accepted >= 2, 'a second connection', 5000);
    const violation = lines.find((l) => l.msg.includes('broke the MQTT protocol'));
    expect(violation?.level).toBe(50); // error
    expect(violation?.err).toBe('packet type 15 is not one a broker sends a client');
  });

  it('a transport that cannot be created is reported and tried again, never thrown', async () => {
    let attempts = 0;
    const client = new MqttClient({
      open: () => {
        attempts++;
        throw new Error('no PEM certificate found');
      },
      clientId: 'lean-5',
      keepaliveS: 0,
      clean: true,
      reconnectMs: 20,
      connectTimeoutMs: 5000,
      logger: pino({ level: 'silent' }),
    });
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.message));
    cleanups.push(() => client.end(false));
    client.start();
    await waitFor(() => attempts >= 3, 'three attempts', 5000);
    expect(errors[0]).toBe('no PEM certificate found');
    expect(client.connected).toBe(false);
  });

  it('names the reason when the broker refuses the login', async () => {
    const port = await freePort();
    const server = createServer((s) => s.once('data', () => s.write(Buffer.from([0x20, 2, 0, 5]))));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const client = new MqttClient({
      open: () => connect({ host: '127.0.0.1', port }),
      clientId: 'lean-4',
      keepaliveS: 0,
      clean: true,
      username: 'gw1',
      password: 'wrong',
      reconnectMs: 60_000,
      connectTimeoutMs: 5000,
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(() => client.end(false));
    const err = new Promise<Error>((r) => client.once('error', r));
    client.start();
    expect((await err).message).toBe('broker refused the connection: not authorized');
    expect(client.connected).toBe(false);
  });

  it('speaks mutual TLS through the uplink (mqtts://), and refuses a broker its CA did not sign', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-mqtt-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const ca = createTestCa(dir, 'site');
    const other = createTestCa(dir, 'other');
    const server = ca.issue('localhost', 'server');
    const client = ca.issue('gw1');
    const broker = await Aedes.createBroker();
    const clientCns: string[] = [];
    const tls = createTlsServer(
      {
        key: readFileSync(server.key),
        cert: readFileSync(server.cert),
        ca: readFileSync(ca.cert),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (s) => {
        clientCns.push(String(s.getPeerCertificate().subject?.CN));
        broker.handle(s);
      },
    );
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => broker.close(() => r())));
    cleanups.push(() => new Promise<void>((r) => tls.close(() => r())));
    const port = (tls.address() as { port: number }).port;
    const configFor = (caFile: string) =>
      ({
        gatewayId: 'gw1',
        uplink: {
          url: `mqtts://localhost:${port}`,
          ca: caFile,
          cert: client.cert,
          key: client.key,
          keepaliveS: 10,
          reconnectMs: 200,
          statusIntervalS: 30,
        },
      }) as unknown as GatewayConfig;

    const good = createUplink({ config: configFor(ca.cert), logger: pino({ level: 'silent' }) });
    good.start();
    cleanups.push(() => good.stop());
    expect(await good.waitConnected(5000)).toBe(true);
    await good.publishForeign('t/tls', 'over tls', { retain: false }); // resolves on PUBACK
    expect(clientCns).toContain('gw1');

    const { logger, lines } = logCapture();
    const bad = createUplink({ config: configFor(other.cert), logger });
    bad.start();
    cleanups.push(() => bad.stop());
    expect(await bad.waitConnected(1000)).toBe(false);
    expect(lines.some((l) => l.msg === 'uplink error' && /certificate/i.test(String(l.err)))).toBe(true);
  });
});
