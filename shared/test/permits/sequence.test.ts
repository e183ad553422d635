// The guided gas test (SPEC §7): where to sample, in which order, and when a reading counts.
import { describe, expect, it } from 'vitest';
import {
  GB30871,
  missingChecks,
  OSHA1910,
  type PermitType,
  readingSettled,
  requiredPositions,
  testSequence,
} from '../../src/permits/index.js';

const CS: PermitType = { kind: 'confined_space' };
const HOT: PermitType = { kind: 'hot_work', level: 'level1' };

describe('sampling points', () => {
  it('a confined space: one representative point, or top, middle and bottom of a large one', () => {
    expect(requiredPositions(CS)).toEqual(['representative']);
    expect(requiredPositions(CS, { large: true })).toEqual(['top', 'middle', 'bottom']);
  });

  it('hot work: within 10 m of the point, plus inside the vessel whose wall is worked on', () => {
    expect(requiredPositions(HOT)).toEqual(['within_10m']);
    expect(requiredPositions(HOT, { hotWorkSite: 'equipment_wall' })).toEqual([
      'within_10m',
      'inside_equipment',
    ]);
    expect(requiredPositions(HOT, { hotWorkSite: 'equipment_wall', large: true })).toEqual([
      'within_10m',
      'top',
      'middle',
      'bottom',
    ]);
    expect(requiredPositions(HOT, { hotWorkSite: 'inside_equipment' })).toEqual(['inside_equipment']);
  });
});

describe('test sequence', () => {
  it('at each position oxygen, then combustibles, then toxics in the order given', () => {
    const steps = testSequence(GB30871, CS, { large: true }, ['H2S', 'CO', 'LEL', 'O2', 'CO']);
    expect(steps.map((s) => `${s.position} ${s.gas} ${s.check}`)).toEqual(
      ['top', 'middle', 'bottom'].flatMap((p) => [
        `${p} O2 oxygen`,
        `${p} LEL combustible`,
        `${p} H2S toxic`,
        `${p} CO toxic`,
      ]),
    );
    expect(
      testSequence(OSHA1910, HOT, {}, ['CO', { name: '氢气', lelPercentVol: 4 }]).map((s) => s.check),
    ).toEqual(['combustible', 'toxic']);
  });

  it('says which required checks a detector cannot make', () => {
    expect(missingChecks(CS, {}, ['LEL', 'CO', 'H2S'])).toEqual(['oxygen']);
    expect(missingChecks(CS, {}, ['O2', 'LEL', 'CO', 'H2S'])).toEqual([]);
    expect(missingChecks(HOT, {}, ['LEL'])).toEqual([]);
    expect(missingChecks(HOT, {}, ['CO'])).toEqual(['combustible']);
    // Hot work inside equipment is also an entry into it.
    expect(missingChecks(HOT, { hotWorkSite: 'inside_equipment' }, ['LEL'])).toEqual(['oxygen', 'toxic']);
  });
});

describe('a reading counts after the response time at its position', () => {
  it('held exactly T90 counts, 1 ms less does not', () => {
    expect(readingSettled(0, 30_000, 30)).toBe(true);
    expect(readingSettled(0, 29_999, 30)).toBe(false);
    expect(() => readingSettled(0, 30_000, 0)).toThrowError(/positive number of seconds/);
  });
});
