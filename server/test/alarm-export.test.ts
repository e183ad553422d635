import { describe, expect, it } from 'vitest';
import { csvField } from '../src/alarm-export/csv.js';
import { exportFileName } from '../src/alarm-export/export.js';
import { columnLetter } from '../src/alarm-export/xlsx.js';
import { canonicalZone, ZoneClock } from '../src/zone.js';

/** The pure parts of the alarm export; alarm-history.test.ts runs it whole through the server. */
describe('export times', () => {
  it('writes ISO 8601 with the offset the zone has at that instant, across summer time', () => {
    const berlin = new ZoneClock('Europe/Berlin');
    expect(berlin.iso(Date.parse('2026-01-15T12:00:00Z'))).toBe('2026-01-15T13:00:00+01:00');
    expect(berlin.iso(Date.parse('2026-07-15T12:00:00Z'))).toBe('2026-07-15T14:00:00+02:00');
    // The last second before the spring change, and the first after it.
    expect(berlin.iso(Date.parse('2026-03-29T00:59:59Z'))).toBe('2026-03-29T01:59:59+01:00');
    expect(berlin.iso(Date.parse('2026-03-29T01:00:00Z'))).toBe('2026-03-29T03:00:00+02:00');
    expect(new ZoneClock('America/St_Johns').iso(Date.parse('2026-01-15T12:00:00Z'))).toBe(
      '2026-01-15T08:30:00-03:30',
    );
    expect(new ZoneClock('UTC').iso(Date.parse('2026-11-23T10:00:00.750Z'))).toBe(
      '2026-11-23T10:00:00+00:00',
    );
  });

  it("gives Excel the zone's wall clock, and file names the local day", () => {
    const shanghai = new ZoneClock('Asia/Shanghai');
    const ts = Date.parse('2026-11-23T16:30:00Z');
    expect(shanghai.wall(ts).toISOString()).toBe('2026-11-24T00:30:00.000Z');
    expect(shanghai.stamp(Date.parse('2026-11-15T16:00:00Z'))).toBe('20261116');
    expect(shanghai.stamp(ts)).toBe('20261124T0030');
    expect(
      exportFileName(
        'xlsx',
        shanghai,
        { from: Date.parse('2026-11-16T00:00:00+08:00'), to: Date.parse('2026-11-23T00:00:00+08:00') },
        0,
      ),
    ).toBe('gaswatch-alarms-20261116-20261123.xlsx');
    expect(exportFileName('csv', shanghai, {}, Date.parse('2026-11-23T02:05:00Z'))).toBe(
      'gaswatch-alarms-start-20261123T1005.csv',
    );
  });

  it('takes IANA zone names in any case, and nothing else', () => {
    expect(canonicalZone('asia/shanghai')).toBe('Asia/Shanghai');
    expect(canonicalZone('UTC')).toBe('UTC');
    expect(canonicalZone('Mars/Olympus')).toBeNull();
    expect(canonicalZone('+08:00')).not.toBe('Asia/Shanghai');
  });
});

describe('CSV fields (RFC 4180, OWASP CSV injection)', () => {
  const zone = new ZoneClock('Asia/Shanghai');
  it('quotes a comma, a quote and a line break, doubling quotes', () => {
    expect(csvField('plain', 'text', zone)).toBe('plain');
    expect(csvField('a, b', 'text', zone)).toBe('"a, b"');
    expect(csvField('say "hi"', 'text', zone)).toBe('"say ""hi"""');
    expect(csvField('one\r\ntwo', 'text', zone)).toBe('"one\r\ntwo"');
    expect(csvField('中文，全角逗号', 'text', zone)).toBe('中文，全角逗号');
    expect(csvField(null, 'text', zone)).toBe('');
  });

  it('neutralises text a spreadsheet would run as a formula, not numbers', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r'])
      expect(csvField(`${start}1+1`, 'text', zone).replace(/^"/, '')).toMatch(/^'/);
    expect(csvField('=SUM(A1,A2)', 'text', zone)).toBe(`"'=SUM(A1,A2)"`);
    expect(csvField(-0.5, 'number', zone)).toBe('-0.5');
    expect(csvField('a=b', 'text', zone)).toBe('a=b');
  });

  it('writes a time as ISO 8601 with the offset', () => {
    expect(csvField(Date.parse('2026-11-23T10:00:00Z'), 'time', zone)).toBe('2026-11-23T18:00:00+08:00');
  });
});

it('names Excel columns A … Z, AA …', () => {
  expect([1, 26, 27, 52, 53, 702, 703].map(columnLetter)).toEqual(['A', 'Z', 'AA', 'AZ', 'BA', 'ZZ', 'AAA']);
});
