/**
 * One hub behind every /api/live socket: one bus listener per event kind for the whole server,
 * each event turned into its message and serialised once, and the same string sent to every open
 * socket. A socket that does not read (more than `maxBufferedBytes` queued) is closed with 1013, so
 * one stalled browser never holds memory for the rest.
 *
 * The hub listens only while a socket is open: no work without a console, and its listeners come
 * after the alarm engine's (which subscribes at start). The engine queues a batch's readings and
 * evaluates them in a microtask, so a batch's live messages are built before its alarms are
 * evaluated: one serialisation per event, whatever the number of sockets.
 *
 * While sockets are open a heartbeat carries the server's time: the console judges from it that its
 * socket still delivers (a hung server keeps the TCP connection open but says nothing) and how old
 * a device's last reading is.
 *
 * A socket added with an area filter (the caller's area, SPEC §9) receives only the events of
 * devices in it: each event's area is found once, each socket's filter is one tree walk.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { AreaSubject } from '../auth/principal.js';
import type { ServerBus, ServerEvents } from '../bus.js';
import { deviceView } from '../ingest/device-view.js';
import type { DeviceRecord, DeviceRegistry } from '../ingest/devices.js';
import { busEventRecord } from '../store/device-events.js';
import { createEventOutputs } from './outputs.js';
import { deviceEventView } from './views.js';

/** What a socket receives: `{type, data}`, one JSON text frame per message. */
export interface LiveMessage {
  type:
    | 'reading'
    | 'deviceState'
    | 'alarm'
    | 'deviceEvent'
    | 'commandResult'
    | 'maintenance'
    | 'permit'
    | 'notification'
    | 'heartbeat';
  data: unknown;
}

/** The part of a `ws` socket the hub uses. */
export type LiveSocket = Pick<
  WebSocket,
  'readyState' | 'OPEN' | 'bufferedAmount' | 'send' | 'close' | 'terminate' | 'on' | 'off'
>;

export interface LiveHubOptions {
  bus: ServerBus;
  /** Wall clock, ms (the server's clock: device online windows and the heartbeat's time). */
  clock: () => number;
  /** The device registry: a reading's message carries its device's /api/devices row. */
  devices: DeviceRegistry;
  /** The alarm's current /api/alarms row, sent with each of its transitions (null when unknown). */
  alarmRow?: (alarmId: string) => unknown;
  /** The area an event belongs to (auth.areaOf); without it every socket receives everything. */
  areaOf?: (subject: AreaSubject) => string | null;
  /** Heartbeat period while sockets are open, ms (default 2000). */
  heartbeatMs?: number;
  /** A socket with more than this queued is closed as too slow (default 4 MiB). */
  maxBufferedBytes?: number;
  /** Turns a message into its frame (default JSON.stringify; tests count the calls). */
  serialize?: (message: LiveMessage) => string;
  /** Where a message that could not be built or sent is reported. */
  logger?: Pick<Logger, 'error'>;
}

export interface LiveHub {
  /**
   * Sends every later message to this socket until it closes; with `sees`, only the events whose
   * area it accepts (heartbeats always).
   */
  add(socket: LiveSocket, sees?: (area: string | null) => boolean): void;
  /** Removes the bus listeners and the heartbeat and closes every socket (1001). */
  stop(): void;
  /** Open sockets. */
  readonly size: number;
}

const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export function createLiveHub(opts: LiveHubOptions): LiveHub {
  const { bus, clock, devices } = opts;
  const maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const heartbeatMs = opts.heartbeatMs ?? 2000;
  const serialize = opts.serialize ?? ((m: LiveMessage) => JSON.stringify(m));
  const outputsOf = createEventOutputs(devices);
  /** Open sockets and their area filters (undefined: everything). */
  const sockets = new Map<LiveSocket, ((area: string | null) => boolean) | undefined>();
  let heartbeat: NodeJS.Timeout | null = null;
  let stopped = false;

  function drop(socket: LiveSocket): void {
    if (!sockets.delete(socket)) return;
    if (sockets.size === 0) quiet();
  }

  /**
   * Sends a message to every socket that sees `subject` (a device, or a record's own area; null:
   * every socket).
   */
  function broadcast(
    subject: AreaSubject | { area: string | null } | null,
    message: () => LiveMessage,
  ): void {
    if (sockets.size === 0) return;
    // The hub listens on the same bus as the alarm engine: a throw here would keep the event
    // from the listeners after it, so nothing leaves this function.
    let frame: string;
    try {
      frame = serialize(message());
    } catch (err) {
      opts.logger?.error({ err }, 'could not build a live message; not sent');
      return;
    }
    let area: string | null | undefined;
    for (const [socket, sees] of sockets) {
      if (socket.readyState !== socket.OPEN) continue;
      if (subject !== null && sees !== undefined) {
        if (area === undefined) area = 'area' in subject ? subject.area : (opts.areaOf?.(subject) ?? null);
        if (!sees(area)) continue;
      }
      if (socket.bufferedAmount > maxBuffered) {
        drop(socket);
        socket.close(1013, 'too slow');
        continue;
      }
      try {
        socket.send(frame);
      } catch (err) {
        opts.logger?.error({ err }, 'could not send a live message; socket dropped');
        drop(socket);
        socket.terminate();
      }
    }
  }

  /** A device's /api/devices row, its area included. */
  const row = (d: DeviceRecord) => ({
    ...deviceView(d, clock()),
    area: opts.areaOf?.({ gw: d.gw, dev: d.dev, site: d.state?.site }) ?? null,
  });

  const listeners = {
    reading: (e: ServerEvents['reading'][0]) =>
      broadcast({ gw: e.gw, dev: e.dev, site: e.device.state?.site }, () => ({
        type: 'reading',
        data: {
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
          // The device's /api/devices row after this reading: the console replaces its row.
          device: row(e.device as DeviceRecord),
        },
      })),
    deviceState: (e: ServerEvents['deviceState'][0]) =>
      broadcast({ gw: e.gw, dev: e.dev, site: e.state.site }, () => ({
        type: 'deviceState',
        data: { gw: e.gw, dev: e.dev, state: e.state, device: row(e.device as DeviceRecord) },
      })),
    alarm: (e: ServerEvents['alarm'][0]) => {
      // Looked up before broadcast (its site is the event's area), so guarded here as it is there.
      let row: unknown;
      try {
        row = opts.alarmRow?.(e.alarmId) ?? null;
      } catch (err) {
        opts.logger?.error({ err }, 'could not build a live message; not sent');
        return;
      }
      const site = (row as { site?: string | null } | null)?.site;
      broadcast({ gw: e.gw, dev: e.dev, site }, () => ({ type: 'alarm', data: { ...e, alarm: row } }));
    },
    // Only which alarm: a card showing it reloads its notification log.
    notification: (e: ServerEvents['notification'][0]) =>
      broadcast({ gw: e.gw, dev: e.dev, site: e.site }, () => ({
        type: 'notification',
        data: { alarmId: e.alarmId },
      })),
    // Same shape as a row of /api/events.
    deviceEvent: (e: ServerEvents['deviceEvent'][0]) =>
      broadcast({ gw: e.gw, dev: e.dev }, () => {
        const r = busEventRecord(e, clock);
        return { type: 'deviceEvent', data: deviceEventView(r, outputsOf(r)) };
      }),
    commandResult: (e: ServerEvents['commandResult'][0]) =>
      broadcast({ gw: e.gw, dev: null }, () => ({
        type: 'commandResult',
        data: deviceEventView(busEventRecord(e, clock)),
      })),
    // A permit's change or an evacuation alert, to those who see the permit's area.
    permit: (e: ServerEvents['permit'][0]) =>
      broadcast({ area: e.area }, () => ({ type: 'permit', data: e })),
    // The device's GET /api/devices/:id/maintenance answer as it is after the change.
    maintenance: (e: ServerEvents['maintenance'][0]) =>
      broadcast({ gw: e.gw ?? '', dev: e.dev, site: e.site }, () => ({
        type: 'maintenance',
        data: { dev: e.dev, maintenance: e.view },
      })),
  };

  /** The first socket: one listener per event kind, and the heartbeat. */
  function listen(): void {
    bus.on('reading', listeners.reading);
    bus.on('deviceState', listeners.deviceState);
    bus.on('alarm', listeners.alarm);
    bus.on('notification', listeners.notification);
    bus.on('deviceEvent', listeners.deviceEvent);
    bus.on('commandResult', listeners.commandResult);
    bus.on('permit', listeners.permit);
    bus.on('maintenance', listeners.maintenance);
    heartbeat = setInterval(
      () => broadcast(null, () => ({ type: 'heartbeat', data: { now: new Date(clock()).toISOString() } })),
      heartbeatMs,
    );
  }

  /** The last socket gone (or stop): no listener, no timer. */
  function quiet(): void {
    bus.off('reading', listeners.reading);
    bus.off('deviceState', listeners.deviceState);
    bus.off('alarm', listeners.alarm);
    bus.off('notification', listeners.notification);
    bus.off('deviceEvent', listeners.deviceEvent);
    bus.off('commandResult', listeners.commandResult);
    bus.off('permit', listeners.permit);
    bus.off('maintenance', listeners.maintenance);
    if (heartbeat !== null) clearInterval(heartbeat);
    heartbeat = null;
  }

  return {
    add(socket, sees) {
      if (stopped) {
        socket.close(1001, 'server shutting down');
        return;
      }
      // Already closing: its 'close' may have fired, and nothing would remove it again.
      if (socket.readyState > socket.OPEN || sockets.has(socket)) return;
      if (sockets.size === 0) listen();
      sockets.set(socket, sees);
      const off = () => drop(socket);
      socket.on('close', off);
      socket.on('error', off);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      quiet();
      for (const socket of [...sockets.keys()]) {
        drop(socket);
        socket.close(1001, 'server shutting down');
      }
    },
    get size() {
      return sockets.size;
    },
  };
}
