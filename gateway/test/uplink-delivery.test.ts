/**
 * Every kind the gateway publishes goes out with the QoS and retain flag of the shared topic map
 * (`TOPICS`) on the topic of its kind and address, through a real aedes broker: a live subscriber
 * sees the QoS, a subscriber that comes later sees exactly the retained kinds.
 */
import { decodeMessage, type PayloadOf, TOPICS, topics } from '@gaswatch/shared';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createUplink, type OutgoingKind, type Uplink } from '../src/uplink.js';
import { startAedes } from './helpers/broker.js';
import { makeConfig } from './helpers/config.js';
import { testLogger } from './helpers/log.js';

const GW = 'gw-delivery';
const DEV = 'co1';
const ts = new Date().toISOString();

/** One valid payload of each kind, as the gateway would send it. */
const PAYLOADS: { [K in OutgoingKind]: PayloadOf<K> } = {
  status: { v: 1, online: true, ts, version: '0.1.0', uptimeS: 1, outboxDepth: 0, outboxDropped: 0 },
  reading: { v: 1, ts, seq: 0, values: { CO: 12 }, status: 'ok' },
  state: {
    v: 1,
    ts,
    online: true,
    model: 'gaswatch-co',
    kind: 'household-co',
    site: 's',
    location: 'l',
    lastError: null,
    pollIntervalS: 1,
  },
  event: { v: 1, ts, type: 'fault', severity: 'warning', message: 'detector not answering' },
  cmdResult: { v: 1, id: 'c1', ok: true, ts },
};

/** Where each kind must arrive. */
const TOPIC_OF: Record<OutgoingKind, string> = {
  status: topics.status(GW),
  reading: topics.reading(GW, DEV),
  state: topics.state(GW, DEV),
  event: topics.event(GW, DEV),
  cmdResult: topics.cmdResult(GW),
};

/** Publishes one kind the way the gateway does: directly, or readings and events through the outbox's path. */
function publishKind(uplink: Uplink, kind: OutgoingKind, via: 'publish' | 'send'): Promise<void> {
  const to = { dev: DEV };
  switch (kind) {
    case 'status':
      return uplink.publish('status', PAYLOADS.status);
    case 'cmdResult':
      return uplink.publish('cmdResult', PAYLOADS.cmdResult);
    case 'state':
      return uplink.publish('state', PAYLOADS.state, to);
    case 'reading':
      return via === 'send'
        ? uplink.send(uplink.encode('reading', PAYLOADS.reading, to))
        : uplink.publish('reading', PAYLOADS.reading, to);
    case 'event':
      return via === 'send'
        ? uplink.send(uplink.encode('event', PAYLOADS.event, to))
        : uplink.publish('event', PAYLOADS.event, to);
  }
}

interface Got {
  topic: string;
  qos: number;
  retain: boolean;
  payload: unknown;
}

async function subscribe(url: string): Promise<{ got: Got[]; end(): Promise<void> }> {
  const client = await mqtt.connectAsync(url);
  const got: Got[] = [];
  client.on('message', (topic, payload, packet) => {
    const r = decodeMessage(topic, payload);
    got.push({ topic, qos: packet.qos, retain: packet.retain, payload: r.ok ? r.payload : r.message });
  });
  // QoS 2: the broker delivers at the publisher's QoS, never a lower one chosen here.
  await client.subscribeAsync(`gaswatch/v1/${GW}/#`, { qos: 2 });
  return { got, end: () => client.endAsync() };
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const KINDS = Object.keys(TOPIC_OF) as OutgoingKind[];

describe.each(['publish', 'send'] as const)('uplink delivery (readings and events via %s)', (via) => {
  it('each kind arrives on its topic with the QoS of TOPICS; the retained ones are kept for a late subscriber', async () => {
    const broker = await startAedes();
    cleanup.push(() => broker.stop());
    const live = await subscribe(broker.url);
    cleanup.push(() => live.end());
    const uplink = createUplink({
      config: makeConfig({
        gatewayId: GW,
        url: broker.url,
        outboxDir: 'unused',
        buses: [
          {
            id: 'tcp-0',
            type: 'modbus-tcp',
            host: '127.0.0.1',
            devices: [{ id: DEV, profile: 'gaswatch-co', site: 's', location: 'l' }],
          },
        ],
      }),
      logger: testLogger(),
    });
    uplink.start();
    cleanup.push(() => uplink.stop());
    expect(await uplink.waitConnected(5_000)).toBe(true);

    for (const kind of KINDS) await publishKind(uplink, kind, via);

    await expect.poll(() => live.got.length, { timeout: 5_000 }).toBe(KINDS.length);
    for (const kind of KINDS) {
      const m = live.got.find((g) => g.topic === TOPIC_OF[kind]);
      expect(m, `${kind} on ${TOPIC_OF[kind]}`).toBeDefined();
      expect(m!.qos, `${kind} QoS`).toBe(TOPICS[kind].qos);
      expect(m!.payload, `${kind} payload`).toEqual(PAYLOADS[kind]);
    }

    // The broker hands a new subscriber what was published retained, flagged as such.
    const late = await subscribe(broker.url);
    cleanup.push(() => late.end());
    const retained = KINDS.filter((k) => TOPICS[k].retain).map((k) => TOPIC_OF[k]);
    await expect.poll(() => late.got.length, { timeout: 5_000 }).toBe(retained.length);
    // Nothing more comes: a kind that is not retained was not kept.
    await new Promise((r) => setTimeout(r, 200));
    expect(late.got.map((g) => g.topic).sort()).toEqual(retained.sort());
    expect(late.got.every((g) => g.retain)).toBe(true);
  });
});
