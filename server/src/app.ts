import { join } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import { encodePayload, topics } from '@gaswatch/shared';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import alarms from './alarms/plugin.js';
import { createEmbeddedBroker } from './broker/embedded.js';
import { createExternalBroker } from './broker/external.js';
import type { Broker } from './broker/types.js';
import { createBus, type SendCommand } from './bus.js';
import type { ServerConfig } from './config.js';
import { HttpError, StoreError } from './errors.js';
import { createDeviceRegistry } from './ingest/devices.js';
import { createDrainer } from './ingest/drainer.js';
import { createIngest } from './ingest/ingest.js';
import { createJournal } from './ingest/journal.js';
import { createRegistryFile } from './ingest/registry-file.js';
import { createCoreMetrics } from './metrics.js';
import liveHub from './plugins/live-hub.js';
import devicesRoutes from './routes/devices.js';
import healthRoutes from './routes/health.js';
import liveRoutes from './routes/live.js';
import pageRoutes from './routes/page.js';
import readingsRoutes from './routes/readings.js';
import { frameworkErrors } from './routes/validate.js';
import { createEmbeddedStore } from './store/embedded.js';
import { createInfluxStore } from './store/influx.js';
import type { Store } from './store/types.js';
import { createTimeBeacon } from './time-beacon.js';
import './types.js';

export interface BuildServerOptions {
  config: ServerConfig;
  logger: Logger;
  clock?: () => number;
  /** Store to use instead of the one the config names (tests, benchmarks). */
  store?: Store;
}

/**
 * Builds the server: store, ingest journal and drainer, broker (started on ready), API routes and
 * the alarms plugin. Stops everything in order on close: broker first (nothing new is
 * acknowledged), then the drainer's last write, then the store.
 */
export async function buildServer(opts: BuildServerOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const clock = opts.clock ?? Date.now;
  const app = Fastify({
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors,
  });
  const log = opts.logger;

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gaswatch_process_' });
  const metrics = createCoreMetrics(registry);
  const bus = createBus();
  const devices = createDeviceRegistry();
  const store =
    opts.store ??
    (config.store.kind === 'influx'
      ? createInfluxStore({ url: config.store.url, database: config.store.database, logger: log })
      : createEmbeddedStore({ dir: join(config.dataDir, 'store'), logger: log }));
  const journal = createJournal({
    dir: join(config.dataDir, 'journal'),
    logger: log,
    fsync: config.ingest.fsync,
  });
  const drainer = createDrainer({
    journal,
    store,
    logger: log,
    metrics,
    batchSize: config.ingest.batchSize,
    flushMs: config.ingest.flushMs,
  });
  const ingest = createIngest({
    journal,
    drainer,
    devices,
    bus,
    metrics,
    logger: log,
    clock,
    bufferMax: config.ingest.bufferMax,
    batchSize: config.ingest.batchSize,
    store,
  });
  const onMessage = (topic: string, payload: Buffer, done: (err: Error | null) => void) =>
    ingest.handle(topic, payload, done);
  const broker: Broker =
    config.mqtt.kind === 'external'
      ? createExternalBroker({ url: config.mqtt.url, clientId: config.mqtt.clientId, logger: log, onMessage })
      : createEmbeddedBroker({ host: config.host, port: config.mqtt.port, logger: log, onMessage });

  const sendCommand: SendCommand = async (gw, cmd) => {
    await broker.publish(topics.cmd(gw), encodePayload('cmd', cmd), { qos: 1, retain: false });
  };

  const registryFile = createRegistryFile({
    path: join(config.dataDir, 'devices.json'),
    devices,
    logger: log,
  });

  await store.start();
  journal.open();
  registryFile.load();
  registryFile.start();
  metrics.buffered.set(journal.buffered);
  if (journal.buffered > 0) ingest.seedFromJournal();
  drainer.start();

  app.decorate('config', config);
  app.decorate('clock', clock);
  app.decorate('bus', bus);
  app.decorate('store', store);
  app.decorate('sendCommand', sendCommand);
  app.decorate('devices', devices);
  app.decorate('metrics', registry);
  app.decorate('mqttUrl', { getter: () => broker.url });
  app.decorate('ingestStatus', () => ({
    ...drainer.status(),
    brokerConnected: broker.connected(),
    journalError: journal.writeError,
  }));

  const timeBeacon = createTimeBeacon({ broker, bus, clock, logger: log });

  app.addHook('onReady', async () => {
    await broker.start();
    timeBeacon.start();
  });
  app.addHook('preClose', async () => {
    timeBeacon.stop();
    await broker.stop();
  });
  app.addHook('onClose', async () => {
    registryFile.stop();
    await drainer.stop();
    journal.close();
    await store.stop();
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof HttpError)
      return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    if (err.validation) return reply.code(400).send({ error: 'bad_request', message: err.message });
    if (err instanceof StoreError) {
      request.log.warn({ err: err.message, url: request.url }, 'store unavailable for a request');
      return reply
        .code(503)
        .send({ error: 'store_unavailable', message: 'the store is unreachable; try again shortly' });
    }
    const status = err.statusCode ?? 500;
    if (status < 500) {
      return reply
        .code(status)
        .send({ error: (err.code ?? 'bad_request').toLowerCase(), message: err.message });
    }
    request.log.error({ err, url: request.url }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal server error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'gaswatch server',
        description: 'Devices, readings, alarms and live events of gaswatch (SPEC §5)',
        version: '0.1.0',
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(healthRoutes);
  await app.register(devicesRoutes);
  await app.register(readingsRoutes);
  await app.register(liveHub);
  await app.register(liveRoutes);
  await app.register(pageRoutes);
  await app.register(alarms);
  return app;
}
