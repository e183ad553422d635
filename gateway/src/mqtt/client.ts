/**
 * A lean MQTT 3.1.1 client: only what the gateway's uplink needs, and cheap per message.
 *
 * mqtt.js cost the gateway about a fifth of its CPU per reading (docs/gateway.md "CPU per
 * reading"): a packet object per publish cloned into its store, a generator-based writer, its
 * keepalive timer rescheduled on every packet, a stream pipeline per chunk. Here a QoS 1 publish is
 * one Buffer (the topic's bytes cached), queued and written with the others of the same tick in one
 * socket write, and remembered only by its packet id and callback until the PUBACK.
 *
 * Contract (the uplink's, as it was with mqtt.js, except where noted):
 *  - `connect` after every accepted CONNACK, `offline` once when a connection is lost (or the first
 *    attempt fails), `message` for every PUBLISH the broker sends (QoS 1 acknowledged after it).
 *  - `publish` calls back once: on PUBACK (QoS 1), after the write is queued (QoS 0), or with an
 *    error when the connection is lost before the PUBACK or when there is no connection. Unlike
 *    mqtt.js nothing is kept to resend after a reconnect: the outbox holds what must survive, and
 *    the forwarder sends it again (the session is clean, so the broker keeps nothing either).
 *  - Keepalive: one timer ticking every keepalive / 2, not reset per packet. A tick with nothing
 *    sent or nothing received since the last one sends PINGREQ; two more ticks with nothing
 *    received close the connection as dead.
 *  - Reconnect after `reconnectMs`, doubling on every failed attempt up to 8 × (at most 30 s), with
 *    up to 25 % jitter so a site's gateways do not all return in the same millisecond.
 *  - Garbage or a protocol violation from the broker closes the connection with an error log.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import {
  CONNACK,
  type ConnectOptions,
  DISCONNECT_PACKET,
  encodeConnect,
  encodePuback,
  encodePublish,
  encodeSubscribe,
  MqttProtocolError,
  mqttString,
  PacketParser,
  PINGREQ_PACKET,
  PINGRESP,
  PUBACK,
  PUBLISH,
  SUBACK,
} from './packet.js';

export interface MqttClientOptions extends ConnectOptions {
  /** Opens the transport (a TCP or TLS socket); called for every connection attempt. */
  open: () => Socket;
  /** First pause before reconnecting, doubled after each failed attempt. */
  reconnectMs: number;
  /** No CONNACK within this long: the attempt failed. */
  connectTimeoutMs: number;
  logger: Logger;
}

export interface MqttClientEvents {
  connect: [];
  offline: [];
  error: [Error];
  message: [string, Buffer];
}

/** Why a publish or subscribe got no answer. */
export class MqttConnectionError extends GatewayError {}

/** CONNACK return codes of MQTT 3.1.1 (§3.2.2.3). */
const CONNACK_REFUSED: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

type Done = (err?: Error) => void;

export class MqttClient extends EventEmitter<MqttClientEvents> {
  connected = false;
  private socket: Socket | undefined;
  private readonly parser = new PacketParser((type, flags, body) => this.onPacket(type, flags, body));
  /** Packet id → callback of a QoS 1 publish or a subscribe awaiting its answer. */
  private readonly inflight = new Map<number, Done>();
  private nextId = 1;
  /** Buffers queued in this tick, written together. */
  private out: Buffer[] = [];
  private readonly flushBound = () => this.flush();
  /** PUBLISH topics as encoded (length + UTF-8), one per device and kind. */
  private readonly topics = new Map<string, Buffer>();
  private readonly connectPacket: Buffer;
  private running = false;
  private offlineSent = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connackTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private sentSinceTick = false;
  private receivedSinceTick = false;
  /** Ticks since a PINGREQ without anything received; -1 when none is outstanding. */
  private pingTicks = -1;
  private closeWaiters: (() => void)[] = [];

  constructor(private readonly opts: MqttClientOptions) {
    super();
    this.connectPacket = encodeConnect(opts);
  }

  start(): void {
    this.running = true;
    this.open();
  }

  publish(topic: string, payload: string | Buffer, qos: 0 | 1, retain: boolean, done: Done): void {
    if (!this.connected) {
      process.nextTick(done, new MqttConnectionError('mqtt_offline', `not connected; ${topic} not sent`));
      return;
    }
    let t = this.topics.get(topic);
    if (!t) {
      t = mqttString(topic);
      // Topics are per device and kind, so this stays small; the bound guards against a caller
      // that publishes to ever-new topics.
      if (this.topics.size >= 4096) this.topics.clear();
      this.topics.set(topic, t);
    }
    if (qos === 0) {
      this.write(encodePublish(t, payload, 0, retain, 0));
      process.nextTick(done);
      return;
    }
    const id = this.allocateId();
    this.inflight.set(id, done);
    this.write(encodePublish(t, payload, 1, retain, id));
  }

  /** Subscribes at QoS 1; `done` gets an error when the broker refuses any of them. */
  subscribe(topics: string[], done: Done): void {
    if (!this.connected || topics.length === 0) {
      process.nextTick(
        done,
        this.connected ? undefined : new MqttConnectionError('mqtt_offline', 'not connected'),
      );
      return;
    }
    const id = this.allocateId();
    this.inflight.set(id, done);
    this.write(encodeSubscribe(id, topics, 1));
  }

  /**
   * Stops for good. `graceful`: send DISCONNECT, so the broker drops the will (the caller has
   * published what the will would have said); otherwise the connection is just closed and the
   * broker publishes the will.
   */
  async end(graceful: boolean): Promise<void> {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const s = this.socket;
    if (!s) return;
    const closed = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    if (graceful && this.connected) {
      this.write(DISCONNECT_PACKET);
      this.flush();
      s.end();
      const t = setTimeout(() => s.destroy(), 1000);
      await closed;
      clearTimeout(t);
    } else {
      s.destroy();
      await closed;
    }
  }

  private allocateId(): number {
    // 1..65535, skipping ids still awaiting an answer (at most maxInflight + a few are).
    for (;;) {
      const id = this.nextId;
      this.nextId = id === 0xffff ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
  }

  private write(buf: Buffer): void {
    if (this.out.length === 0) process.nextTick(this.flushBound);
    this.out.push(buf);
    this.sentSinceTick = true;
  }

  private flush(): void {
    const out = this.out;
    if (out.length === 0) return;
    this.out = [];
    const s = this.socket;
    if (!s || s.destroyed) return;
    s.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  }

  private open(): void {
    let s: Socket;
    try {
      s = this.opts.open();
    } catch (err) {
      // A transport that cannot even be created (bad TLS material): said, and tried again later,
      // never thrown into a timer.
      this.emitError(err as Error);
      this.scheduleReconnect();
      return;
    }
    this.socket = s;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => {
      if (this.socket !== s) return;
      this.receivedSinceTick = true;
      try {
        this.parser.push(chunk);
      } catch (err) {
        this.violation(s, err as Error);
      }
    });
    s.on('error', (err) => this.emitError(err));
    s.on('close', () => this.onClose(s));
    // Written at once: the socket holds it until the TCP (or TLS) connection is up.
    s.write(this.connectPacket);
    this.connackTimer = setTimeout(() => {
      this.emitError(
        new MqttConnectionError('mqtt_connect_timeout', `no CONNACK within ${this.opts.connectTimeoutMs} ms`),
      );
      s.destroy();
    }, this.opts.connectTimeoutMs);
  }

  private violation(s: Socket, err: Error): void {
    if (err instanceof MqttProtocolError)
      this.opts.logger.error(
        { err: err.message },
        'the broker broke the MQTT protocol; closing the connection',
      );
    else this.opts.logger.error({ err }, 'an MQTT message handler failed; closing the connection');
    s.destroy();
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private onPacket(type: number, flags: number, body: Buffer): void {
    const s = this.socket!;
    switch (type) {
      case PUBACK: {
        if (body.length < 2) throw new MqttProtocolError('PUBACK without a packet id');
        const id = (body[0]! << 8) | body[1]!;
        const done = this.inflight.get(id);
        // A PUBACK for an id not in flight (a late answer from before a reconnect): nothing to do.
        if (!done) return;
        this.inflight.delete(id);
        done();
        return;
      }
      case PUBLISH:
        this.onPublish(flags, body);
        return;
      case CONNACK: {
        if (this.connected || body.length < 2) throw new MqttProtocolError('unexpected CONNACK');
        clearTimeout(this.connackTimer);
        const code = body[1]!;
        if (code !== 0) {
          const err = new MqttConnectionError(
            'mqtt_refused',
            `broker refused the connection: ${CONNACK_REFUSED[code] ?? `return code ${code}`}`,
          );
          this.emitError(err);
          s.destroy();
          return;
        }
        this.connected = true;
        this.offlineSent = false;
        this.failures = 0;
        this.startKeepalive();
        this.emit('connect');
        return;
      }
      case SUBACK: {
        if (body.length < 3) throw new MqttProtocolError('SUBACK too short');
        const id = (body[0]! << 8) | body[1]!;
        const done = this.inflight.get(id);
        if (!done) return;
        this.inflight.delete(id);
        const refused = body.subarray(2).includes(0x80);
        done(
          refused
            ? new MqttConnectionError('mqtt_subscribe_refused', 'the broker refused a subscription')
            : undefined,
        );
        return;
      }
      case PINGRESP:
        return; // receivedSinceTick is set for every chunk
      default:
        throw new MqttProtocolError(`packet type ${type} is not one a broker sends a client`);
    }
  }

  private onPublish(flags: number, body: Buffer): void {
    const qos = (flags >> 1) & 3;
    if (qos > 1) throw new MqttProtocolError(`PUBLISH at QoS ${qos}; the gateway subscribes at QoS 1`);
    if (body.length < 2) throw new MqttProtocolError('PUBLISH too short');
    const topicLen = (body[0]! << 8) | body[1]!;
    let at = 2 + topicLen;
    if (body.length < at + (qos ? 2 : 0)) throw new MqttProtocolError('PUBLISH shorter than its topic');
    const topic = body.toString('utf8', 2, at);
    let id = 0;
    if (qos) {
      id = (body[at]! << 8) | body[at + 1]!;
      at += 2;
    }
    // A copy: the payload outlives this chunk in whatever the listeners keep.
    this.emit('message', topic, Buffer.from(body.subarray(at)));
    if (qos) this.write(encodePuback(id));
  }

  private startKeepalive(): void {
    const k = this.opts.keepaliveS;
    if (!k) return;
    this.sentSinceTick = this.receivedSinceTick = false;
    this.pingTicks = -1;
    this.keepaliveTimer = setInterval(() => this.tick(), k * 500);
  }

  private tick(): void {
    const received = this.receivedSinceTick;
    const sent = this.sentSinceTick;
    this.receivedSinceTick = this.sentSinceTick = false;
    if (received) this.pingTicks = -1;
    else if (this.pingTicks >= 0 && ++this.pingTicks >= 2) {
      this.emitError(
        new MqttConnectionError('mqtt_keepalive', `no answer from the broker in ${this.opts.keepaliveS} s`),
      );
      this.socket?.destroy();
      return;
    }
    if ((!sent || !received) && this.pingTicks < 0) {
      this.pingTicks = 0;
      this.write(PINGREQ_PACKET);
    }
  }

  private onClose(s: Socket): void {
    if (this.socket !== s) return;
    const wasConnected = this.connected;
    this.connected = false;
    this.socket = undefined;
    this.out = [];
    this.parser.reset();
    clearTimeout(this.connackTimer);
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    if (this.inflight.size) {
      const lost = [...this.inflight.values()];
      this.inflight.clear();
      const err = new MqttConnectionError(
        'mqtt_connection_lost',
        'connection lost before the broker answered',
      );
      for (const done of lost) done(err);
    }
    for (const f of this.closeWaiters.splice(0)) f();
    if (!this.running) return;
    if (wasConnected || !this.offlineSent) {
      this.offlineSent = true;
      this.emit('offline');
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const base = this.opts.reconnectMs;
    const capped = Math.min(base * 2 ** Math.min(this.failures, 3), Math.max(base, 30_000));
    this.failures++;
    this.reconnectTimer = setTimeout(
      () => {
        this.reconnectTimer = undefined;
        if (this.running) this.open();
      },
      capped * (1 + Math.random() * 0.25),
    );
  }
}
