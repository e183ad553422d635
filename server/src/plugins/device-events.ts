import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { ServerEvents } from '../bus.js';
import { createDeviceEventWriter } from '../store/device-event-writer.js';
import { busEventRecord, newestFirst } from '../store/device-events.js';
import type { DeviceEventQuery, DeviceEventRecord } from '../store/types.js';

/** Gateway events and command results: kept in the store, listed with those not stored yet. */
export interface DeviceEvents {
  /** Newest first; includes records received but not yet written (store slow or down), never twice. */
  list(query: DeviceEventQuery & { limit: number }): Promise<DeviceEventRecord[]>;
}

declare module 'fastify' {
  interface FastifyInstance {
    deviceEvents: DeviceEvents;
  }
}

/**
 * Gateway events (interlock switched a valve or fan, faults, bump test results, silenced, local
 * alarms) and command results, from the bus into the store. MQTT acknowledged them already, so
 * they wait in DATA_DIR/device-events-pending.jsonl while the store is down (store/device-event-writer.ts).
 */
async function deviceEventsPlugin(app: FastifyInstance): Promise<void> {
  const metrics = {
    pending: new Gauge({
      name: 'gaswatch_device_events_pending',
      help: 'Gateway events and command results received but not yet in the store',
      registers: [app.metrics],
    }),
    dropped: new Counter({
      name: 'gaswatch_device_events_dropped_total',
      help: 'Gateway events and command results dropped because the store was unreachable too long',
      registers: [app.metrics],
    }),
    written: new Counter({
      name: 'gaswatch_device_events_stored_total',
      help: 'Gateway events and command results written to the store',
      registers: [app.metrics],
    }),
  };
  const writer = createDeviceEventWriter({
    store: app.store,
    // buildServer hands Fastify a pino logger (loggerInstance), so its children are pino loggers.
    logger: app.log as unknown as Logger,
    metrics,
    pendingFile: join(app.config.dataDir, 'device-events-pending.jsonl'),
    fsync: app.config.ingest.fsync,
  });
  const onEvent = (e: ServerEvents['deviceEvent'][0]) => writer.add(busEventRecord(e, app.clock));
  const onResult = (e: ServerEvents['commandResult'][0]) => writer.add(busEventRecord(e, app.clock));
  app.bus.on('deviceEvent', onEvent);
  app.bus.on('commandResult', onResult);
  writer.start();

  app.decorate('deviceEvents', {
    async list(query) {
      // Taken before the store is read: an event whose write lands in between is then in the
      // store's answer, where the other order would find it in neither.
      const pending = writer.pendingMatching(query);
      const stored = await app.store.listDeviceEvents(query);
      const seen = new Set(stored.map((r) => r.id));
      return [...pending.filter((r) => !seen.has(r.id)), ...stored].sort(newestFirst).slice(0, query.limit);
    },
  } satisfies DeviceEvents);
  app.addHook('onClose', async () => {
    app.bus.off('deviceEvent', onEvent);
    app.bus.off('commandResult', onResult);
    await writer.stop();
  });
}

export default fp(deviceEventsPlugin, {
  name: 'device-events',
  fastify: '5.x',
  dependencies: ['core', 'store'],
});
