/**
 * What people read and hear (issue 15): the texts per medium, kind of alarm and language, made
 * from the alarm's facts, within the SMS length rules, and the facts as template parameters.
 */
import { describe, expect, it } from 'vitest';
import { alarmFacts } from '../../src/alarms/facts.js';
import type { Alarm } from '../../src/alarms/model.js';
import { smsLength } from '../../src/notify/sms-length.js';
import { type AlarmFacts, renderAlarm, renderGroup } from '../../src/notify/templates.js';

/** 2026-11-23 08:03 in Beijing. */
const RAISED = Date.parse('2026-11-23T00:03:00Z');
const TZ = 'Asia/Shanghai';
const LINK = 'https://duty.example.org/console/#/alarms/bedroom-co.CO-fast.mhx1';

const alarm: Alarm = {
  id: 'bedroom-co.CO-fast.mhx1',
  gw: 'gw-1',
  dev: 'bedroom-co',
  site: 'liujiang',
  key: 'CO:fast',
  rule: 'en50291-fast',
  profile: 'en50291',
  gas: 'CO',
  severity: 'critical',
  state: 'active',
  message: 'CO 400 ppm ≥ 300 ppm for 2 min',
  value: 400,
  threshold: 300,
  unit: 'ppm',
  raisedAt: RAISED,
  detectedAt: RAISED,
  late: false,
  clearedAt: null,
  ack: null,
  tier: 0,
  lastNotifiedAt: null,
  seq: 1,
};

/** Wang Xiuying, 80, alone in her house, a brazier in the bedroom. */
const home = {
  id: 'liujiang-3-12',
  area: 'liujiang',
  address: '柳江村 3 组 12 号',
  flags: ['elderly_alone' as const, 'migrant' as const],
  location: '卧室',
  contacts: [
    { name: '王建军', relation: 'family' as const, phone: '13800000011' },
    { name: '王秀英', relation: 'occupant' as const, phone: '13800000001' },
  ],
};

const facts = (over: Partial<AlarmFacts> = {}): AlarmFacts => ({
  ...alarmFacts(alarm, { home, consoleUrl: 'https://duty.example.org/console/' }),
  ...over,
});

describe('the facts of an alarm', () => {
  it('come from its household: the address, the occupant by name, the vulnerable flags, the room and the card link', () => {
    expect(facts()).toMatchObject({
      place: '柳江村 3 组 12 号',
      occupant: '王秀英',
      // migrant is no vulnerability: not said.
      flags: ['elderly_alone'],
      location: '卧室',
      link: LINK,
    });
  });

  it('come from the site when the detector is in no registered home, without a link when no console address is set', () => {
    expect(alarmFacts(alarm, { site: { name: '锅炉房', address: '工业园 8 号' } })).toMatchObject({
      place: '工业园 8 号',
      occupant: null,
      flags: [],
      location: null,
      link: null,
    });
  });
});

describe('SMS', () => {
  it('says a CO alarm as a township duty officer writes it, in at most two segments', () => {
    const m = renderAlarm(facts(), { medium: 'sms', lang: 'zh-CN', timeZone: TZ, sign: '燃气安全' });
    expect(m.text).toBe(
      `【燃气安全】柳江村3组12号（王秀英，独居老人）卧室一氧化碳 400ppm 报警（08:03），请立即开窗、撤离并回复1确认。详情 ${LINK}`,
    );
    expect(m.segments).toBe(2);
    expect(m.cut).toEqual([]);
    // Without the link it is one SMS: 70 characters or fewer, sign included.
    const short = renderAlarm(facts({ link: null }), {
      medium: 'sms',
      lang: 'zh-CN',
      timeZone: TZ,
      sign: '燃气安全',
    });
    expect(short.text).toBe(
      '【燃气安全】柳江村3组12号（王秀英，独居老人）卧室一氧化碳 400ppm 报警（08:03），请立即开窗、撤离并回复1确认。',
    );
    expect([short.segments, smsLength(short.text).units <= 70]).toEqual([1, true]);
  });

  it('leaves out the link, then the time, then the occupants to stay within the segments, and says so', () => {
    const opts = { medium: 'sms' as const, lang: 'zh-CN' as const, timeZone: TZ, sign: '燃气安全' };
    const one = renderAlarm(facts(), { ...opts, maxSegments: 1 });
    expect(one.cut).toEqual(['link']);
    expect(one.segments).toBe(1);
    const long = renderAlarm(
      facts({ place: '柳江村第三村民小组沿河东路老供销社后面往北第二排左手边数过去第十二号院子' }),
      { ...opts, maxSegments: 1 },
    );
    expect(long.cut.filter((k) => !k.startsWith('param:'))).toEqual(['link', 'time', 'occupants', 'address']);
    expect(long.segments).toBe(1);
    // The address is shortened last, and the request to reply stays whole.
    expect(long.text).toMatch(
      /^【燃气安全】柳江村第三村民小组.*…卧室一氧化碳 400ppm 报警，请立即开窗、撤离并回复1确认。$/,
    );
  });

  it('tells a combustible gas alarm what not to do first, an offline detector since when', () => {
    const opts = { medium: 'sms' as const, lang: 'zh-CN' as const, timeZone: TZ, sign: '燃气安全' };
    expect(
      renderAlarm(facts({ gas: 'LEL', unit: '%LEL', value: 25, location: '厨房', link: null }), opts).text,
    ).toBe(
      '【燃气安全】柳江村3组12号（王秀英，独居老人）厨房可燃气体 25%LEL 报警（08:03），勿开关电器，请立即关阀、开窗、撤离并回复1确认。',
    );
    expect(renderAlarm(facts({ kind: 'offline', link: null }), opts).text).toBe(
      '【燃气安全】柳江村3组12号（王秀英，独居老人）卧室报警器08:03起离线，请联系住户或上门查看并回复1确认。',
    );
    expect(renderAlarm(facts({ severity: 'warning', value: 60, link: null }), opts).text).toBe(
      '【燃气安全】柳江村3组12号（王秀英，独居老人）卧室一氧化碳 60ppm 预警（08:03），请开窗通风、检查炉具并回复1确认。',
    );
  });

  it('in English: GSM-7 counts 160 a segment, and any Chinese character makes it UCS-2', () => {
    const english = renderAlarm(
      facts({ place: '12 Riverside Rd', occupant: 'Mrs Wang', location: 'bedroom', link: null }),
      { medium: 'sms', lang: 'en', timeZone: TZ, sign: 'Gas Safety' },
    );
    expect(english.text).toBe(
      '[Gas Safety] 12 Riverside Rd (Mrs Wang, elderly living alone): CO 400 ppm ALARM in bedroom (08:03). Open windows and get out now. Reply 1 to acknowledge.',
    );
    // 155 septets for 153 characters: [ and ] are GSM-7 extension characters, two septets each.
    expect(smsLength(english.text)).toEqual({ encoding: 'gsm7', units: 155, segments: 1 });
    expect(smsLength('€'.repeat(80))).toEqual({ encoding: 'gsm7', units: 160, segments: 1 });
    expect(smsLength(`${'a'.repeat(160)}王`)).toEqual({ encoding: 'ucs2', units: 161, segments: 3 });
  });
});

describe('calls, e-mail and chats', () => {
  it('a call says the household and what to do, the level in words a phone can carry', () => {
    const opts = { medium: 'voice' as const, lang: 'zh-CN' as const, timeZone: TZ };
    expect(renderAlarm(facts(), opts).text).toBe(
      '燃气安全报警。柳江村3组12号，王秀英，独居老人。卧室一氧化碳浓度400 ppm。请立即开窗、撤离。',
    );
    expect(renderAlarm(facts({ gas: 'LEL', unit: '%LEL', value: 25, location: '厨房' }), opts).text).toBe(
      '燃气安全报警。柳江村3组12号，王秀英，独居老人。厨房可燃气体浓度达到爆炸下限的百分之25。请立即关阀、开窗、撤离，勿开关电器。',
    );
  });

  it('an e-mail has a subject and the facts line by line, with the time in TIME_ZONE and the card link', () => {
    const m = renderAlarm(facts(), { medium: 'email', lang: 'zh-CN', timeZone: TZ });
    expect(m.subject).toBe('【燃气报警】柳江村3组12号（王秀英，独居老人）卧室一氧化碳 400ppm 报警');
    expect(m.text.split('\n')).toEqual([
      '柳江村3组12号（王秀英，独居老人）卧室一氧化碳 400ppm 报警。',
      '检测值：400 ppm（报警值 300 ppm）',
      '报警时间：2026-11-23 08:03:00',
      '设备：bedroom-co · 卧室',
      '处置：请立即开窗、撤离。',
      `处置页面：${LINK}`,
      '请在平台上确认报警。',
    ]);
    const en = renderAlarm(facts(), { medium: 'chat', lang: 'en', timeZone: 'UTC' });
    expect(en.text).toContain('Raised at: 2026-11-23 00:03:00');
  });
});

describe('template parameters', () => {
  it('carry the facts by name, each cut to the providers\u2019 variable length', () => {
    const m = renderAlarm(facts({ place: '柳江村第三村民小组沿河东路老供销社后面第二排第十二号院' }), {
      medium: 'sms',
      lang: 'zh-CN',
      timeZone: TZ,
      paramMaxChars: 12,
    });
    expect(m.params).toMatchObject({
      address: '柳江村第三村民小组沿河…',
      occupants: '王秀英，独居老人',
      location: '卧室',
      gas: '一氧化碳',
      value: '400ppm',
      kind: '一氧化碳报警',
      time: '08:03',
      // A link is never cut: a shortened one leads nowhere.
      link: LINK,
    });
    expect(m.cut).toEqual(expect.arrayContaining(['param:address', 'param:household', 'param:event']));
  });
});

describe('one message for many alarms (storm control)', () => {
  it('says how many detectors, where, since when, and links the board', () => {
    const g = {
      kind: 'offline' as const,
      count: 12,
      place: '柳江村',
      since: RAISED,
      link: 'https://d.example/console/#/alarms',
    };
    const sms = renderGroup(g, { medium: 'sms', lang: 'zh-CN', timeZone: TZ, sign: '燃气安全' });
    expect(sms.text).toBe(
      '【燃气安全】柳江村12台报警器08:03起离线，可能停电或断网，请核实并回复1确认。详情 https://d.example/console/#/alarms',
    );
    expect(sms.params.count).toBe('12');
    const en = renderGroup({ ...g, place: 'Liujiang' }, { medium: 'email', lang: 'en', timeZone: TZ });
    expect(en.subject).toBe('[Gas alarm] 12 detectors offline in Liujiang');
  });
});

describe('a folded alarm (issue 18): a gateway, an area, a fault burst', () => {
  const folded = (over: Partial<Alarm>, fold: NonNullable<Alarm['fold']>): AlarmFacts =>
    alarmFacts(
      { ...alarm, site: null, gas: undefined, unit: undefined, severity: 'warning', ...over, fold },
      { consoleUrl: 'https://duty.example.org/console/' },
    );
  const fold = { area: 'tw-a', gateways: ['gw-7'], devices: [], peak: 200 };
  const burst = folded(
    {
      id: 'gw-7.fault-burst-comm_error.x',
      dev: 'gw-7',
      key: 'fault-burst:comm_error',
      rule: 'fault',
      value: 200,
    },
    { ...fold, scope: 'gateway', count: 200, fault: 'comm_error' },
  );
  const gateway = folded(
    { id: 'gw-7.gateway-offline.x', dev: 'gw-7', key: 'gateway-offline', rule: 'offline', value: 200 },
    { ...fold, scope: 'gateway', count: 200 },
  );
  const area = folded(
    { id: 'tw-a.area-offline.x', dev: 'tw-a', key: 'area-offline', rule: 'offline', value: 300 },
    { ...fold, scope: 'area', count: 300 },
  );
  const sms = { medium: 'sms' as const, lang: 'zh-CN' as const, timeZone: TZ, sign: '燃气安全' };

  it('an SMS says the gateway or the area, how many detectors and what to check, never one detector', () => {
    expect(renderAlarm({ ...burst, link: null }, sms).text).toBe(
      '【燃气安全】网关gw-7下200台报警器同一故障（comm_error）（08:03），请查总线、供电或近期固件升级并回复1确认。',
    );
    expect(renderAlarm({ ...gateway, link: null }, sms).text).toBe(
      '【燃气安全】网关gw-7下200台报警器08:03起离线，可能停电或断网，请核实并回复1确认。',
    );
    expect(renderAlarm({ ...area, link: null }, sms).text).toBe(
      '【燃气安全】片区tw-a内300台报警器08:03起同时离线，可能停电或断网，请核实并回复1确认。',
    );
    // An area with a name is told by it, not by its id.
    const named = alarmFacts(
      {
        ...alarm,
        id: 'tw-a.area-offline.x',
        dev: 'tw-a',
        key: 'area-offline',
        rule: 'offline',
        value: 300,
        site: null,
        gas: undefined,
        unit: undefined,
        severity: 'warning',
        fold: { ...fold, scope: 'area', count: 300 },
      },
      { areaName: (id) => (id === 'tw-a' ? '柳江村' : undefined) },
    );
    expect(renderAlarm(named, sms).text).toBe(
      '【燃气安全】柳江村内300台报警器08:03起同时离线，可能停电或断网，请核实并回复1确认。',
    );
    expect(renderAlarm(named, { ...sms, lang: 'en', sign: 'Gas Safety' }).text).toMatch(
      /^\[Gas Safety\] 柳江村: 300 detectors offline at once since 08:03/,
    );
    const en = renderAlarm({ ...burst, link: null }, { ...sms, lang: 'en', sign: 'Gas Safety' });
    expect(en.text).toBe(
      '[Gas Safety] gateway gw-7: 200 detectors behind it with the same fault (comm_error) (08:03). Check its bus, power or firmware. Reply 1 to acknowledge.',
    );
    expect(en.segments).toBeLessThanOrEqual(2);
    expect(renderAlarm(burst, sms).params).toMatchObject({ count: '200', device: 'gw-7' });
  });

  it('a call and an e-mail say it in the same words, without the engine\u2019s English', () => {
    expect(renderAlarm(burst, { medium: 'voice', lang: 'zh-CN', timeZone: TZ }).text).toBe(
      '燃气安全提醒。网关gw-7下200台报警器同一故障（comm_error）。请查总线、供电或近期固件升级。',
    );
    const mail = renderAlarm(area, { medium: 'email', lang: 'zh-CN', timeZone: TZ });
    expect(mail.subject).toBe('【燃气报警】片区tw-a内300台报警器同时离线');
    expect(mail.text.split('\n')).toEqual([
      '片区tw-a内300台报警器同时离线。',
      '报警时间：2026-11-23 08:03:00',
      '处置：可能停电或断网，请核实。',
      '处置页面：https://duty.example.org/console/#/alarms/tw-a.area-offline.x',
      '请在平台上确认报警。',
    ]);
    expect(renderAlarm(burst, { medium: 'chat', lang: 'en', timeZone: 'UTC' }).text).not.toMatch(
      /report the same fault/,
    );
  });
});
