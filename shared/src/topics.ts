import type { z } from 'zod';
import {
  CommandResultSchema,
  CommandSchema,
  DeviceEventSchema,
  DeviceStateSchema,
  GatewayStatusSchema,
  MAX_PAYLOAD_BYTES,
  ReadingSchema,
} from './schemas.js';
import { formatReadingIssues, validateReadingJson } from './validate-reading.js';

export const TOPIC_ROOT = 'gaswatch/v1';

/** Every topic kind, its schema and its MQTT delivery settings (SPEC §2). */
export const TOPICS = {
  status: { schema: GatewayStatusSchema, qos: 1, retain: true },
  reading: { schema: ReadingSchema, qos: 1, retain: false },
  state: { schema: DeviceStateSchema, qos: 1, retain: true },
  event: { schema: DeviceEventSchema, qos: 1, retain: false },
  cmd: { schema: CommandSchema, qos: 1, retain: false },
  cmdResult: { schema: CommandResultSchema, qos: 1, retain: false },
} as const;

export type TopicKind = keyof typeof TOPICS;
export type PayloadOf<K extends TopicKind> = z.infer<(typeof TOPICS)[K]['schema']>;

/** Where a topic points: the gateway, and the device for per-device topics. */
export type TopicAddress =
  | { kind: 'status' | 'cmd' | 'cmdResult'; gw: string }
  | { kind: 'reading' | 'state' | 'event'; gw: string; dev: string };

export const topics = {
  status: (gw: string) => `${TOPIC_ROOT}/${gw}/status`,
  reading: (gw: string, dev: string) => `${TOPIC_ROOT}/${gw}/${dev}/reading`,
  state: (gw: string, dev: string) => `${TOPIC_ROOT}/${gw}/${dev}/state`,
  event: (gw: string, dev: string) => `${TOPIC_ROOT}/${gw}/${dev}/event`,
  cmd: (gw: string) => `${TOPIC_ROOT}/${gw}/cmd`,
  cmdResult: (gw: string) => `${TOPIC_ROOT}/${gw}/cmd/result`,
  /** Server → gateways: the server's time as a JSON string, QoS 0, not retained (clock check). */
  time: () => `${TOPIC_ROOT}/time`,
} as const;

/** Subscription filters. */
export const FILTERS = {
  /** Everything gateways publish (the server subscribes to this). */
  fromGateways: [
    `${TOPIC_ROOT}/+/status`,
    `${TOPIC_ROOT}/+/+/reading`,
    `${TOPIC_ROOT}/+/+/state`,
    `${TOPIC_ROOT}/+/+/event`,
    `${TOPIC_ROOT}/+/cmd/result`,
  ],
  cmd: (gw: string) => topics.cmd(gw),
} as const;

/** Builds the topic for an address. */
export function topicFor(addr: TopicAddress): string {
  switch (addr.kind) {
    case 'status':
    case 'cmd':
    case 'cmdResult':
      return topics[addr.kind](addr.gw);
    case 'reading':
    case 'state':
    case 'event':
      return topics[addr.kind](addr.gw, addr.dev);
  }
}

/**
 * Parses a topic into its address, or null when it is not a well-formed gaswatch topic. Runs for
 * every message: index arithmetic instead of split() and a regular expression per segment.
 */
export function parseTopic(topic: string): TopicAddress | null {
  if (!topic.startsWith(PREFIX)) return null;
  const g0 = PREFIX.length;
  const g1 = topic.indexOf('/', g0);
  if (g1 < 0 || !isId(topic, g0, g1)) return null;
  const a0 = g1 + 1;
  const a1 = topic.indexOf('/', a0);
  if (a1 < 0) {
    // gaswatch/v1/{gw}/{kind}
    const kind = topic.slice(a0);
    if (kind === 'status') return { kind: 'status', gw: topic.slice(g0, g1) };
    if (kind === 'cmd') return { kind: 'cmd', gw: topic.slice(g0, g1) };
    return null;
  }
  // gaswatch/v1/{gw}/{a}/{b}, nothing after b
  const b0 = a1 + 1;
  if (topic.indexOf('/', b0) >= 0) return null;
  const b = topic.slice(b0);
  if (b === 'result' && a1 - a0 === 3 && topic.startsWith('cmd', a0))
    return { kind: 'cmdResult', gw: topic.slice(g0, g1) };
  if (!isId(topic, a0, a1)) return null;
  if (b === 'reading' || b === 'state' || b === 'event')
    return { kind: b, gw: topic.slice(g0, g1), dev: topic.slice(a0, a1) };
  return null;
}

const PREFIX = `${TOPIC_ROOT}/`;

/** ID_PATTERN (`^[a-z0-9][a-z0-9_-]{0,63}$`) on topic[start, end), without a substring. */
function isId(topic: string, start: number, end: number): boolean {
  const n = end - start;
  if (n < 1 || n > 64) return false;
  for (let i = start; i < end; i++) {
    const c = topic.charCodeAt(i);
    const ok =
      (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (i > start && (c === 0x5f || c === 0x2d));
    if (!ok) return false;
  }
  return true;
}

export type DecodeResult<K extends TopicKind = TopicKind> =
  | { ok: true; address: TopicAddress & { kind: K }; payload: PayloadOf<K> }
  | { ok: false; reason: RejectReason; message: string };

/** Why a message was rejected; every reason is a metrics label. */
export type RejectReason = 'bad_topic' | 'too_large' | 'not_json' | 'bad_schema';

/**
 * Decodes and validates one MQTT message. Never throws: bad input is a value the caller logs and
 * counts.
 */
export function decodeMessage(topic: string, payload: Uint8Array | string): DecodeResult {
  const address = parseTopic(topic);
  if (!address)
    return { ok: false, reason: 'bad_topic', message: `not a gaswatch topic: ${topic.slice(0, 200)}` };
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_PAYLOAD_BYTES) {
    return {
      ok: false,
      reason: 'too_large',
      message: `payload is ${size} bytes, limit ${MAX_PAYLOAD_BYTES}`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : utf8(payload));
  } catch (err) {
    return { ok: false, reason: 'not_json', message: (err as Error).message };
  }
  if (address.kind === 'reading') {
    // The hot path: a hand-written validator with exactly ReadingSchema's semantics (no zod here).
    const checked = validateReadingJson(json);
    if (!checked.ok) return { ok: false, reason: 'bad_schema', message: formatReadingIssues(checked.issues) };
    return { ok: true, address, payload: checked.data } as DecodeResult;
  }
  const parsed = TOPICS[address.kind].schema.safeParse(json);
  if (!parsed.success) {
    const message = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    return { ok: false, reason: 'bad_schema', message };
  }
  return { ok: true, address, payload: parsed.data } as DecodeResult;
}

/** The payload as text, decoded in place (a Buffer or a view on one; no copy of the bytes). */
function utf8(payload: Uint8Array): string {
  const buf = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return buf.toString('utf8');
}

/** Serialises a payload after checking it against its schema (publishers never send what receivers reject). */
export function encodePayload<K extends TopicKind>(kind: K, payload: PayloadOf<K>): Buffer {
  const checked = TOPICS[kind].schema.parse(payload);
  return Buffer.from(JSON.stringify(checked));
}
