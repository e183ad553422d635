import { join } from 'node:path';
import { IdSchema } from '@gaswatch/shared';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
import type { ServerEvents } from '../bus.js';
import { HttpError } from '../errors.js';
import { createEventOutputs, type OutputMeaning } from '../live/outputs.js';
import { createDeviceEventWriter } from '../store/device-event-writer.js';
import { busEventRecord, newestFirst } from '../store/device-events.js';
import type { DeviceEventRecord } from '../store/types.js';
import { ErrorBody, parseOr400 } from './validate.js';

export const MAX_EVENTS_LIMIT = 1_000;

const IsoTime = z.iso.datetime({ offset: true }).describe('ISO 8601 time, e.g. 2026-11-23T18:00:00Z');

export const EventsQuerySchema = z
  .object({
    device: IdSchema.optional().describe('Only this device (command results have no device)'),
    gateway: IdSchema.optional().describe('Only this gateway'),
    from: IsoTime.optional().describe('Start, inclusive (event time)'),
    to: IsoTime.optional().describe('End, exclusive (event time)'),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_EVENTS_LIMIT)
      .default(100)
      .describe('Most events returned, newest first'),
  })
  .strict();

/**
 * A stored record as the API and /api/live show it: times as ISO strings, and with `outputs` what
 * the switched outputs mean for the device's model (valve closed, fan on).
 */
export function deviceEventView(r: DeviceEventRecord, outputs?: OutputMeaning[]) {
  return {
    id: r.id,
    kind: r.kind,
    gw: r.gw,
    dev: r.dev,
    ts: new Date(r.ts).toISOString(),
    receivedAt: new Date(r.receivedAt).toISOString(),
    data: r.data,
    ...(outputs === undefined ? {} : { outputs }),
  };
}

/**
 * Gateway events (interlock switched a valve or fan, faults, bump test results, silenced, local
 * alarms) and command results: kept in the store from the bus, queryable on /api/events.
 */
export default async function deviceEventsRoutes(app: FastifyInstance): Promise<void> {
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
  app.addHook('onClose', async () => {
    app.bus.off('deviceEvent', onEvent);
    app.bus.off('commandResult', onResult);
    await writer.stop();
  });

  const outputsOf = createEventOutputs(app.devices);

  app.get(
    '/api/events',
    {
      schema: {
        description:
          'Gateway events (interlock: valve closed / fan on, fault, bump test result, silenced, local alarm raised/cleared) and command results, newest first',
        tags: ['devices'],
        querystring: {
          type: 'object',
          properties: {
            device: { type: 'string', description: 'Only this device' },
            gateway: { type: 'string', description: 'Only this gateway' },
            from: { type: 'string', format: 'date-time', description: 'Start, inclusive' },
            to: { type: 'string', format: 'date-time', description: 'End, exclusive' },
            limit: { type: 'integer', minimum: 1, maximum: MAX_EVENTS_LIMIT, description: 'default 100' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              events: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    kind: { type: 'string', enum: ['event', 'command_result'] },
                    gw: { type: 'string' },
                    dev: { type: ['string', 'null'] },
                    ts: { type: 'string', format: 'date-time' },
                    receivedAt: { type: 'string', format: 'date-time' },
                    data: {
                      type: 'object',
                      additionalProperties: true,
                      description: 'The DeviceEvent or CommandResult as the gateway sent it',
                    },
                    outputs: {
                      type: 'array',
                      description:
                        "Interlock events: each output switched, read through the device model's profile",
                      items: {
                        type: 'object',
                        properties: {
                          name: { type: 'string', description: 'sounder, valve or fan' },
                          value: { type: 'boolean', description: 'The coil value the gateway wrote' },
                          position: {
                            type: ['string', 'null'],
                            enum: ['closed', 'open', 'on', 'off', null],
                            description: 'What that value does on this model; null when unknown',
                          },
                          alarmPosition: {
                            type: ['boolean', 'null'],
                            description: 'Where a local alarm drives it (valve closed, fan on)',
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          400: ErrorBody,
          503: ErrorBody,
        },
      },
      // Validation is zod's (one set of messages); the JSON schema above documents the route.
      validatorCompiler: () => (data) => ({ value: data }),
    },
    async (request) => {
      const q = parseOr400(EventsQuerySchema, request.query);
      const from = q.from === undefined ? undefined : Date.parse(q.from);
      const to = q.to === undefined ? undefined : Date.parse(q.to);
      if (from !== undefined && to !== undefined && from > to)
        throw new HttpError(400, 'bad_range', `from (${q.from}) is after to (${q.to})`);
      const query = { dev: q.device, gw: q.gateway, from, to, limit: q.limit };
      // Received but not yet written (store slow or down): shown too, never twice. Taken before
      // the store is read: an event whose write lands in between is then in the store's answer,
      // where the other order would find it in neither.
      const pending = writer.pendingMatching(query);
      const stored = await app.store.listDeviceEvents(query);
      const seen = new Set(stored.map((r) => r.id));
      const merged = [...pending.filter((r) => !seen.has(r.id)), ...stored]
        .sort(newestFirst)
        .slice(0, q.limit);
      return { events: merged.map((r) => deviceEventView(r, outputsOf(r))) };
    },
  );
}
