import { createHash } from 'node:crypto';
import type { CommandResult, DeviceEvent } from '@gaswatch/shared';
import type { DeviceEventQuery, DeviceEventRecord } from './types.js';

/**
 * The id of a device event record, from its content: the same message delivered again (QoS 1
 * redelivery, an outbox replay) gets the same id and is stored once; two different events of one
 * device in the same millisecond (valve and fan switched together) get different ids.
 */
export function deviceEventId(
  kind: DeviceEventRecord['kind'],
  gw: string,
  dev: string | null,
  data: DeviceEvent | CommandResult,
): string {
  return createHash('sha256')
    .update(JSON.stringify([kind, gw, dev, data]))
    .digest('hex')
    .slice(0, 24);
}

/** A DeviceEvent received from a gateway, as a record for the store. */
export function deviceEventRecord(
  gw: string,
  dev: string,
  event: DeviceEvent,
  receivedAt: number,
): DeviceEventRecord {
  return {
    id: deviceEventId('event', gw, dev, event),
    kind: 'event',
    gw,
    dev,
    ts: Date.parse(event.ts),
    receivedAt,
    data: event,
  };
}

/** A command result received from a gateway, as a record for the store. */
export function commandResultRecord(
  gw: string,
  result: CommandResult,
  receivedAt: number,
): DeviceEventRecord {
  return {
    id: deviceEventId('command_result', gw, null, result),
    kind: 'command_result',
    gw,
    dev: null,
    ts: Date.parse(result.ts),
    receivedAt,
    data: result,
  };
}

/** True when a record matches a query's filters (not its limit). */
export function matchesDeviceEventQuery(r: DeviceEventRecord, q: DeviceEventQuery): boolean {
  if (q.dev !== undefined && r.dev !== q.dev) return false;
  if (q.gw !== undefined && r.gw !== q.gw) return false;
  if (q.from !== undefined && r.ts < q.from) return false;
  if (q.to !== undefined && r.ts >= q.to) return false;
  return true;
}

/** Newest first: by ts, then by id (the order every store answers in). */
export const newestFirst = (a: DeviceEventRecord, b: DeviceEventRecord): number =>
  b.ts - a.ts || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

const recordOfBus = new WeakMap<object, DeviceEventRecord>();

/**
 * The record of one bus 'deviceEvent' / 'commandResult' emission, built once: every listener
 * (the store writer, each /api/live socket) gets the same id and receivedAt.
 */
export function busEventRecord(
  e: { gw: string; dev: string; event: DeviceEvent } | { gw: string; result: CommandResult },
  now: () => number,
): DeviceEventRecord {
  let r = recordOfBus.get(e);
  if (r === undefined) {
    r =
      'event' in e
        ? deviceEventRecord(e.gw, e.dev, e.event, now())
        : commandResultRecord(e.gw, e.result, now());
    recordOfBus.set(e, r);
  }
  return r;
}
