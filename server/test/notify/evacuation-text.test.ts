/**
 * The evacuation alert of a stopped permit, as each medium says it (notify/evacuation-text.ts):
 * what a site's attendant reads on a phone, hears on a call, or finds in the mailbox.
 */
import { describe, expect, it } from 'vitest';
import { type EvacuationFacts, renderEvacuation } from '../../src/notify/evacuation-text.js';
import { smsLength } from '../../src/notify/sms-length.js';

/** 2026-12-10 14:32 in Asia/Shanghai. */
const AT = Date.UTC(2026, 11, 10, 6, 32, 0);
const FACTS: EvacuationFacts = {
  permitId: 'P-20261210-0001',
  place: '3号污水检查井（柳江路与江滨路交叉口）',
  why: {
    'zh-CN': '监测数据不合格（硫化氢浓度 25 mg/m³，高于最高容许浓度 10 mg/m³）',
    en: 'a monitoring reading failed (H2S 25 mg/m³, above the ceiling of 10 mg/m³)',
  },
  at: AT,
  link: 'https://duty.example.org/#/permits/P-20261210-0001',
};
const opts = { timeZone: 'Asia/Shanghai', sign: '燃气安全' } as const;

describe('the evacuation alert', () => {
  it('an SMS says where, why, what to do and how to confirm, within two segments', () => {
    const zh = renderEvacuation(FACTS, { ...opts, medium: 'sms', lang: 'zh-CN' });
    expect(zh.text).toBe(
      '【燃气安全】3号污水检查井（柳江路与江滨路交叉口）作业已停止：监测数据不合格（硫化氢浓度 25 mg/m³，高于最高容许浓度 10 mg/m³）（14:32），请立即撤出全部作业人员并清点人数，重新检测合格前严禁进入。回复1确认。',
    );
    // Too long for two with the link: the link goes first (the event's template parameter is cut
    // to the 35 characters a provider's variable takes).
    expect(zh.cut).toEqual(['param:event', 'link']);
    expect(smsLength(zh.text).segments).toBeLessThanOrEqual(2);
    // An English site: plain GSM-7 characters, 153 a segment.
    const site = {
      ...FACTS,
      place: 'Manhole 3, River Rd',
      why: { ...FACTS.why, en: 'a monitoring reading failed (H2S 25 ppm, above the ceiling of 10 ppm)' },
    };
    const en = renderEvacuation(site, { ...opts, sign: 'Gas Safety', medium: 'sms', lang: 'en' });
    expect(en.text).toBe(
      '[Gas Safety] Work stopped at Manhole 3, River Rd: a monitoring reading failed (H2S 25 ppm, above the ceiling of 10 ppm) (14:32). Get everyone out now and count them; no one goes back in before a new gas test passes. Reply 1 to confirm. Details: https://duty.example.org/#/permits/P-20261210-0001',
    );
    expect(smsLength(en.text).segments).toBeLessThanOrEqual(2);
  });

  it('a short alert keeps its link; template parameters name the place and what happened', () => {
    const short = {
      ...FACTS,
      why: { 'zh-CN': '检测仪报警（检测仪 4g-01）', en: 'the detector alarmed' },
      link: 'https://aq.cn/#/permits/P1',
    };
    const zh = renderEvacuation(short, { ...opts, medium: 'sms', lang: 'zh-CN' });
    expect(zh.cut).toEqual([]);
    expect(zh.text.endsWith('回复1确认。详情 https://aq.cn/#/permits/P1')).toBe(true);
    expect(zh.params).toMatchObject({
      household: '3号污水检查井（柳江路与江滨路交叉口）',
      event: '作业已停止：检测仪报警（检测仪 4g-01）',
      kind: '紧急撤离',
      time: '14:32',
    });
  });

  it('a call reads it out and asks for key 1; an e-mail has a subject and the permit', () => {
    const call = renderEvacuation(FACTS, { ...opts, medium: 'voice', lang: 'zh-CN' });
    expect(call.text).toMatch(
      /^紧急撤离通知。3号污水检查井（柳江路与江滨路交叉口）作业已停止，原因是监测数据不合格/,
    );
    expect(call.text.endsWith('收到请按1。')).toBe(true);
    const mail = renderEvacuation(FACTS, { ...opts, medium: 'email', lang: 'en' });
    expect(mail.subject).toBe('EVACUATE: work stopped at 3号污水检查井（柳江路与江滨路交叉口）');
    expect(mail.text.split('\n')).toEqual([
      'Work stopped at 3号污水检查井（柳江路与江滨路交叉口）: a monitoring reading failed (H2S 25 mg/m³, above the ceiling of 10 mg/m³) (2026-12-10 14:32:00).',
      'Get everyone out now and count them; no one goes back in before a new gas test passes.',
      'Permit P-20261210-0001',
      'Details: https://duty.example.org/#/permits/P-20261210-0001',
    ]);
  });
});
