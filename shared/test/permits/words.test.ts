// The words a tester and a safety officer read for each reason (SPEC §7), in Chinese as a plant's
// safety officer writes them and in English.
import { describe, expect, it } from 'vitest';
import { LOCKOUT_REASONS } from '../../src/maintenance.js';
import {
  fillPermitTemplate,
  formatPermitNumbers,
  gasCheckText,
  PERMIT_WORDS,
  permitRefusalText,
  permitTimingText,
} from '../../src/permit-words.js';
import {
  dailyAnalysisNeeded,
  type GasIdentity,
  GB30871,
  interruptionNeedsRetest,
  judgeReading,
  MEM13,
  OSHA1910,
  PERMIT_REASONS,
  PERMIT_REFUSALS,
  type PermitReading,
  type PermitRuleSet,
  permitStillValid,
  testStillValid,
} from '../../src/permits/index.js';

const MIN = 60_000;
const T0 = Date.parse('2026-03-02T09:00:00+08:00');

function texts(rule: PermitRuleSet, gas: GasIdentity, reading: PermitReading, enriched = false) {
  const j = judgeReading(rule, gas, reading, { oxygenEnriched: enriched });
  return {
    zh: j.checks.map((c) => gasCheckText('zh-CN', c)),
    en: j.checks.map((c) => gasCheckText('en', c)),
  };
}

describe('gas check words', () => {
  it('oxygen', () => {
    expect(texts(GB30871, 'O2', { value: 18.9, unit: '%vol' })).toEqual({
      zh: ['氧含量 18.9%，低于 19.5%'],
      en: ['Oxygen 18.9 %vol, below 19.5 %vol'],
    });
    expect(texts(GB30871, 'O2', { value: 21.4, unit: '%vol' })).toEqual({
      zh: ['氧含量 21.4%，高于 21%'],
      en: ['Oxygen 21.4 %vol, above 21 %vol'],
    });
    expect(texts(MEM13, 'O2', { value: 23.8, unit: '%vol' }, true)).toEqual({
      zh: ['氧含量 23.8%，高于富氧环境上限 23.5%'],
      en: ['Oxygen 23.8 %vol, above the 23.5 %vol allowed in an oxygen-enriched space'],
    });
    // Rounding never makes a failing value look like its limit.
    expect(texts(GB30871, 'O2', { value: 19.49, unit: '%vol' }).zh).toEqual(['氧含量 19.49%，低于 19.5%']);
    expect(texts(GB30871, 'O2', { value: 20.9, unit: '%vol' })).toEqual({ zh: [null], en: [null] });
  });

  it('combustibles, in %vol and %LEL, led by the unit the limit is written in', () => {
    expect(texts(GB30871, 'CH4', { value: 12, unit: '%LEL' })).toEqual({
      zh: ['甲烷浓度 0.6%（12%LEL），高于 0.5%（10%LEL）'],
      en: ['Methane 0.6 %vol (12 %LEL), above 0.5 %vol (10 %LEL)'],
    });
    expect(texts(GB30871, 'C3H8', { value: 10, unit: '%LEL' })).toEqual({
      zh: ['丙烷浓度 0.21%（10%LEL），高于 0.2%（9.52%LEL）'],
      en: ['Propane 0.21 %vol (10 %LEL), above 0.2 %vol (9.52 %LEL)'],
    });
    expect(texts(OSHA1910, 'CH4', { value: 10, unit: '%LEL' })).toEqual({
      zh: ['甲烷浓度 10%LEL（0.5%），未低于 10%LEL（0.5%）'],
      en: ['Methane 10 %LEL (0.5 %vol), not below 10 %LEL (0.5 %vol)'],
    });
    expect(texts(GB30871, { name: '氢气', lelPercentVol: 4 }, { value: 0.8, unit: '%vol' }).zh).toEqual([
      '氢气浓度 0.8%（20%LEL），高于 0.5%（12.5%LEL）',
    ]);
  });

  it('toxics, the value as read and the limit as the table gives it', () => {
    expect(texts(GB30871, 'H2S', { value: 8, unit: 'ppm' })).toEqual({
      zh: ['硫化氢浓度 8 ppm（11.3 mg/m³），高于最高容许浓度 10 mg/m³（7.06 ppm）'],
      en: ['H2S 8 ppm (11.3 mg/m³), above the MAC of 10 mg/m³ (7.06 ppm)'],
    });
    expect(texts(GB30871, 'CO', { value: 30, unit: 'ppm' }).zh).toEqual([
      '一氧化碳浓度 30 ppm（34.9 mg/m³），高于短时间接触容许浓度 30 mg/m³（25.8 ppm）',
    ]);
    expect(texts(OSHA1910, 'H2S', { value: 25, unit: 'ppm' }).en).toEqual([
      'H2S 25 ppm (34.8 mg/m³), above the ceiling PEL of 20 ppm (27.9 mg/m³)',
    ]);
    const bare: PermitRuleSet = { ...GB30871, toxic: { ...GB30871.toxic, limits: [] } };
    expect(texts(bare, 'CO2', { value: 400, unit: 'ppm' })).toEqual({
      zh: ['二氧化碳没有判定限值，请在本单位作业规则中设定'],
      en: ["CO2: no limit to judge it by; set one in the site's permit rules"],
    });
  });
});

describe('timing words', () => {
  const CS = { kind: 'confined_space' } as const;
  const HOT = { kind: 'hot_work', level: 'level2' } as const;

  it('says what to do next', () => {
    const stale = testStillValid(GB30871, CS, T0, T0 + 31 * MIN);
    expect(permitTimingText('zh-CN', stale)).toBe('气体分析合格已超过 30 分钟，须重新检测');
    expect(permitTimingText('en', stale)).toBe('More than 30 min since the gas test passed: test again');
    expect(permitTimingText('zh-CN', testStillValid(GB30871, CS, T0, T0 + 30 * MIN))).toBeNull();
    expect(permitTimingText('zh-CN', interruptionNeedsRetest(GB30871, CS, T0, T0 + 61 * MIN))).toBe(
      '作业中断超过 60 分钟，须重新进行气体分析，合格后方可恢复作业',
    );
    expect(permitTimingText('en', interruptionNeedsRetest(MEM13, CS, T0, T0 + 1))).toBe(
      'Work was interrupted: test again before resuming',
    );
    const night = Date.parse('2026-03-02T23:50:00+08:00');
    expect(
      permitTimingText('zh-CN', dailyAnalysisNeeded(GB30871, HOT, night, night + 20 * MIN, 'Asia/Shanghai')),
    ).toBe('每日动火前均应进行气体分析：上次分析在 2026-03-02，今天是 2026-03-03');
    expect(permitTimingText('zh-CN', permitStillValid(GB30871, HOT, T0, T0 + 73 * 60 * MIN))).toBe(
      '作业票已超过有效期，须重新办理',
    );
  });
});

describe('the words tables', () => {
  it('say every id in both languages, with the same placeholders', () => {
    const zh = PERMIT_WORDS['zh-CN'];
    const en = PERMIT_WORDS.en;
    for (const group of Object.keys(zh) as (keyof typeof zh)[]) {
      expect(Object.keys(en[group]), group).toEqual(Object.keys(zh[group]));
      for (const [key, text] of Object.entries(zh[group])) {
        const other = (en[group] as Record<string, string>)[key] as string;
        expect(text.trim().length, `${group}.${key}`).toBeGreaterThan(0);
        expect(other.trim().length, `${group}.${key}`).toBeGreaterThan(0);
        const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        expect(holes(other), `${group}.${key}`).toEqual(holes(text));
      }
    }
    expect(Object.keys(zh.reasons)).toEqual([...PERMIT_REASONS]);
    expect(Object.keys(zh.refusals)).toEqual([...PERMIT_REFUSALS]);
    expect(Object.keys(zh.lockouts)).toEqual([...LOCKOUT_REASONS]);
  });

  it("word the server's refusals with the ids among their params said too", () => {
    const transition = { code: 'invalid_transition', params: { state: 'approved', action: 'start' } };
    expect(permitRefusalText('zh-CN', transition)).toBe('作业票处于“已审批”状态，不能“开始作业”');
    expect(permitRefusalText('en', transition)).toBe(
      '“Start work” is not possible while the permit is “Approved”',
    );
    expect(
      permitRefusalText('zh-CN', {
        code: 'role_required',
        params: { action: 'approve', role: 'supervisor' },
      }),
    ).toBe('“审批”须由主管办理');
    const evacuated = { code: 'evacuated', params: { reason: 'reading_failed' } };
    expect(permitRefusalText('zh-CN', evacuated)).toBe(
      '作业因监测数据不合格中止：人员撤离后须重新进行气体分析，合格后方可作业',
    );
    // A detector in alarm: said from the alarm's facts, not the engine's English message.
    const alarm = (params: Record<string, string | number>) => ({
      code: 'detector_alarm',
      params: { device: '4g-01', message: 'H2S 25 ppm ≥ 15 ppm (confined space high alarm)', ...params },
    });
    const h2s = alarm({ kind: 'gas', gas: 'H2S', value: 25, threshold: 15, unit: 'ppm' });
    expect(permitRefusalText('zh-CN', h2s)).toBe('检测仪 4g-01 正在报警：硫化氢浓度 25 ppm（报警值 15 ppm）');
    expect(permitRefusalText('en', h2s)).toBe('Detector 4g-01 is in alarm: H2S 25 ppm (alarm level 15 ppm)');
    expect(permitRefusalText('zh-CN', alarm({ kind: 'fault' }))).toBe('检测仪 4g-01 正在报警：检测仪故障');
    // An alarm recorded before the facts were kept: its message, as it was.
    expect(permitRefusalText('zh-CN', alarm({}))).toBe(
      '检测仪 4g-01 正在报警：H2S 25 ppm ≥ 15 ppm (confined space high alarm)',
    );
    const cannot = {
      code: 'detector_cannot_test',
      params: { device: 'co-1', checks: 'oxygen,combustible,H2S' },
    };
    expect(permitRefusalText('zh-CN', cannot)).toBe('检测仪 co-1 不能检测氧含量、可燃气体、H2S');
    const unfit = {
      code: 'detector_unfit',
      params: { device: 'bw-1', reasons: 'bump_test_not_today,calibration_overdue' },
    };
    expect(permitRefusalText('zh-CN', unfit)).toBe(
      '检测仪 bw-1 不能用于作业前检测：今天还没做冲击测试、已超过标定有效期',
    );
    expect(permitRefusalText('en', unfit)).toBe(
      'Detector bw-1 may not be used for a gas test: not bump-tested today, calibration overdue',
    );
    // The rule set's own reasons come out as permitTimingText says them.
    expect(permitRefusalText('zh-CN', { code: 'test_too_old', params: { limit: 30 } })).toBe(
      '气体分析合格已超过 30 分钟，须重新检测',
    );
    expect(permitRefusalText('en', { code: 'unheard_of', params: {} })).toBe('unheard_of');
  });

  it('fill templates, leaving unknown holes as they are', () => {
    expect(fillPermitTemplate('{a} and {b}', { a: 1 })).toBe('1 and {b}');
  });

  it('format numbers by size, widening only to tell a value from its limit', () => {
    expect(formatPermitNumbers(150.26, 25.77)).toEqual(['150.3', '25.8']);
    expect(formatPermitNumbers(7.1, 7.0599)).toEqual(['7.1', '7.06']);
    expect(formatPermitNumbers(7.0601, 7.0599)).toEqual(['7.0601', '7.0599']);
    expect(formatPermitNumbers(1200, 1000)).toEqual(['1200', '1000']);
  });
});
