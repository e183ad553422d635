import { type Influxd, startInfluxd, waitFor } from '@gaswatch/shared/testing';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { GaswatchConfigSchema } from '../../src/alarms/config-schema.js';
import { type AlarmEngine, createAlarmEngine } from '../../src/alarms/engine.js';
import { createBus } from '../../src/bus.js';
import { createInfluxStore } from '../../src/store/influx.js';
import type { Store } from '../../src/store/types.js';
import { realTimers } from '../../src/timers.js';
import { deviceState, feed, MIN, quiet, series, T0 } from './helpers.js';

const home = deviceState('household-co', 'home', 3600);
const config = GaswatchConfigSchema.parse({ sites: { home: { coStandard: 'ul2034' } } });

/** Against a real influxd that goes away and comes back (InfluxDB store, SPEC §1 production shape). */
describe('alarm engine while InfluxDB is down', () => {
  let influxd: Influxd | undefined;
  let store: Store | undefined;
  const engines: AlarmEngine[] = [];
  const bus = createBus();
  const make = () => {
    const e = createAlarmEngine({
      store: store as Store,
      records: store as Store,
      bus,
      config,
      clock: Date.now,
      timers: realTimers,
      logger: quiet,
      metrics: new Registry(),
      sendCommand: async () => {},
    });
    engines.push(e);
    return e;
  };
  afterAll(async () => {
    for (const e of engines) await e.stop();
    await store?.stop();
    await influxd?.stop();
  });

  it('starts without the store, answers "loading", then rebuilds and evaluates what waited; acks queue until it is back', async () => {
    influxd = await startInfluxd();
    store = createInfluxStore({ url: influxd.url, database: 'alarms_outage', logger: quiet });
    await store.start();
    const a = make();
    await a.start();
    await feed(store, bus, series('gw-1', 'co-1', home, T0, T0 + 40 * MIN, 10, { CO: 150 }));
    await a.idle();
    const [alarm] = a.list();
    expect(alarm?.state).toBe('active');
    await a.stop();

    await influxd.pause();
    const b = make();
    await b.start(); // does not throw, does not hang
    expect(b.ready()).toBe(false);
    await expect(b.acknowledge(alarm?.id ?? '', { actor: 'x', note: '' })).rejects.toMatchObject({
      code: 'alarms_loading',
      statusCode: 503,
    });
    // Readings keep coming (core journals them); the engine holds them until its state is back.
    for (const r of series('gw-1', 'co-1', home, T0 + 40 * MIN, T0 + 50 * MIN, 10, { CO: 150 }, 240))
      bus.emit('reading', r);

    await influxd.start();
    await waitFor(() => b.ready(), 'alarm state rebuilt after InfluxDB came back', 20_000);
    await b.idle();
    expect(b.list().map((x) => [x.id, x.state])).toEqual([[alarm?.id, 'active']]);
    expect((await b.history(alarm?.id ?? '')).map((e) => e.type)).toEqual(['raised']);

    // Down again while someone acknowledges: the answer says it is not stored yet; it is kept and
    // written once InfluxDB is back.
    await influxd.pause();
    const ack = await b.acknowledge(alarm?.id ?? '', { actor: 'alice', note: 'during the outage' });
    expect(ack.alarm.state).toBe('acknowledged');
    expect(ack.stored).toBe(false);
    await influxd.start();
    await waitFor(
      async () =>
        (await (store as Store).listAlarmEvents({ alarmId: alarm?.id ?? '' })).some(
          (e) => e.data.type === 'acknowledged' && e.data.actor === 'alice',
        ),
      'acknowledgement stored after the outage',
      20_000,
    );
  });
});
