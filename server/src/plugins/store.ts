import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { createEmbeddedStore } from '../store/embedded.js';
import { createInfluxStore } from '../store/influx.js';
import type { Store } from '../store/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The time-series store: readings and device events (InfluxDB or embedded); alarm events are in app.db. */
    store: Store;
  }
}

export interface StorePluginOptions {
  /** Store to use instead of the one the config names (tests, benchmarks). */
  store?: Store;
}

/** The store the config names (INFLUX_URL or the embedded one in DATA_DIR), started at registration, stopped last. */
async function storePlugin(app: FastifyInstance, opts: StorePluginOptions): Promise<void> {
  const { config } = app;
  // buildServer hands Fastify a pino logger (loggerInstance), so its children are pino loggers.
  const logger = app.log as unknown as Logger;
  const store =
    opts.store ??
    (config.store.kind === 'influx'
      ? createInfluxStore({ url: config.store.url, database: config.store.database, logger })
      : createEmbeddedStore({ dir: join(config.dataDir, 'store'), logger }));
  await store.start();
  app.decorate('store', store);
  app.addHook('onClose', async () => {
    await store.stop();
  });
}

export default fp(storePlugin, { name: 'store', fastify: '5.x', dependencies: ['core'] });
