import type { Registry } from 'prom-client';
import type { SendCommand, ServerBus } from './bus.js';
import type { ServerConfig } from './config.js';
import type { DeviceRegistry } from './ingest/devices.js';
import type { DrainerStatus } from './ingest/drainer.js';
import type { Store } from './store/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Parsed environment and GASWATCH_CONFIG file. */
    config: ServerConfig;
    /** Wall clock in ms (injectable for tests). */
    clock: () => number;
    /** In-process events: readings, device state, gateway status, device events, command results, alarms. */
    bus: ServerBus;
    store: Store;
    sendCommand: SendCommand;
    /** The device registry behind /api/devices. */
    devices: DeviceRegistry;
    /** The Prometheus registry served on /metrics; plugins add their own metrics to it. */
    metrics: Registry;
    /** URL gateways connect to (the embedded broker's real port, or MQTT_URL). Known after ready(). */
    readonly mqttUrl: string;
    /** Journal backlog and store health (for /readyz and tests). */
    ingestStatus(): DrainerStatus & { brokerConnected: boolean; journalError: string | null };
  }
}
