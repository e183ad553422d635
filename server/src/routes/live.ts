import type { FastifyInstance } from 'fastify';
import type { ServerEvents } from '../bus.js';
import { deviceView } from '../ingest/device-view.js';
import type { DeviceRecord } from '../ingest/devices.js';
import { busEventRecord, deviceEventView } from '../store/device-events.js';

/** A client that does not read its socket is dropped once this much is queued for it. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export default async function liveRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/live',
    {
      websocket: true,
      schema: {
        description:
          'WebSocket: JSON messages {type: "reading"|"deviceState"|"alarm"|"deviceEvent"|"commandResult", data} as they happen',
        tags: ['live'],
      },
    },
    (socket) => {
      const send = (type: string, data: unknown) => {
        if (socket.readyState !== socket.OPEN) return;
        if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
          socket.close(1013, 'too slow');
          return;
        }
        socket.send(JSON.stringify({ type, data }));
      };
      const onReading = (e: ServerEvents['reading'][0]) =>
        send('reading', {
          gw: e.gw,
          dev: e.dev,
          ts: e.reading.ts,
          seq: e.reading.seq,
          values: e.reading.values,
          status: e.reading.status,
          ...(e.reading.quality === undefined ? {} : { quality: e.reading.quality }),
          ...(e.reading.faults === undefined ? {} : { faults: e.reading.faults }),
          late: e.late,
          clockSuspect: e.clockSuspect,
        });
      const onState = (e: ServerEvents['deviceState'][0]) =>
        send('deviceState', {
          gw: e.gw,
          dev: e.dev,
          state: e.state,
          device: deviceView(e.device as DeviceRecord, app.clock()),
        });
      const onAlarm = (e: ServerEvents['alarm'][0]) => send('alarm', e);
      // Same shape as a row of /api/events.
      const onDeviceEvent = (e: ServerEvents['deviceEvent'][0]) =>
        send('deviceEvent', deviceEventView(busEventRecord(e, app.clock)));
      const onCommandResult = (e: ServerEvents['commandResult'][0]) =>
        send('commandResult', deviceEventView(busEventRecord(e, app.clock)));
      app.bus.on('reading', onReading);
      app.bus.on('deviceState', onState);
      app.bus.on('alarm', onAlarm);
      app.bus.on('deviceEvent', onDeviceEvent);
      app.bus.on('commandResult', onCommandResult);
      const off = () => {
        app.bus.off('reading', onReading);
        app.bus.off('deviceState', onState);
        app.bus.off('alarm', onAlarm);
        app.bus.off('deviceEvent', onDeviceEvent);
        app.bus.off('commandResult', onCommandResult);
      };
      socket.on('close', off);
      socket.on('error', off);
      // Clients only listen; anything they send is ignored.
      socket.on('message', () => {});
    },
  );
}
