/**
 * The escalation chain of issue 15 in the alarm engine, in simulated time, with Alibaba Cloud SMS
 * and Tencent Cloud voice stood in by local HTTP servers that check every request's signature:
 * whom each step tells and how, the vulnerable household's faster start, the top step repeated
 * until someone acknowledges, the hourly cap, failover to the contact's next channel, and every
 * message a record.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { notificationsOfAlarm } from '../../src/db/notifications.js';
import { toRecord } from '../../src/notify/record.js';
import { deviceState, feed, MIN, makeRig, manualTime, type Rig, series, T0 } from '../alarms/helpers.js';
import {
  AREAS,
  channelsFor,
  DUTY,
  HOME,
  HOUSEHOLD_STEPS,
  type Providers,
  SMS_TOKEN,
  startProviders,
} from './chain-rig.js';

let rig: Rig | undefined;
let providers: Providers | undefined;
afterEach(async () => {
  await rig?.close();
  await providers?.close();
  rig = undefined;
  providers = undefined;
});

/** Her bedroom detector reads 400 ppm CO for three minutes: the fast tier alarms (critical). */
async function coAlarm(r: Rig, dev = 'bedroom-co'): Promise<string> {
  const state = deviceState('household-co', 'liujiang', 3600);
  await feed(r.store, r.bus, series('gw-1', dev, state, T0 - 3 * MIN, T0, 10, { CO: 400 }));
  await r.engine.idle();
  const [alarm] = r.engine.list({ dev });
  if (alarm === undefined) throw new Error('no alarm raised');
  return alarm.id;
}

const records = async (r: Rig, id: string) =>
  (await notificationsOfAlarm(r.db, id, { limit: 500 })).rows.map(toRecord);

describe('the household chain', () => {
  it('tells her own contacts by SMS, then by phone, then the village, then the township duty room again and again until someone acknowledges', async () => {
    providers = await startProviders();
    const p = providers;
    const time = manualTime(T0);
    rig = await makeRig(
      {
        channels: channelsFor(p),
        notify: { household: { steps: HOUSEHOLD_STEPS }, duty: DUTY, maxPerContactHour: 3 },
      },
      {
        clock: time.clock,
        timers: time.timers,
        homeOf: (dev) => (dev === 'bedroom-co' ? HOME : undefined),
        vulnerableOf: (dev) => (dev === 'bedroom-co' ? HOME.flags : []),
        areas: AREAS,
        areaOf: () => 'liujiang',
      },
    );
    const r = rig;
    const advance = async (ms: number) => {
      time.advance(ms);
      await r.engine.idle();
    };
    const sent = () => p.sent.map((s) => `${s.channel} ${s.to}`);

    const id = await coAlarm(r);
    // Step 1: an SMS to each of her own contacts, in the household's call order, her son's number
    // made E.164 as the provider takes it.
    expect(sent()).toEqual(['sms +8613800000001', 'sms +8613800000011']);
    expect(p.sent[0]?.params).toEqual({
      household: '柳江村3组12号（王秀英，独居老人）',
      event: '卧室一氧化碳 400ppm 报警',
    });
    expect(p.sent[0]?.id).toBe(`${id}.t1.c0`);

    // She lives alone: 60 s, not 120, before the next step (defaults.vulnerableAckTimeout).
    await advance(59_000);
    expect(p.sent).toHaveLength(2);
    await advance(1_000);
    expect(sent().slice(2)).toEqual(['call +8613800000001', 'call +8613800000011']);

    // Step 3: the grid worker from her household's contacts and the village's duty contact.
    await advance(60_000);
    expect(sent().slice(4)).toEqual(['sms +8613800000021', 'sms +8613800000031']);
    // Step 4, the top: the township duty room, by phone; then again every minute, never silent.
    await advance(60_000);
    expect(sent().slice(6)).toEqual(['call +8613900000000']);
    await advance(60_000);
    await advance(60_000);
    expect(sent().slice(6)).toEqual(['call +8613900000000', 'call +8613900000000', 'call +8613900000000']);
    // The duty room's fourth call within the hour is over notify.maxPerContactHour (3): recorded, not made.
    await advance(60_000);
    expect(p.sent).toHaveLength(9);
    expect(r.engine.responseInfo(r.engine.get(id)!).escalation).toMatchObject({
      tiers: [
        {
          tier: 1,
          name: '住户及家属（短信）',
          contacts: [{ name: '王秀英', to: '+8613800000001' }, { name: '王建军' }],
        },
        { tier: 2, contacts: [{ name: '王秀英' }, { name: '王建军' }] },
        { tier: 3, contacts: [{ name: '韦小明' }, { name: '柳江村委会值班' }] },
        { tier: 4, name: '镇应急值班室', contacts: [{ name: '大埔镇应急值班室', to: '+8613900000000' }] },
      ],
      next: { tier: 4, at: time.clock() + 60_000 },
    });

    const recs = await records(r, id);
    expect(recs.map((n) => [n.step, n.contact.name, n.medium, n.outcome])).toEqual([
      [1, '王秀英', 'sms', 'sent'],
      [1, '王建军', 'sms', 'sent'],
      [2, '王秀英', 'voice', 'sent'],
      [2, '王建军', 'voice', 'sent'],
      [3, '韦小明', 'sms', 'sent'],
      [3, '柳江村委会值班', 'sms', 'sent'],
      [4, '大埔镇应急值班室', 'voice', 'sent'],
      [4, '大埔镇应急值班室', 'voice', 'sent'],
      [4, '大埔镇应急值班室', 'voice', 'sent'],
      [4, '大埔镇应急值班室', 'voice', 'capped'],
    ]);
    expect(recs[0]).toMatchObject({
      id: `${id}.t1.c0`,
      contact: { name: '王秀英', relation: 'occupant', to: '+8613800000001' },
      channel: 'sms',
      providerId: 'biz-1',
      queuedAt: T0,
      sentAt: T0,
      text: '【燃气安全】柳江村3组12号（王秀英，独居老人）卧室一氧化碳 400ppm 报警（07:59），请立即开窗、撤离并回复1确认。',
    });
    expect(recs[2]?.text).toBe(
      '燃气安全报警。柳江村3组12号，王秀英，独居老人。卧室一氧化碳浓度400 ppm。请立即开窗、撤离。',
    );

    // The duty officer acknowledges in the console: nothing more, to anyone.
    await r.engine.acknowledge(id, { actor: 'duty', note: '已电话联系王建军，正赶往现场' });
    await advance(60 * MIN);
    expect(p.sent).toHaveLength(9);
    const text = await r.registry.metrics();
    expect(text).toMatch(/gaswatch_notification_outcomes_total\{channel="call",outcome="capped"\} 1/);
    expect(text).toMatch(/gaswatch_alarm_escalations_total\{tier="4",severity="critical"\} 4/);
  });

  it('a message the provider refuses, or reports undelivered, goes out at once on the next channel', async () => {
    providers = await startProviders();
    const p = providers;
    const time = manualTime(T0);
    rig = await makeRig(
      {
        channels: channelsFor(p),
        notify: { household: { steps: [{ household: ['occupant', 'family'], channels: ['sms', 'call'] }] } },
      },
      { clock: time.clock, timers: time.timers, homeOf: () => HOME },
    );
    const r = rig;
    // Her number is refused by the SMS provider (the wrong number was registered).
    p.refuseSmsTo('+8613800000001');
    const id = await coAlarm(r);
    expect(p.sent.map((s) => `${s.channel} ${s.to}`)).toEqual(['sms +8613800000011', 'call +8613800000001']);
    let recs = await records(r, id);
    expect(recs.map((n) => [n.id, n.medium, n.outcome, n.attempt, n.failoverOf])).toEqual([
      [`${id}.t1.c0`, 'sms', 'failed', 1, null],
      [`${id}.t1.c0.a2`, 'voice', 'sent', 2, `${id}.t1.c0`],
      [`${id}.t1.c1`, 'sms', 'sent', 1, null],
    ]);
    expect(recs[0]?.detail).toMatch(/isv\.MOBILE_NUMBER_ILLEGAL/);

    // Her son's SMS is reported undelivered (phone switched off for days): a call to him at once.
    const report = (success: boolean) => ({
      method: 'POST',
      url: `/api/notify/callback/sms?token=${SMS_TOKEN}`,
      origin: 'https://duty.example.org',
      headers: { 'content-type': 'application/json' },
      rawBody: Buffer.from(
        JSON.stringify([
          {
            phone_number: '13800000011',
            send_time: '2026-11-23 08:00:00',
            report_time: '2026-11-23 08:00:09',
            success,
            err_code: 'MK:0001',
            err_msg: '用户关机',
            sms_size: '2',
            biz_id: 'biz-1',
            out_id: `${id}.t1.c1`,
          },
        ]),
      ),
    });
    const { answer } = await r.engine.notify.callback('sms', report(false));
    expect(answer).toMatchObject({ status: 200, body: expect.stringContaining('"code":0') });
    await r.engine.idle();
    expect(p.sent.map((s) => `${s.channel} ${s.to}`).slice(2)).toEqual(['call +8613800000011']);
    // Alibaba pushes again when unsure: the same report twice is one failover, not two calls.
    await r.engine.notify.callback('sms', report(false));
    await r.engine.idle();
    expect(p.sent).toHaveLength(3);
    recs = await records(r, id);
    expect(recs.find((n) => n.id === `${id}.t1.c1`)).toMatchObject({
      outcome: 'failed',
      failedAt: Date.parse('2026-11-23T00:00:09Z'),
      detail: 'MK:0001 用户关机',
    });
    expect(recs.find((n) => n.id === `${id}.t1.c1.a2`)).toMatchObject({
      medium: 'voice',
      outcome: 'sent',
      failoverOf: `${id}.t1.c1`,
    });
  });
});
