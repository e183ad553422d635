/**
 * MQTT 3.1.1 packets, only those a gateway sends and receives: encoders that build each packet in
 * one Buffer, and a parser for the broker's byte stream (partial packets, several per chunk).
 *
 * The parser hands out views into the chunk it was given (no copies); a packet split across
 * chunks is joined once. Anything a broker may not send a client, or a malformed length, is a
 * `MqttProtocolError`: the connection is closed, never guessed at.
 */
import { GatewayError } from '../errors.js';

export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;

/** The broker broke the protocol (or sent garbage); the connection cannot be trusted. */
export class MqttProtocolError extends GatewayError {
  constructor(message: string) {
    super('mqtt_protocol', message);
  }
}

/** Largest packet accepted from the broker: commands and the clock reference are ≤ 64 KiB (SPEC §2). */
export const MAX_INCOMING = 1024 * 1024;

/** Bytes of a Remaining Length varint (1–4). */
export function varintSize(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Writes a Remaining Length at `at`; returns the offset after it. */
export function writeVarint(buf: Buffer, at: number, n: number): number {
  let i = at;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    buf[i++] = byte;
  } while (n > 0);
  return i;
}

/** A UTF-8 string with its two-byte length, as MQTT writes topics, client ids and credentials. */
export function mqttString(s: string | Buffer): Buffer {
  const body = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  if (body.length > 0xffff) throw new GatewayError('mqtt_too_long', `MQTT string of ${body.length} bytes`);
  const out = Buffer.allocUnsafe(2 + body.length);
  out.writeUInt16BE(body.length, 0);
  body.copy(out, 2);
  return out;
}

export interface ConnectOptions {
  clientId: string;
  keepaliveS: number;
  clean: boolean;
  username?: string;
  password?: string;
  will?: { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean };
}

export function encodeConnect(o: ConnectOptions): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0, 0, 0])]; // "MQTT", level 4
  let flags = o.clean ? 0x02 : 0;
  parts.push(mqttString(o.clientId));
  if (o.will) {
    flags |= 0x04 | (o.will.qos << 3) | (o.will.retain ? 0x20 : 0);
    parts.push(mqttString(o.will.topic), mqttString(o.will.payload));
  }
  if (o.username !== undefined) {
    flags |= 0x80;
    parts.push(mqttString(o.username));
  }
  if (o.password !== undefined) {
    flags |= 0x40;
    parts.push(mqttString(o.password));
  }
  const head = parts[0]!;
  head[7] = flags;
  head.writeUInt16BE(o.keepaliveS, 8);
  return withHeader(0x10, Buffer.concat(parts));
}

/**
 * PUBLISH from a topic already encoded with its length (`mqttString`, cached per topic by the
 * client) and the payload as a string, written as UTF-8 straight into the packet.
 */
export function encodePublish(
  topic: Buffer,
  payload: string | Buffer,
  qos: 0 | 1,
  retain: boolean,
  packetId: number,
): Buffer {
  const payloadLen = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const remaining = topic.length + (qos ? 2 : 0) + payloadLen;
  const buf = Buffer.allocUnsafe(1 + varintSize(remaining) + remaining);
  buf[0] = 0x30 | (qos << 1) | (retain ? 1 : 0);
  let at = writeVarint(buf, 1, remaining);
  at += topic.copy(buf, at);
  if (qos) {
    buf[at++] = packetId >> 8;
    buf[at++] = packetId & 0xff;
  }
  if (typeof payload === 'string') buf.write(payload, at, 'utf8');
  else payload.copy(buf, at);
  return buf;
}

export function encodeSubscribe(packetId: number, topics: string[], qos: 0 | 1): Buffer {
  const parts: Buffer[] = [Buffer.from([packetId >> 8, packetId & 0xff])];
  for (const t of topics) parts.push(mqttString(t), Buffer.from([qos]));
  return withHeader(0x82, Buffer.concat(parts));
}

export function encodePuback(packetId: number): Buffer {
  return Buffer.from([0x40, 2, packetId >> 8, packetId & 0xff]);
}

export const PINGREQ_PACKET = Buffer.from([0xc0, 0]);
export const DISCONNECT_PACKET = Buffer.from([0xe0, 0]);

function withHeader(first: number, body: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(1 + varintSize(body.length) + body.length);
  buf[0] = first;
  body.copy(buf, writeVarint(buf, 1, body.length));
  return buf;
}

/** One packet from the broker. `body` is a view of the received bytes: copy what outlives the call. */
export interface Incoming {
  type: number;
  flags: number;
  body: Buffer;
}

/**
 * Splits the broker's byte stream into packets. `push` calls `onPacket` for every whole packet in
 * what has arrived so far and keeps the tail of a partial one for the next chunk. Throws
 * `MqttProtocolError` on a malformed length or a packet larger than `MAX_INCOMING`.
 */
export class PacketParser {
  private pending: Buffer | undefined;

  constructor(private readonly onPacket: (type: number, flags: number, body: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    const end = buf.length;
    while (at < end) {
      // Fixed header: type and flags, then the Remaining Length (1–4 bytes of 7 bits each).
      if (end - at < 2) break;
      let len = 0;
      let mult = 1;
      let i = at + 1;
      let complete = false;
      for (let n = 0; n < 4 && i < end; n++) {
        const b = buf[i++]!;
        len += (b & 0x7f) * mult;
        mult *= 128;
        if (!(b & 0x80)) {
          complete = true;
          break;
        }
        if (n === 3) throw new MqttProtocolError('remaining length longer than 4 bytes');
      }
      if (!complete) break; // the length itself is split across chunks
      if (len > MAX_INCOMING)
        throw new MqttProtocolError(`a packet of ${len} bytes (at most ${MAX_INCOMING} accepted)`);
      if (end - i < len) break;
      const first = buf[at]!;
      at = i + len;
      this.onPacket(first >> 4, first & 0x0f, buf.subarray(i, at));
    }
    if (at < end) this.pending = at === 0 ? buf : buf.subarray(at);
  }

  /** Forgets a partial packet (the connection it came on is gone). */
  reset(): void {
    this.pending = undefined;
  }
}
