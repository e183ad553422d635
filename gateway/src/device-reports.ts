/**
 * What each poll of a device leads to. A sample: online again (state published), the local alarm
 * first (it needs neither disk nor network), then the reading, with the status a bump-test window
 * gives it, into the outbox. A failure: logged, and after `offlineAfter` in a row the device is
 * offline (state published, a fault event); at once when its serial port is not open. Events
 * (local alarms, bump tests, faults) go into the outbox too, where they are sent ahead of readings.
 */

import type { EventEmitter } from 'node:events';
import type { DeviceEvent } from '@gaswatch/shared';
import type { Clock } from './clock.js';
import type { DeviceStates } from './device-state.js';
import type { Forwarder } from './forwarder.js';
import type { Outbox } from './outbox.js';
import type { DeviceRuntime, GatewayEvents } from './runtime.js';
import type { Sample } from './sample.js';
import type { QueuedMessage, Uplink } from './uplink.js';

export interface DeviceReports {
  sample(d: DeviceRuntime, sample: Sample): Promise<void>;
  failure(d: DeviceRuntime, err: Error): void;
  /** Stores an event of the device in the outbox (logged, never thrown, when that fails). */
  event(d: DeviceRuntime, e: Omit<DeviceEvent, 'v'>): void;
}

export function createDeviceReports(opts: {
  outbox: Outbox;
  forwarder: Forwarder;
  uplink: Uplink;
  states: DeviceStates;
  clock: Clock;
  emitter: EventEmitter<GatewayEvents>;
}): DeviceReports {
  const { outbox, forwarder, uplink, states, clock, emitter } = opts;
  const iso = (ms = clock.now()) => new Date(ms).toISOString();

  function event(d: DeviceRuntime, e: Omit<DeviceEvent, 'v'>): void {
    const ev: DeviceEvent = { v: 1, ...e };
    let message: QueuedMessage;
    try {
      message = uplink.encode('event', ev, { dev: d.config.id });
    } catch (err) {
      d.log.error({ err, event: ev }, 'event does not match the DeviceEvent schema; not published');
      return;
    }
    emitter.emit('event', d, ev);
    outbox
      .appendEvent(message.topic, message.payload)
      .then(() => forwarder.kick())
      .catch((err: Error) => d.log.error({ err }, 'could not store event in the outbox'));
  }

  async function sample(d: DeviceRuntime, s: Sample): Promise<void> {
    d.lastSample = s;
    if (d.online !== true) {
      d.log.info(
        { values: s.values, status: s.status },
        d.online === false ? 'detector answers again' : 'detector online',
      );
      d.online = true;
      d.lastError = null;
      states.publish(d);
    }
    // Local safety first: it needs neither disk nor network, and a bump test never mutes it.
    if (d.alarm) {
      try {
        await d.alarm.onSample(s);
      } catch (err) {
        d.log.error({ err }, 'local alarm evaluation failed');
      }
    }
    const status = d.bumpTest ? d.bumpTest.onSample(s) : s.status;
    // Not awaited: the poll loop goes on to the next detector while this reading waits for its
    // group commit (up to outbox.commitMs). Awaiting it held every bus to one poll per commit
    // window (~9 polls/s whatever the detectors' intervals) and spread one bus's readings over
    // ~10 commits a second instead of one or two. Durability is the outbox's: the reading is
    // published only after its batch is on disk, and its seq is given in that batch, in order.
    outbox
      .appendReading(d.config.id, (seq) =>
        uplink.encode(
          'reading',
          {
            v: 1,
            ts: iso(s.ts),
            seq,
            values: s.values,
            status,
            ...(s.faults ? { faults: s.faults.map((f) => f.slice(0, 64)).slice(0, 32) } : {}),
            ...(s.quality ? { quality: s.quality } : {}),
            ...(s.alarm !== undefined ? { alarm: s.alarm } : {}),
          },
          { dev: d.config.id },
        ),
      )
      .then(
        (seq) => {
          d.readings++;
          forwarder.kick();
          emitter.emit('reading', d, s, seq);
        },
        (err: Error) => d.log.error({ err }, 'reading not stored in the outbox'),
      );
  }

  function failure(d: DeviceRuntime, err: Error): void {
    const { bus } = d;
    const code = (err as { code?: string }).code ?? 'error';
    const msg = `${code}: ${err.message}`;
    d.lastError = msg;
    emitter.emit('failure', d, err);
    if (d.failures === 1 || d.failures === bus.offlineAfter)
      d.log.warn({ code, err: err.message, failures: d.failures }, 'read failed');
    else d.log.debug({ code, err: err.message, failures: d.failures }, 'read failed');
    // A serial port that is not open (adapter unplugged or not yet plugged in) is no flaky answer
    // to count: the detector cannot be read until the adapter is back, so it is offline at once.
    // Not so for TCP, where a peer that drops idle connections is back at the next reconnect.
    const portDown = code === 'port_unavailable' && bus.type !== 'modbus-tcp';
    if ((d.failures >= bus.offlineAfter || portDown) && d.online !== false) {
      d.online = false;
      d.log.error({ code, err: err.message, offlinePollS: bus.offlinePollS }, 'detector offline');
      states.publish(d);
      event(d, {
        ts: iso(),
        type: 'fault',
        severity: 'warning',
        message: `detector not answering: ${msg}`.slice(0, 500),
      });
    }
  }

  return { sample, failure, event };
}
