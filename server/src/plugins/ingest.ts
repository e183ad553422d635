import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { DEFAULT_HISTORY_MS } from '../alarms/rule-history.js';
import type { OnMessage } from '../broker/types.js';
import { createDeviceRegistry, type DeviceRegistry } from '../ingest/devices.js';
import { createDrainer, type DrainerStatus } from '../ingest/drainer.js';
import { createIngest } from '../ingest/ingest.js';
import { createJournal } from '../ingest/journal.js';
import { createRegistryFile } from '../ingest/registry-file.js';
import { createCoreMetrics } from '../metrics.js';

/** What the ingest plugin offers the broker and the health routes. */
export interface IngestService {
  /** Every message from the broker goes here; `done(null)` once it is durable (then PUBACK). */
  handle: OnMessage;
  /** Journal backlog, store health and the journal's write error (for /readyz and tests). */
  status(): DrainerStatus & { journalError: string | null };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The device registry behind /api/devices (state, last reading, seq gaps, gateway status). */
    devices: DeviceRegistry;
    ingest: IngestService;
  }
}

/**
 * The ingest path (docs/server.md "The path of one reading"): the journal in DATA_DIR/journal,
 * the drainer that moves it to the store, the device registry and its file. Opened at
 * registration (segments left by a crash are replayed into the store), closed after the broker
 * stopped: the drainer's last write goes out while the store is still open.
 */
async function ingestPlugin(app: FastifyInstance): Promise<void> {
  const { config, store, bus, clock } = app;
  // buildServer hands Fastify a pino logger (loggerInstance), so its children are pino loggers.
  const logger = app.log as unknown as Logger;
  const metrics = createCoreMetrics(app.metrics);
  const devices = createDeviceRegistry();
  const journal = createJournal({ dir: join(config.dataDir, 'journal'), logger, fsync: config.ingest.fsync });
  const drainer = createDrainer({
    journal,
    store,
    logger,
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
    logger,
    clock,
    bufferMax: config.ingest.bufferMax,
    batchSize: config.ingest.batchSize,
    store,
    // The alarm engine rebuilds rule state from this much history: read it in the same lookup.
    historyMs: DEFAULT_HISTORY_MS,
  });
  const registryFile = createRegistryFile({ path: join(config.dataDir, 'devices.json'), devices, logger });

  journal.open();
  registryFile.load();
  registryFile.start();
  metrics.buffered.set(journal.buffered);
  if (journal.buffered > 0) ingest.seedFromJournal();
  drainer.start();

  app.decorate('devices', devices);
  app.decorate('ingest', {
    handle: ingest.handle, // uses no `this`: passed on to the broker as it is
    status: () => ({ ...drainer.status(), journalError: journal.writeError }),
  } satisfies IngestService);
  app.addHook('onClose', async () => {
    registryFile.stop();
    await drainer.stop();
    journal.close();
  });
}

export default fp(ingestPlugin, { name: 'ingest', fastify: '5.x', dependencies: ['core', 'store'] });
