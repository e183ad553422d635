import { topics } from '@gaswatch/shared';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createGatewayAccess, type DeniedAction } from '../src/broker/gateway-access.js';
import { retainedWhereDeliverable } from '../src/broker/retained.js';

describe('embedded broker access: the log of refusals', () => {
  it('logs the first 20 refusals of a minute, then says how many more there were; counts them all', () => {
    const lines: Array<{ msg: string; suppressed?: number; topic?: string }> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    let now = 0;
    const counted: DeniedAction[] = [];
    const access = createGatewayAccess({
      check: { password: async () => false, certificate: async () => false },
      logger,
      onDenied: (action) => counted.push(action),
      clock: () => now,
    });
    // A publish of a client that never logged in (aedes' will of an unknown session): refused.
    for (let i = 0; i < 50; i++)
      expect(access.mayPublish(null, `gaswatch/v1/gw-x/d/reading-${i}`)).toBe(false);
    expect(counted).toHaveLength(50);
    expect(lines).toHaveLength(20);
    expect(lines[0]).toMatchObject({
      msg: 'MQTT publish refused: not its own topic',
      topic: 'gaswatch/v1/gw-x/d/reading-0',
    });
    now += 60_000;
    access.mayPublish(null, 'gaswatch/v1/gw-x/d/reading');
    expect(lines.slice(20).map((l) => [l.msg, l.suppressed])).toEqual([
      ['more MQTT refusals in the last minute, not logged', 30],
      ['MQTT publish refused: not its own topic', undefined],
    ]);
  });
});

describe('embedded broker: retained messages', () => {
  const access = createGatewayAccess({
    check: { password: async () => false, certificate: async () => false },
    logger: pino({ level: 'silent' }),
    onDenied: () => {},
  });
  const retained = async (p: ReturnType<typeof retainedWhereDeliverable>, pattern: string) => {
    const out: string[] = [];
    for await (const packet of p.createRetainedStream(pattern)) out.push(packet.topic);
    return out.sort();
  };
  const packet = (topic: string, payload: string) =>
    ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true, dup: false }) as never;
  /**
   * aedes calls the promise form; the persistence's callback form is its contract too (a refused
   * topic answers it at once; a kept one waits for the persistence's setup, done by aedes).
   */
  const store = (p: ReturnType<typeof retainedWhereDeliverable>, topic: string, payload: string) =>
    new Promise<void>((resolve, reject) =>
      p.storeRetained(packet(topic, payload), (err) => (err ? reject(err) : resolve())),
    );
  const storeAsAedes = (p: ReturnType<typeof retainedWhereDeliverable>, topic: string, payload: string) =>
    (p.storeRetained as unknown as (packet: never) => Promise<void>)(packet(topic, payload));

  it('keeps a retained message only where a gateway may be sent it: its commands, the time beacon', async () => {
    const p = retainedWhereDeliverable(access.deliverable);
    await storeAsAedes(p, topics.state('gw-1', 'co-1'), '{"v":1}');
    await storeAsAedes(p, topics.status('gw-1'), '{"v":1}');
    await store(p, topics.reading('gw-1', 'co-1'), '{"v":1}');
    await storeAsAedes(p, topics.cmd('gw-1'), '{"v":1}');
    await store(p, topics.cmdResult('gw-1'), '{"v":1}');
    await storeAsAedes(p, topics.time(), '"2026-12-07T12:00:00.000Z"');
    expect(await retained(p, '#')).toEqual([topics.cmd('gw-1'), topics.time()].sort());
    // An empty retained message still clears one kept.
    await storeAsAedes(p, topics.cmd('gw-1'), '');
    expect(await retained(p, 'gaswatch/v1/+/cmd')).toEqual([]);
  });
});
