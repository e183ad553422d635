/**
 * PUBACKs to an external broker go out in the order the PUBLISHes came (MQTT 3.1.1, 4.6.0-2),
 * although the server holds each one until its reading is durable and writes them itself. The
 * broker here is a minimal MQTT peer on a loopback socket, so the test controls which PUBLISHes
 * share one TCP segment and sees the PUBACKs exactly as they arrive.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { encodePayload, topics } from '@gaswatch/shared';
import { freePort, waitFor } from '@gaswatch/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { metric, reading, startTestServer, type TestServer, waitForCount } from './helpers.js';

const T0 = Date.parse('2026-11-23T08:00:00Z');

/** One MQTT 3.1.1 PUBLISH, QoS 1. */
function publish(id: number, topic: string, payload: Buffer): Buffer {
  const t = Buffer.from(topic);
  const body = Buffer.concat([
    Buffer.from([t.length >> 8, t.length & 0xff]),
    t,
    Buffer.from([id >> 8, id & 0xff]),
    payload,
  ]);
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x32, ...len]), body]);
}

/** Splits what the client sent into packets: [type, body]. */
function* packets(buf: { data: Buffer }): Generator<[number, Buffer]> {
  for (;;) {
    const d = buf.data;
    if (d.length < 2) return;
    let len = 0;
    let mul = 1;
    let i = 1;
    for (; i < 5; i++) {
      const b = d[i];
      if (b === undefined) return;
      len += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) break;
    }
    if (d.length < i + 1 + len) return;
    buf.data = d.subarray(i + 1 + len);
    yield [(d[0] as number) >> 4, d.subarray(i + 1, i + 1 + len)];
  }
}

/** A broker that accepts the server's session and subscription and records PUBACK ids in order. */
async function startPeer() {
  const port = await freePort();
  const pubacks: number[] = [];
  let socket: Socket | null = null;
  let subscribed = false;
  const server: Server = createServer((s) => {
    socket = s;
    const buf = { data: Buffer.alloc(0) };
    s.on('error', () => {});
    s.on('data', (chunk) => {
      buf.data = Buffer.concat([buf.data, chunk]);
      for (const [type, body] of packets(buf)) {
        if (type === 1) s.write(Buffer.from([0x20, 2, 0, 0])); // CONNECT → CONNACK
        if (type === 8) {
          // SUBSCRIBE → SUBACK granting QoS 1 to every filter
          const filters = body.subarray(2);
          let count = 0;
          for (let i = 0; i < filters.length; count++) i += 2 + filters.readUInt16BE(i) + 1;
          s.write(
            Buffer.from([0x90, 2 + count, body[0] as number, body[1] as number, ...Array(count).fill(1)]),
          );
          subscribed = true;
        }
        if (type === 4) pubacks.push(body.readUInt16BE(0));
        if (type === 12) s.write(Buffer.from([0xd0, 0])); // PINGREQ → PINGRESP
      }
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pubacks,
    subscribed: () => subscribed,
    send: (b: Buffer) => socket?.write(b),
    close: () =>
      new Promise<void>((r) => {
        socket?.destroy();
        server.close(() => r());
      }),
  };
}

describe('PUBACK order to an external broker', () => {
  let server: TestServer | undefined;
  let peer: Awaited<ReturnType<typeof startPeer>> | undefined;
  afterEach(async () => {
    await server?.close();
    await peer?.close();
  });

  it('a duplicate answered at once does not overtake the PUBACK of a new reading received before it', async () => {
    peer = await startPeer();
    server = await startTestServer({ MQTT_URL: peer.url, MQTT_CLIENT_ID: 'order-test' });
    const p = peer;
    await waitFor(() => p.subscribed(), 'server subscribed');
    const topic = topics.reading('gw-1', 'co-1');
    const r = (seq: number) => encodePayload('reading', reading(seq, T0 + seq * 1_000)) as Buffer;

    p.send(publish(1, topic, r(0)));
    await waitFor(() => p.pubacks.length === 1, 'first reading acknowledged');
    // In one segment: a new reading (acknowledged after the journal write) and a resend of the
    // first one (a duplicate, durable already).
    p.send(Buffer.concat([publish(2, topic, r(1)), publish(3, topic, r(0))]));
    await waitFor(() => p.pubacks.length === 3, 'both acknowledged');
    expect(p.pubacks).toEqual([1, 2, 3]);
    // The resend was recognised as a duplicate, not taken as a new reading.
    expect(await metric(server.url, 'gaswatch_ingest_duplicates_total')).toBe(1);
    const s = server;
    await waitForCount(() => s.app.store.countReadings('co-1'), 2, 'both readings stored');
  });
});
