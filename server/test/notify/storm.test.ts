/**
 * Storm control (issue 15): a power cut takes a village's detectors offline at once; the grid
 * worker gets one SMS saying how many and where, with the console link, not one per detector —
 * and each alarm still has its record. His reply "1" answers them all. A gas alarm in the middle
 * of it is not held back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { notificationsOfAlarm } from '../../src/db/notifications.js';
import { toRecord } from '../../src/notify/record.js';
import {
  accepted,
  deviceState,
  feed,
  MIN,
  makeRig,
  manualTime,
  type Rig,
  series,
  T0,
} from '../alarms/helpers.js';
import { AREAS, channelsFor, type Providers, SMS_TOKEN, startProviders } from './chain-rig.js';

let rig: Rig | undefined;
let providers: Providers | undefined;
afterEach(async () => {
  await rig?.close();
  await providers?.close();
  rig = undefined;
  providers = undefined;
});

const config = (p: Providers) => ({
  channels: channelsFor(p),
  sites: {
    liujiang: {
      area: 'liujiang',
      steps: [{ name: '村网格员', contacts: [{ name: '韦小明', to: '13800000021', channel: 'sms' }] }],
    },
    hexi: {
      area: 'hexi',
      steps: [{ name: '村网格员', contacts: [{ name: '韦小明', to: '13800000021', channel: 'sms' }] }],
    },
  },
  notify: { consoleUrl: 'https://gw.dapu.cn/', storm: { windowS: 30 } },
  // One alarm per detector here, as without area folding (alarms/fold.test.ts folds them): what
  // is tested is how their messages are grouped per contact.
  fold: { minDevices: 0 },
});

describe('an offline storm', () => {
  it('gives each contact one message with the count and a link, records it per alarm, and one reply "1" answers them all', async () => {
    providers = await startProviders();
    const p = providers;
    const time = manualTime(T0);
    rig = await makeRig(config(p), { clock: time.clock, timers: time.timers, areas: AREAS });
    const r = rig;
    const advance = async (ms: number) => {
      time.advance(ms);
      await r.engine.idle();
    };
    // Twelve detectors of 柳江村 on a 10 s poll, and one of 河西村 (another area) silent 20 s longer.
    const village = deviceState('household-co', 'liujiang', 10);
    const devices = Array.from({ length: 12 }, (_, i) => `lj-${String(i + 1).padStart(2, '0')}`);
    await feed(r.store, r.bus, [
      ...devices.map((d) => accepted('gw-1', d, village, T0, 0, { CO: 0 })),
      accepted('gw-2', 'hx-01', deviceState('household-co', 'hexi', 10), T0 - 20_000, 0, { CO: 0 }),
    ]);
    await r.engine.idle();

    // The power goes at T0: 30 s later every one of them is offline. Nothing is sent yet: the
    // messages wait the storm window for the others of their kind and area.
    await advance(31_000);
    const offline = r.engine.list({ kind: 'offline', state: 'open' });
    expect(offline).toHaveLength(13);
    expect(p.sent).toHaveLength(0);

    // A real CO alarm meanwhile in a detector still on a battery: told at once, never held.
    const home = deviceState('household-co', 'liujiang', 3600);
    await feed(
      r.store,
      r.bus,
      series('gw-3', 'bedroom-co', home, time.clock() - 3 * MIN, time.clock(), 10, { CO: 400 }),
    );
    await r.engine.idle();
    expect(p.sent.map((s) => s.params.event)).toEqual(['一氧化碳 400ppm 报警']);

    // The window ends: one SMS for the twelve of 柳江村, and the single one of 河西村 on its own.
    await advance(30_000);
    const messages = p.sent.slice(1);
    expect(messages).toHaveLength(2);
    const group = messages.find((m) => m.params.event?.startsWith('柳江村'));
    expect(group?.params).toMatchObject({ household: '柳江村', event: '柳江村12台报警器08:00起离线' });
    const single = messages.find((m) => m !== group);
    expect(single?.params.event).toBe('报警器离线');

    // Each alarm has its record: the group's text, the same provider id, one batch.
    const rows = (
      await Promise.all(
        r.engine
          .list({ kind: 'offline', state: 'open' })
          .filter((a) => a.dev.startsWith('lj-'))
          .map(async (a) => (await notificationsOfAlarm(r.db, a.id, { limit: 10 })).rows.map(toRecord)),
      )
    ).flat();
    expect(rows).toHaveLength(12);
    expect(new Set(rows.map((x) => x.batch)).size).toBe(1);
    expect(new Set(rows.map((x) => x.providerId))).toEqual(new Set([group?.providerId]));
    expect(rows[0]?.text).toBe(
      '【燃气安全】柳江村12台报警器08:00起离线，可能停电或断网，请核实并回复1确认。详情 https://gw.dapu.cn/#/alarms',
    );

    // He replies "1": it answers the latest SMS he got, the grouped one (河西村's came 20 s before),
    // so the twelve are acknowledged as him; the others keep climbing their chains.
    const { answer, acknowledged } = await r.engine.notify.callback('sms', {
      method: 'POST',
      url: `/api/notify/callback/sms?token=${SMS_TOKEN}`,
      origin: 'https://gw.dapu.cn',
      headers: { 'content-type': 'application/json' },
      rawBody: Buffer.from(
        JSON.stringify([{ phone_number: '13800000021', content: '1 收到，已联系供电所' }]),
      ),
    });
    expect(answer.status).toBe(200);
    expect(acknowledged).toHaveLength(12);
    await r.engine.idle();
    const states = r.engine
      .list({ kind: 'offline' })
      .map((a) => [a.dev, a.state, a.ack?.actor ?? null])
      .sort();
    expect(states.filter(([d]) => String(d).startsWith('lj-'))).toEqual(
      devices.map((d) => [d, 'acknowledged', 'sms:+8613800000021 (韦小明)']),
    );
    expect(states.find(([d]) => d === 'hx-01')).toEqual(['hx-01', 'active', null]);
    expect(r.engine.list({ dev: 'bedroom-co' })[0]?.state).toBe('active');
  });
});
