/**
 * docs/integrations.md against the code: its topic table is shared/src/topics.ts's (topic, QoS,
 * retain), its example payloads pass the shared schemas, the Node-RED flow's functions run on a
 * real reading and status, and what the Telegraf config subscribes to and reads exists in the
 * topic map and the Reading schema. A change to the contract that forgets the page fails here.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import {
  DeviceStateSchema,
  decodeMessage,
  FILTERS,
  GatewayStatusSchema,
  ReadingSchema,
  TOPICS,
  type TopicKind,
  topics,
} from '@gaswatch/shared';
import { describe, expect, it } from 'vitest';

const page = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'integrations.md'),
  'utf8',
);

/** The fenced block right after `<!-- example:NAME -->`. */
function example(name: string): string {
  const m = page.match(new RegExp(`<!-- example:${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``));
  if (!m) throw new Error(`docs/integrations.md has no example:${name} block`);
  return m[1]!;
}

/** Does an MQTT subscription filter match a topic name? */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

const KIND_OF_TOPIC: Record<string, TopicKind> = {
  [topics.status('{gw}')]: 'status',
  [topics.reading('{gw}', '{dev}')]: 'reading',
  [topics.state('{gw}', '{dev}')]: 'state',
  [topics.event('{gw}', '{dev}')]: 'event',
  [topics.cmd('{gw}')]: 'cmd',
  [topics.cmdResult('{gw}')]: 'cmdResult',
};

const reading = {
  v: 1,
  ts: '2026-11-23T18:00:00.000Z',
  seq: 7,
  values: { O2: 20.9, LEL: 3 },
  status: 'warmup',
  quality: { LEL: 'uncertain' },
} as const;

describe('docs/integrations.md', () => {
  it('lists every topic of the contract with its QoS and retain flag', () => {
    const table = page.split('<!-- topics:begin -->')[1]!.split('<!-- topics:end -->')[0]!;
    const rows = table
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => l.split('|').map((c) => c.trim()));
    const documented = rows.map(([, topic, , qos, retained]) => ({
      kind: KIND_OF_TOPIC[topic!.replaceAll('`', '')],
      qos: Number(qos),
      retain: retained === 'yes',
    }));
    expect(documented.map((d) => d.kind).sort()).toEqual(Object.keys(TOPICS).sort());
    for (const d of documented) {
      const spec = TOPICS[d.kind!];
      expect({ qos: d.qos, retain: d.retain }, d.kind).toEqual({ qos: spec.qos, retain: spec.retain });
    }
  });

  it('shows payloads the shared schemas accept', () => {
    const r = JSON.parse(example('reading'));
    expect(ReadingSchema.safeParse(r).success).toBe(true);
    expect(decodeMessage(topics.reading('liujiang-12-gw1', 'co-bathroom'), JSON.stringify(r)).ok).toBe(true);
    expect(GatewayStatusSchema.safeParse(JSON.parse(example('status'))).success).toBe(true);
    expect(DeviceStateSchema.safeParse(JSON.parse(example('state'))).success).toBe(true);
  });

  it("has a Node-RED flow whose subscriptions match gaswatch's topics and whose functions work on real payloads", () => {
    const flow = JSON.parse(example('node-red')) as Record<string, unknown>[];
    const byId = new Map(flow.map((n) => [n.id as string, n]));
    for (const n of flow) {
      for (const out of (n.wires as string[][] | undefined) ?? [])
        for (const id of out) expect(byId.has(id), `${n.id} wires to ${id}`).toBe(true);
      if (n.type === 'mqtt in') {
        expect(byId.get(n.broker as string)?.type).toBe('mqtt-broker');
        expect(FILTERS.fromGateways).toContain(n.topic);
        expect(Number(n.qos)).toBe(1);
      }
    }
    const readingsIn = flow.find((n) => n.type === 'mqtt in' && n.name === 'readings')!;
    const topic = topics.reading('liujiang-12-gw1', 'tank-4gas');
    expect(matches(readingsIn.topic as string, topic)).toBe(true);
    const run = (name: string, msg: unknown) => {
      const warnings: string[] = [];
      const fn = flow.find((n) => n.type === 'function' && n.name === name)!;
      const result = runInNewContext(`(function (msg) {\n${fn.func as string}\n})(msg)`, {
        msg,
        node: { warn: (w: string) => warnings.push(w) },
      });
      return { result, warnings };
    };
    const perGas = run('per gas', { topic, payload: reading });
    expect(perGas.result).toEqual([
      [
        {
          topic: 'liujiang-12-gw1/tank-4gas/O2',
          payload: 20.9,
          ts: reading.ts,
          seq: 7,
          status: 'warmup',
          quality: 'good',
          alarm: false,
        },
        {
          topic: 'liujiang-12-gw1/tank-4gas/LEL',
          payload: 3,
          ts: reading.ts,
          seq: 7,
          status: 'warmup',
          quality: 'uncertain',
          alarm: false,
        },
      ],
    ]);
    expect(perGas.warnings).toEqual(['liujiang-12-gw1/tank-4gas is warmup']);
    const will = run('online', { topic: topics.status('gw1'), payload: { v: 1, online: false } });
    expect(will.result).toEqual({ topic: 'gw1', payload: false });
  });

  it('has a Telegraf config that subscribes to the reading topic and reads fields a Reading has', () => {
    const toml = example('telegraf');
    const subscribed = JSON.parse(toml.match(/^\s*topics = (\[.*\])$/m)![1]!) as string[];
    for (const t of subscribed) expect(FILTERS.fromGateways).toContain(t);
    expect(subscribed.some((t) => matches(t, topics.reading('gw1', 'co1')))).toBe(true);
    // topic_parsing: `gateway` and `device` sit where {gw} and {dev} are in the topic.
    const parsing = toml.match(/topic = "(.*)"\n\s*tags = "(.*)"/)!;
    const levels = topics.reading('{gw}', '{dev}').split('/');
    const tags = parsing[2]!.split('/');
    expect(matches(parsing[1]!, topics.reading('gw1', 'co1'))).toBe(true);
    expect(tags).toHaveLength(levels.length);
    expect(levels[tags.indexOf('gateway')]).toBe('{gw}');
    expect(levels[tags.indexOf('device')]).toBe('{dev}');
    // Every path the json_v2 parser reads is a field of the Reading schema, of the type it says.
    const paths = [...toml.matchAll(/^\s*(?:timestamp_)?path = "(.*)"$/gm)].map((m) => m[1]!);
    expect(paths.sort()).toEqual(['seq', 'status', 'ts', 'values']);
    const shape = ReadingSchema.shape;
    for (const p of paths) expect(Object.keys(shape)).toContain(p);
    expect(ReadingSchema.safeParse({ ...reading, seq: 7.5 }).success).toBe(false); // seq: type = "int"
    // Go's RFC 3339 layout: what the gateway's ts looks like.
    expect(toml).toContain('timestamp_format = "2006-01-02T15:04:05Z07:00"');
    expect(reading.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  });
});
