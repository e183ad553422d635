/**
 * The server's side of MQTT: either the embedded aedes broker or a client of an external broker.
 * Both deliver every message from gateways to `onMessage` and acknowledge it (PUBACK) only after
 * `onMessage` called back without error; on an error (ingest buffer full) it is not acknowledged.
 */
export interface Broker {
  readonly kind: 'embedded' | 'external';
  /** URL gateways connect to (the real port when 0 was asked for), never with a password in it. */
  readonly url: string;
  /** MQTTS URL of the embedded broker's TLS listener (MQTT_TLS_PORT); null without one. */
  readonly tlsUrl: string | null;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True while the broker listens / the client is connected. */
  connected(): boolean;
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /**
   * Ends the gateway's live connections after a rotation or revocation; returns how many. An
   * external broker learns of it from `mqtt export` and a reload, so its client closes none.
   */
  disconnectGateway(gw: string): number;
}

/**
 * Called for every message; `done(null)` means it is handled durably and may be acknowledged.
 * Returns true when `done` will come later than the current tick (a store lookup is pending).
 */
export type OnMessage = (topic: string, payload: Buffer, done: (err: Error | null) => void) => boolean;
