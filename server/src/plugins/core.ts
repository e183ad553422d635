import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createBus, type ServerBus } from '../bus.js';
import type { ServerConfig } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Parsed environment and GASWATCH_CONFIG file. */
    config: ServerConfig;
    /** Wall clock in ms (injectable for tests). */
    clock: () => number;
    /** In-process events: readings, device state, gateway status, device events, command results, alarms. */
    bus: ServerBus;
    /** The Prometheus registry served on /metrics; plugins add their own metrics to it. */
    metrics: Registry;
  }
}

export interface CorePluginOptions {
  config: ServerConfig;
  clock: () => number;
}

/** What every other plugin stands on: the configuration, the clock, the event bus, the metrics registry. */
async function corePlugin(app: FastifyInstance, opts: CorePluginOptions): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gaswatch_process_' });
  app.decorate('config', opts.config);
  app.decorate('clock', opts.clock);
  app.decorate('bus', createBus());
  app.decorate('metrics', registry);
}

export default fp(corePlugin, { name: 'core', fastify: '5.x' });
