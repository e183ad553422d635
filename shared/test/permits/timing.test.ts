// The clocks of a permit (SPEC §7): "within 30 min" includes 30:00 and not 30:00.001; "more than
// 60 min" re-tests at 60:00.001 and not at 60:00; hot work re-tests each local day.
import { describe, expect, it } from 'vitest';
import {
  dailyAnalysisNeeded,
  GB30871,
  interruptionNeedsRetest,
  localDay,
  MEM13,
  monitoringFor,
  nextMonitoringRecordDue,
  OSHA1910,
  type PermitType,
  permitClassOf,
  permitStillValid,
  permitValidUntil,
  recordsKeptUntil,
  testStillValid,
} from '../../src/permits/index.js';

const MIN = 60_000;
const H = 60 * MIN;
const T0 = Date.parse('2026-03-02T09:00:00+08:00');
const CS: PermitType = { kind: 'confined_space' };
const SPECIAL: PermitType = { kind: 'hot_work', level: 'special' };
const L1: PermitType = { kind: 'hot_work', level: 'level1' };
const L2: PermitType = { kind: 'hot_work', level: 'level2' };

describe('the 30-min window from a passed test to the start', () => {
  for (const rule of [GB30871, MEM13, OSHA1910])
    for (const type of [CS, SPECIAL, L1, L2])
      it(`${rule.id} ${type.kind}${'level' in type ? ` ${type.level}` : ''}: 30:00 starts, 30:00.001 does not`, () => {
        expect(testStillValid(rule, type, T0, T0 + 30 * MIN)).toEqual({
          valid: true,
          reason: null,
          windowMin: 30,
          elapsedMs: 30 * MIN,
          deadline: T0 + 30 * MIN,
          source: rule.testWindowMin[permitClassOf(type)].source,
        });
        expect(testStillValid(rule, type, T0, T0 + 30 * MIN + 1)).toMatchObject({
          valid: false,
          reason: 'test_too_old',
        });
      });

  it('a start at the moment of the test is within it; before it is refused', () => {
    expect(testStillValid(GB30871, CS, T0, T0).valid).toBe(true);
    expect(testStillValid(GB30871, CS, T0, T0 - 1)).toMatchObject({
      valid: false,
      reason: 'start_before_test',
    });
  });

  it('refuses a time that is not a number', () => {
    expect(() => testStillValid(GB30871, CS, Number.NaN, T0)).toThrowError(/passedAt must be a time/);
  });
});

describe('an interruption that needs a new test', () => {
  const cases: [string, PermitType, number][] = [
    ['confined space', CS, 60],
    ['特级', SPECIAL, 30],
    ['一级', L1, 30],
    ['二级', L2, 60],
  ];
  for (const [name, type, limit] of cases)
    it(`GB 30871: ${name} resumes after ${limit} min, re-tests after ${limit} min 1 ms and ${limit + 1} min`, () => {
      expect(interruptionNeedsRetest(GB30871, type, T0, T0 + limit * MIN)).toMatchObject({
        retest: false,
        reason: null,
        limitMin: limit,
      });
      expect(interruptionNeedsRetest(GB30871, type, T0, T0 + limit * MIN + 1)).toMatchObject({
        retest: true,
        reason: 'interruption_too_long',
        limitMin: limit,
        interruptedMs: limit * MIN + 1,
      });
      expect(interruptionNeedsRetest(GB30871, type, T0, T0 + (limit + 1) * MIN).retest).toBe(true);
    });

  it('Order 13: any interruption re-tests, even 1 ms; none does not', () => {
    for (const type of [CS, SPECIAL, L2]) {
      expect(interruptionNeedsRetest(MEM13, type, T0, T0 + 1)).toMatchObject({
        retest: true,
        reason: 'interrupted',
        limitMin: 0,
      });
      expect(interruptionNeedsRetest(MEM13, type, T0, T0).retest).toBe(false);
    }
    expect(interruptionNeedsRetest(MEM13, CS, T0, T0 + 1).source).toContain('any interruption');
  });

  it('refuses a resumption before the suspension', () => {
    expect(() => interruptionNeedsRetest(GB30871, CS, T0, T0 - 1)).toThrowError(/cannot resume before/);
  });
});

describe('hot work needs a new analysis each day, in the site’s time zone', () => {
  const tz = 'Asia/Shanghai';
  const at = (local: string) => Date.parse(`${local}+08:00`);

  it('local days in Asia/Shanghai, not UTC', () => {
    expect(localDay(at('2026-03-02T23:59:59.999'), tz)).toBe('2026-03-02');
    expect(localDay(at('2026-03-03T00:00:00'), tz)).toBe('2026-03-03');
    expect(localDay(at('2026-03-03T00:00:00'), 'UTC')).toBe('2026-03-02');
    expect(() => localDay(T0, 'Mars/Olympus')).toThrowError(/unknown time zone/);
  });

  it('a test at 23:50 carries hot work to 23:59 but not to 00:10 (same UTC day)', () => {
    const test = at('2026-03-02T23:50:00');
    for (const type of [SPECIAL, L1, L2]) {
      expect(dailyAnalysisNeeded(GB30871, type, test, at('2026-03-02T23:59:00'), tz)).toMatchObject({
        retest: false,
        reason: null,
      });
      expect(dailyAnalysisNeeded(GB30871, type, test, at('2026-03-03T00:10:00'), tz)).toEqual({
        retest: true,
        reason: 'new_day',
        lastTestDay: '2026-03-02',
        startDay: '2026-03-03',
        source: 'GB 30871-2022 5.3.1d',
      });
    }
    // In UTC both are 2026-03-02 (15:50Z, 16:10Z): the zone is what decides.
    expect(dailyAnalysisNeeded(GB30871, L2, test, at('2026-03-03T00:10:00'), 'UTC').retest).toBe(false);
  });

  it('a confined space has no daily rule (its permit lasts at most 24 h)', () => {
    const test = at('2026-03-02T23:50:00');
    expect(dailyAnalysisNeeded(GB30871, CS, test, at('2026-03-03T00:10:00'), tz).retest).toBe(false);
  });
});

describe('validity of a permit', () => {
  const cases: [PermitType, number][] = [
    [CS, 24],
    [SPECIAL, 8],
    [L1, 8],
    [L2, 72],
  ];
  for (const rule of [GB30871, MEM13])
    for (const [type, hours] of cases)
      it(`${rule.id} ${type.kind}${'level' in type ? ` ${type.level}` : ''}: valid through ${hours} h, expired 1 ms after`, () => {
        expect(permitValidUntil(rule, type, T0)).toMatchObject({ until: T0 + hours * H, maxH: hours });
        expect(permitStillValid(rule, type, T0, T0 + hours * H)).toMatchObject({ valid: true, reason: null });
        expect(permitStillValid(rule, type, T0, T0 + hours * H + 1)).toMatchObject({
          valid: false,
          reason: 'permit_expired',
        });
      });

  it('a planned end sooner than the longest validity ends it sooner; a later one does not extend it', () => {
    expect(permitValidUntil(GB30871, CS, T0, T0 + 4 * H).until).toBe(T0 + 4 * H);
    expect(permitValidUntil(GB30871, CS, T0, T0 + 48 * H).until).toBe(T0 + 24 * H);
    expect(() => permitValidUntil(GB30871, CS, T0, T0 - 1)).toThrowError(/end before it starts/);
  });

  it('OSHA: the job’s duration, so the planned end is required and is the end', () => {
    expect(permitValidUntil(OSHA1910, CS, T0, T0 + 30 * H)).toMatchObject({ until: T0 + 30 * H, maxH: null });
    expect(() => permitValidUntil(OSHA1910, CS, T0)).toThrowError(/planned end is required/);
  });
});

describe('monitoring and records', () => {
  it('GB 30871: a confined space is watched continuously, a record at least every 2 h', () => {
    expect(monitoringFor(GB30871, CS)).toEqual({
      continuous: true,
      recordEveryMs: 2 * H,
      source: 'GB 30871-2022 6.5',
    });
    expect(nextMonitoringRecordDue(GB30871, CS, T0)).toBe(T0 + 2 * H);
  });

  it('GB 30871: 特级 hot work continuously; 一级 and 二级 not', () => {
    expect(monitoringFor(GB30871, SPECIAL)).toMatchObject({ continuous: true, recordEveryMs: null });
    expect(monitoringFor(GB30871, L1).continuous).toBe(false);
    expect(monitoringFor(GB30871, L2).continuous).toBe(false);
    expect(nextMonitoringRecordDue(GB30871, L1, T0)).toBeNull();
  });

  it('records are kept at least a calendar year after closing; 29 Feb keeps a day longer', () => {
    for (const rule of [GB30871, MEM13, OSHA1910]) {
      expect(recordsKeptUntil(rule, Date.parse('2026-03-02T10:00:00Z'))).toBe(
        Date.parse('2027-03-02T10:00:00Z'),
      );
      expect(recordsKeptUntil(rule, Date.parse('2028-02-29T10:00:00Z'))).toBe(
        Date.parse('2029-03-01T10:00:00Z'),
      );
    }
  });
});
