import { IdSchema } from '@gaswatch/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../errors.js';
import type { DeviceRecord } from '../ingest/devices.js';
import { ErrorBody, parseOr400 } from './validate.js';

/** How long after the last reading a device still counts as online if its state does not say otherwise. */
const OFFLINE_AFTER_MS = 60_000;

export function deviceView(d: DeviceRecord, now: number) {
  const pollMs = (d.state?.pollIntervalS ?? 10) * 1000;
  const fresh = d.lastSeen !== null && now - d.lastSeen <= Math.max(3 * pollMs, OFFLINE_AFTER_MS);
  return {
    id: d.dev,
    gw: d.gw,
    online: (d.state?.online ?? true) && fresh,
    lastSeen: d.lastSeen === null ? null : new Date(d.lastSeen).toISOString(),
    lastReading: d.lastReading
      ? {
          ts: d.lastReading.ts,
          seq: d.lastReading.seq,
          values: d.lastReading.values,
          status: d.lastReading.status,
        }
      : null,
    state: d.state,
    readings: d.readings,
    seqGaps: d.seqGaps,
    seqResets: d.seqResets,
    clockSuspect: d.clockSuspect,
  };
}

export default async function devicesRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/devices',
    {
      schema: {
        description: 'Every device seen since start: state, last reading, seq gaps',
        tags: ['devices'],
      },
    },
    async () => {
      const now = app.clock();
      return { devices: app.devices.list().map((d) => deviceView(d, now)) };
    },
  );

  app.get(
    '/api/gateways',
    {
      schema: {
        description: 'Every gateway seen since start: its last status (online, version, outbox depth)',
        tags: ['devices'],
      },
    },
    async () => ({
      gateways: [...app.devices.gateways()]
        .map(([id, status]) => ({ id, ...status }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    }),
  );

  app.get(
    '/api/devices/:id',
    {
      schema: {
        description: 'One device: last reading, last seen, online, seq gaps counted',
        tags: ['devices'],
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        response: { 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { id } = parseOr400(z.object({ id: IdSchema }), request.params);
      const d = app.devices.get(id);
      if (!d) throw new HttpError(404, 'not_found', `no device ${id}`);
      return deviceView(d, app.clock());
    },
  );
}
